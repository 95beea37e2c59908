/**
 * Figure 2 (original idx 19, figure2_mechanism) from our own results, nothing typed in.
 * Panel A: unrepaired vs attention-repaired loss damage per mode from *our E4 records* — both bars
 * from the same model and run (the original's "Unrepaired" bars showed Pythia-1.4B's E9 scalars by
 * mistake). The "−x%" labels are E4's recovery: the mean of the per-seed recoveries (as the original).
 * Panel B: recovery per layer set from E6 (top / middle / bottom, random = mean ± std of the three
 * random sets' means) — the original took "Top 4" from E5 k=4 instead; pass `topFromE5` for that.
 * Bracket: top vs bottom, E6's one-sided independent t.
 */
import * as path from 'node:path';
import { PlotlyFigure, exportFigures, figure2, type Figure2Input } from '../../plots';
import { figuresDir } from '../../util/paths';
import { Study } from '../study';
import { E4Summary } from './e4-repair';
import { E5Summary, E6Summary } from './e5-e6-layers';

export function figure2Input(
  e4: E4Summary,
  e6: E6Summary,
  opts: { e5?: E5Summary; topFromE5?: boolean } = {},
): Figure2Input {
  const get = (n: string) => e6.sets.find((x) => x.name === n)!;
  const top = get('top');
  let topBar = { label: top.label, mean: top.recovery.mean, std: top.recovery.std };
  if (opts.topFromE5 && opts.e5) {
    const k = top.layers.length;
    const row = opts.e5.rows.find((r) => r.k === k);
    if (row)
      topBar = { label: `${top.label.split(' (')[0]} (E5 k=${k})`, mean: row.recovery.mean, std: row.recovery.std };
  }
  const bar = (n: string) => ({ label: get(n).label, mean: get(n).recovery.mean, std: get(n).recovery.std });
  const randomLabel = 'Random ×3 (mean)';
  return {
    repair: {
      angular: {
        unrepaired: { mean: e4.angle.damage.mean, std: e4.angle.damage.std },
        repaired: { mean: e4.angle.repairedDamage.mean, std: e4.angle.repairedDamage.std },
        recovery: e4.angle.recoverySeed.mean,
      },
      magnitude: {
        unrepaired: { mean: e4.magnitude.damage.mean, std: e4.magnitude.damage.std },
        repaired: { mean: e4.magnitude.repairedDamage.mean, std: e4.magnitude.repairedDamage.std },
        recovery: e4.magnitude.recoverySeed.mean,
      },
    },
    layerSets: [topBar, bar('middle'), bar('bottom'), { label: randomLabel, mean: e6.randomMean, std: e6.randomStd }],
    bracket: Number.isFinite(e6.topVsBottom.pGreater)
      ? { from: topBar.label, to: get('bottom').label, p: e6.topVsBottom.pGreater }
      : undefined,
  };
}

export function figure2FromResults(
  e4: E4Summary,
  e6: E6Summary,
  opts: { e5?: E5Summary; topFromE5?: boolean } = {},
): PlotlyFigure {
  return figure2(figure2Input(e4, e6, opts));
}

/** Writes figures/<model>[-quick]/figure2_mechanism.{svg,pdf,png}; returns the paths. */
export function exportFigure2(
  study: Study,
  fig: PlotlyFigure,
  formats: ('svg' | 'pdf' | 'png')[] = ['svg', 'pdf', 'png'],
): Promise<string[]> {
  const base = path.join(figuresDir(), study.name + (study.quick ? '-quick' : ''), 'figure2_mechanism');
  return exportFigures([{ figure: fig, basePath: base }], { formats });
}
