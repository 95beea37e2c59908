/**
 * Projected wall time of whole experiments from a measured sweep: the measured seconds per plain and
 * per perturbed pass of a sentence subset, scaled to each experiment's items and to other model
 * sizes by the FLOP formula (measure.ts). Projection only: a size that was not measured is never run.
 */
import { E1_MODES } from '../experiments/e1-sweep';
import { ROBUSTNESS_ANGLE_MODES } from '../experiments/robustness';
import { PUBLISHED } from '../experiments/settings';
import { flops } from './measure';
import { paramCounts, PythiaSpec } from './pythia';

/** What an experiment computes: its items' token lengths and how many passes over them. */
export interface WorkProfile {
  experiment: string;
  lengths: number[];
  plainPasses: number;
  perturbedPasses: number;
  note?: string;
}

export interface Projection {
  experiment: string;
  model: string;
  provider: string;
  /** 'measured' (this model's own per-pass cost) or how it was scaled */
  method: string;
  passes: number;
  /** null for sums of experiments over different items */
  tokensPerPass: number | null;
  /** passes + one session creation per distinct plan kind (scaled by parameters) */
  seconds: number;
  hours: number;
  note?: string;
}

export interface ProjectionInput {
  measured: PythiaSpec;
  /** token lengths of the measured passes */
  measuredLengths: number[];
  plainSecondsPerPass: number;
  /** mean over the perturbed conditions (with prefix reuse: the prefix computed once is spread over them) */
  perturbedSecondsPerPass: number;
  /** session creation + graph building of the measured run */
  sessionSeconds: number;
  provider: string;
  work: WorkProfile[];
  targets: PythiaSpec[];
}

export function projectExperiments(p: ProjectionInput): Projection[] {
  const out: Projection[] = [];
  const measuredFlops = flops(p.measured, p.measuredLengths);
  for (const t of p.targets)
    for (const w of p.work) {
      const scale = flops(t, w.lengths) / measuredFlops;
      const sessions = p.sessionSeconds * (paramCounts(t).total / paramCounts(p.measured).total);
      const seconds =
        scale * (w.plainPasses * p.plainSecondsPerPass + w.perturbedPasses * p.perturbedSecondsPerPass) + sessions;
      out.push({
        experiment: w.experiment,
        model: t.name,
        provider: p.provider,
        method:
          t.name === p.measured.name
            ? `measured on ${p.measured.name} (${p.measuredLengths.length}-sentence subset), scaled to the experiment's items by FLOPs`
            : `${p.measured.name} per-pass cost × FLOP ratio ${(flops(t, p.measuredLengths) / measuredFlops).toFixed(2)} (not run)`,
        passes: w.plainPasses + w.perturbedPasses,
        tokensPerPass: w.lengths.reduce((a, b) => a + b, 0),
        seconds,
        hours: seconds / 3600,
        note: w.note,
      });
    }
  return out;
}

/** Sum of the projections of several experiments, per model (e.g. the published E1 + E2). */
export function totalProjection(ps: Projection[], experiments: string[], name: string, note: string): Projection[] {
  const models = [...new Set(ps.map((p) => p.model))];
  return models.map((model) => {
    const parts = ps.filter((p) => p.model === model && experiments.includes(p.experiment));
    const seconds = parts.reduce((s, p) => s + p.seconds, 0);
    return {
      experiment: name,
      model,
      provider: parts[0]?.provider ?? '',
      method: `sum of ${parts.map((p) => p.experiment).join(' + ')}`,
      passes: parts.reduce((s, p) => s + p.passes, 0),
      tokensPerPass: null,
      seconds,
      hours: seconds / 3600,
      note,
    };
  });
}

/**
 * The published experiments' work from their settings: E1 (baseline + seeds × δ × modes over the
 * WikiText sentences), E2 (the same grid over the BLiMP pool) and the rest of `reproduce`'s main
 * step (the four BLiMP baseline readings, the robustness sweeps over 1 magnitude + 4 angle modes).
 */
export function publishedWork(wikitext: number[], blimp: number[] | null): WorkProfile[] {
  const e1 = wikitext.slice(0, PUBLISHED.wikitextCap);
  const grid = (seeds: number, deltas: number, modes: number) => seeds * deltas * modes;
  const robustModes = 1 + ROBUSTNESS_ANGLE_MODES.length;
  const w: WorkProfile[] = [
    {
      experiment: 'E1',
      lengths: e1,
      plainPasses: 1,
      perturbedPasses: grid(PUBLISHED.e1.seeds, PUBLISHED.e1.deltas.length, E1_MODES.length),
    },
    {
      experiment: 'robustness-loss',
      lengths: e1,
      plainPasses: 1,
      perturbedPasses: grid(PUBLISHED.e1.seeds, 2, robustModes),
      note: 'δ 1 and 5, magnitude + 4 angle variants',
    },
  ];
  if (blimp)
    w.push(
      {
        experiment: 'E2',
        lengths: blimp,
        plainPasses: 1,
        perturbedPasses: grid(PUBLISHED.e2.seeds, PUBLISHED.e2.deltas.length, E1_MODES.length),
      },
      {
        experiment: 'blimp-baseline-variants',
        lengths: blimp,
        plainPasses: 4,
        perturbedPasses: 0,
        note: 'paradigm suffix × pooling, unperturbed',
      },
      {
        experiment: 'robustness-blimp',
        lengths: blimp,
        plainPasses: 1,
        perturbedPasses: grid(PUBLISHED.e2.seeds, 1, robustModes),
        note: 'δ 5, magnitude + 4 angle variants',
      },
    );
  return w;
}

/** E1, E2 and the main step of `reproduce` (sum), per model. */
export function withTotals(ps: Projection[]): Projection[] {
  return [
    ...ps,
    ...totalProjection(
      ps,
      ['E1', 'E2', 'blimp-baseline-variants', 'robustness-loss', 'robustness-blimp'],
      'reproduce (main step)',
      'E1 + E2 + BLiMP baseline variants + robustness; the mechanism (E3–E11) and beyond-the-paper steps are not counted',
    ),
  ];
}
