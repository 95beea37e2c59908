/** Tables of the mechanism experiments (E3–E7, E9, E11) for notebooks, CLI and REPORT.md. */
import { ResultsTable, fmtMeanStd, resultsTable } from '../../tables';
import type { TTestResult } from '../../stats';
import { CompareRow, SentenceTest } from './common';
import { E3Summary } from './e3-entropy';
import { E4Summary, ModeRepair } from './e4-repair';
import { E5Summary, E6Summary } from './e5-e6-layers';
import { E7Summary } from './e7-qk';
import { E9Summary, E11Summary, EquivalenceRow } from './e9-e11-pathways';

const p = (x: number) => (!Number.isFinite(x) ? String(x) : x < 1e-4 ? x.toExponential(2) : x.toFixed(4));
/** "t=…, p=…" of a test, or its "n/a: needs ≥ 2 seeds" when the sample was too small. */
const tp = (test: TTestResult, digits: number, which: 'pTwoSided' | 'pGreater' | 'pLess', label: string): string =>
  test.na ?? `t=${test.t.toFixed(digits)}, ${label}=${p(test[which])}`;

const ci = (c: [number, number], d = 3) => `[${c[0].toFixed(d)}, ${c[1].toFixed(d)}]`;
const sent = (s: SentenceTest, d = 3) =>
  `${tp(s.test, 2, 'pTwoSided', 'p₂')}, d_z=${s.dz.toFixed(2)}, Δ=${s.meanDiff.toFixed(d)} ${ci(s.ci, d)}`;

/** Published vs reproduced (any experiment's `compare` rows). */
export function compareTable(rows: CompareRow[]): ResultsTable {
  return resultsTable(
    rows.map((r) => ({
      experiment: r.experiment,
      quantity: r.quantity,
      published: r.published === null ? '—' : String(r.published),
      reproduced:
        Math.abs(r.reproduced) < 1e-3 && r.reproduced !== 0 ? r.reproduced.toExponential(2) : r.reproduced.toFixed(4),
      note: r.note ?? '',
    })),
    { published: { align: 'right' }, reproduced: { align: 'right' } },
  );
}

export function e3Table(s: E3Summary): ResultsTable {
  const row = (cond: string, v: { mean: number; std: number } | null, d: { mean: number; std: number } | null) => ({
    condition: cond,
    entropy: v ? fmtMeanStd(v.mean, v.std, 4) : s.baseline.toFixed(4),
    delta: d ? fmtMeanStd(d.mean, d.std, 4) : '',
  });
  return resultsTable(
    [
      row('baseline', null, null),
      row('angle', s.angle, s.dAngle),
      row('magnitude', s.magnitude, s.dMagnitude),
      {
        condition: `ratio ${s.ratio.toFixed(2)}×; seeds: ${tp(s.test, 3, 'pGreater', 'p one-sided')}, the original's d=${s.dOriginal.toFixed(2)}, d_z=${s.dzSeeds.toFixed(2)}`,
        entropy: '',
        delta: '',
      },
      { condition: `${s.nSentences} sentences (Δ_ang − Δ_mag): ${sent(s.sentence, 4)}`, entropy: '', delta: '' },
    ],
    {
      condition: { label: `E3 (${s.seeds} seeds × ${s.nSentences} sentences)` },
      entropy: { label: 'mean entropy (nats)' },
      delta: { label: 'ΔH vs baseline' },
    },
  );
}

export function e3LayerTable(s: E3Summary): ResultsTable {
  return resultsTable(
    s.layers.map((l) => ({
      layer: `${l.layer}${l.perturbed ? '*' : ''}`,
      dA: l.dAngle,
      dM: l.dMagnitude,
      ratio: l.ratio === null ? '' : l.ratio.toFixed(2),
      pubA: l.publishedAngle ?? '',
      pubM: l.publishedMagnitude ?? '',
    })),
    {
      layer: { label: 'layer (* perturbed)' },
      dA: { label: 'ΔH angle', digits: 4 },
      dM: { label: 'ΔH magnitude', digits: 4 },
      ratio: { label: 'ratio' },
      pubA: { label: 'published ΔH angle' },
      pubM: { label: 'published ΔH magnitude' },
    },
  );
}

function repairRows(m: ModeRepair, name: string) {
  return [
    {
      condition: `${name} unrepaired`,
      loss: fmtMeanStd(m.unrepaired.mean, m.unrepaired.std, 3),
      damage: `+${m.damage.mean.toFixed(3)}`,
      recovery: '',
    },
    {
      condition: `${name} + attention repair`,
      loss: fmtMeanStd(m.repaired.mean, m.repaired.std, 3),
      damage: `+${m.repairedDamage.mean.toFixed(3)}`,
      recovery: `per seed ${fmtMeanStd(m.recoverySeed.mean, m.recoverySeed.std, 1)}%; sentences ${m.recoverySentences.estimate.toFixed(1)}% ${ci(m.recoverySentences.ci, 1)}`,
    },
  ];
}

export function e4Table(s: E4Summary): ResultsTable {
  return resultsTable(
    [
      { condition: 'baseline', loss: s.baseline.toFixed(3), damage: '', recovery: '' },
      ...repairRows(s.angle, 'angle'),
      ...repairRows(s.magnitude, 'magnitude'),
    ],
    {
      condition: { label: `E4 (${s.seeds} seeds × ${s.nSentences} sentences)` },
      loss: { label: 'loss' },
      damage: { label: 'damage' },
      recovery: { label: 'recovery (mean of per-seed recoveries ± std; standard Σ(U−R)/Σ(U−B), 95% CI)' },
    },
  );
}

export function e4TestsTable(s: E4Summary): ResultsTable {
  return resultsTable(
    [
      {
        test: '1: angle D vs D′ (paired, two-sided)',
        seeds: `${tp(s.angle.test, 3, 'pTwoSided', 'p')}, ${fmtMeanStd(s.angle.recoveredNats.mean, s.angle.recoveredNats.std, 3)} nats`,
        sentences: sent(s.angle.sentence),
      },
      {
        test: '2: magnitude D vs D′ (paired, two-sided)',
        seeds: `${tp(s.magnitude.test, 3, 'pTwoSided', 'p')}, ${fmtMeanStd(s.magnitude.recoveredNats.mean, s.magnitude.recoveredNats.std, 3)} nats`,
        sentences: sent(s.magnitude.sentence),
      },
      {
        test: '3: recovery angle > magnitude (one-sided)',
        seeds: `${tp(s.test3, 3, 'pGreater', 'p')}`,
        sentences: `${sent(s.test3Sentence, 1)} (recovery pp, ratio of means)`,
      },
    ],
    {
      test: { label: 'E4 test' },
      seeds: { label: "seed level (as the original's attention-repair cell)" },
      sentences: { label: 'sentence level (seed-averaged, paired)' },
    },
  );
}

export function e5HeadsTable(s: E5Summary, top = 20): ResultsTable {
  return resultsTable(
    s.heads.slice(0, top).map((h) => ({ layer: h.layer, head: h.head, base: h.base, angle: h.angle, delta: h.delta })),
    { base: { digits: 4 }, angle: { digits: 4 }, delta: { label: 'ΔH', digits: 4 } },
  );
}

export function e5Table(s: E5Summary): ResultsTable {
  return resultsTable(
    s.rows.map((r) => ({
      k: r.k,
      layers: r.layers.join(', '),
      recovery: fmtMeanStd(r.recovery.mean, r.recovery.std, 1),
      pct: r.pctOfFull === null ? '' : `${r.pctOfFull.toFixed(0)}%`,
      pct284: `${r.pctOfPublishedFull.toFixed(0)}%`,
      sentence: `${r.sentence.estimate.toFixed(1)} ${ci(r.sentence.ci, 1)}`,
      published: r.published
        ? `${fmtMeanStd(r.published.mean, r.published.std, 1)} (${r.published.pctOfFull}%)`
        : r.publishedLayers
          ? `other layers (published: ${r.publishedLayers.join(', ')})`
          : '',
    })),
    {
      k: { label: 'k' },
      layers: { label: 'repaired layers (top-k)' },
      recovery: { label: 'recovery % (mean of per-seed recoveries, no ε)' },
      pct: { label: `% of full (÷ our E4${s.fullRepair === null ? '' : ` = ${s.fullRepair.toFixed(1)}%`})` },
      pct284: { label: '% of full (÷ published 28.4)' },
      sentence: { label: 'sentence recovery % [95% CI]' },
      published: { label: 'published (% of 28.4)' },
    },
  );
}

export function e6Table(s: E6Summary): ResultsTable {
  const rows: Record<string, unknown>[] = s.sets.map((x) => ({
    set: x.label,
    recovery: fmtMeanStd(x.recovery.mean, x.recovery.std, 1),
    sentence: `${x.sentence.estimate.toFixed(1)} ${ci(x.sentence.ci, 1)}`,
    published: x.published
      ? `${fmtMeanStd(x.published.mean, x.published.std, 1)} [${x.published.layers.join(',')}]`
      : '',
  }));
  rows.push(
    {
      set: 'Random (mean ± std of set means)',
      recovery: fmtMeanStd(s.randomMean, s.randomStd, 1),
      sentence: '',
      published: '16.4 ± 3.5',
    },
    {
      set: 'Top vs Bottom (independent t, one-sided)',
      recovery: `${tp(s.topVsBottom, 3, 'pGreater', 'p')}`,
      sentence: sent(s.topVsBottomSentence, 1),
      published: 't=40.475, p<1e-4',
    },
    {
      set: 'Top vs all random (independent t, two-sided)',
      recovery: `${tp(s.topVsRandom, 3, 'pTwoSided', 'p')}`,
      sentence: '',
      published: 't=3.806, p=0.0035',
    },
    {
      set: 'Top vs Middle (not run by the original)',
      recovery: `${tp(s.topVsMiddle, 3, 'pGreater', 'p one-sided')}`,
      sentence: '',
      published: 'Table 4 printed "<0.001" (never computed)',
    },
  );
  return resultsTable(rows, {
    set: { label: `E6 layer set (${s.seeds} seeds × ${s.nSentences} sentences)` },
    recovery: { label: 'recovery % (mean of per-seed recoveries)' },
    sentence: { label: 'sentence level' },
    published: { label: 'published' },
  });
}

export function e7Table(s: E7Summary): ResultsTable {
  const rows: Record<string, unknown>[] = s.perLayer.map((l) => ({
    row: `layer ${l.layer}`,
    base: l.base.toFixed(4),
    angle: l.angle.toFixed(4),
    magnitude: l.magnitude.toFixed(4),
    published: l.published ? l.published.map((x) => x.toFixed(4)).join(' / ') : '',
  }));
  rows.push(
    {
      row: 'mean (seed level)',
      base: s.baseline.toFixed(4),
      angle: fmtMeanStd(s.angle.mean, s.angle.std, 4),
      magnitude: fmtMeanStd(s.magnitude.mean, s.magnitude.std, 4),
      published: '−0.0626 / −0.0565 / −0.0626',
    },
    {
      row: 'drop = base − perturbed',
      base: '',
      angle: fmtMeanStd(s.dropAngle.mean, s.dropAngle.std, 4),
      magnitude: fmtMeanStd(s.dropMagnitude.mean, s.dropMagnitude.std, 4),
      published: '— / −0.0061 / 0.0000',
    },
    {
      row: `paired t (seeds), one-sided`,
      base: '',
      angle: `t=${s.test.t.toFixed(3)}`,
      magnitude: `p=${p(s.test.pGreater)}`,
      published: 't=−3.844, p=0.969',
    },
    { row: `${s.nSentences} sentences`, base: '', angle: sent(s.sentence, 4), magnitude: '', published: '' },
  );
  return resultsTable(rows, {
    row: { label: `E7 cos(q_i, k_i) (${s.seeds} seeds)` },
    base: { label: 'baseline' },
    angle: { label: 'angle' },
    magnitude: { label: 'magnitude' },
    published: { label: 'published base / angle / magnitude' },
  });
}

export function e9Table(s: E9Summary): ResultsTable {
  const rows: Record<string, unknown>[] = [{ condition: 'baseline', loss: s.baseline.toFixed(3), rom: '', std: '' }];
  for (const m of [s.angle, s.magnitude]) {
    rows.push({
      condition: `${m.mode} unrepaired`,
      loss: fmtMeanStd(m.unrepaired.mean, m.unrepaired.std, 3),
      rom: '',
      std: '',
    });
    for (const x of ['attn', 'mlp', 'both'] as const)
      rows.push({
        condition: `${m.mode} + ${x}`,
        loss: fmtMeanStd(m.repaired[x].mean, m.repaired[x].std, 3),
        rom: `${m.recoveryOfMeans[x].toFixed(1)}%`,
        std: `${m.recoverySentences[x].estimate.toFixed(1)}% ${ci(m.recoverySentences[x].ci, 1)}`,
      });
    rows.push({
      condition: `${m.mode}: MLP > attn? (paired, one-sided)`,
      loss: `${tp(m.mlpVsAttn, 3, 'pGreater', 'p')}`,
      rom: '',
      std: sent(m.mlpVsAttnSentence),
    });
  }
  return resultsTable(rows, {
    condition: { label: `E9 (${s.seeds} seeds × ${s.nSentences} sentences)` },
    loss: { label: 'loss' },
    rom: { label: 'recovery (R-of-means)' },
    std: { label: 'standard recovery [95% CI] / sentence test' },
  });
}

export function e11Table(s: E11Summary): ResultsTable {
  const rows: Record<string, unknown>[] = [
    { condition: 'baseline', loss: s.baseline.toFixed(3), damage: '', recovery: '' },
  ];
  for (const m of [s.angle, s.magnitude]) {
    rows.push({
      condition: `${m.mode} unrepaired`,
      loss: fmtMeanStd(m.unrepaired.mean, m.unrepaired.std, 3),
      damage: `+${m.damage.toFixed(3)}`,
      recovery: '',
    });
    rows.push({
      condition: `${m.mode} + LN patch`,
      loss: fmtMeanStd(m.repaired.mean, m.repaired.std, 3),
      damage: `+${m.repairedDamage.toFixed(3)}`,
      recovery: `${fmtMeanStd(m.recovery.mean, m.recovery.std, 1)}%; sentences ${m.recoverySentences.estimate.toFixed(1)}% ${ci(m.recoverySentences.ci, 1)}`,
    });
  }
  rows.push({
    condition: 'magnitude > angle recovery (paired t, one-sided)',
    loss: `t=${s.test.t.toFixed(3)}`,
    damage: `p=${p(s.test.pGreater)}`,
    recovery: `sentences: ${sent(s.testSentence, 1)}`,
  });
  return resultsTable(rows, {
    condition: { label: `E11 (${s.seeds} seeds × ${s.nSentences} sentences)` },
    loss: { label: 'loss' },
    damage: { label: 'damage' },
    recovery: { label: 'recovery (R-pooled-baseline ± std; standard [95% CI])' },
  });
}

export function equivalenceTable(parallel: boolean, rows: EquivalenceRow[]): ResultsTable {
  return resultsTable(
    rows.map((r) => ({
      mode: r.mode,
      lp: r.maxLogprobDiff.toExponential(2),
      loss: r.maxLossDiff.toExponential(2),
      resid: `${r.maxResidDiff.toExponential(2)} (of max |h| ${r.residScale.toFixed(2)})`,
    })),
    {
      mode: { label: `LN repair vs attn+MLP repair (${parallel ? 'parallel' : 'sequential'} residual)` },
      lp: { label: 'max |Δ log-prob|' },
      loss: { label: 'max |Δ loss|' },
      resid: { label: 'max |Δ final resid_post|' },
    },
  );
}
