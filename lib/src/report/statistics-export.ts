/**
 * The statistics export (original idx 22, `statistics_summary.txt`): one record per statistic of
 * E1–E6 and the replication model's loss sweep, each with its published number (where the original
 * printed one) and its verdict. The original's file was a typed-in text block; here every value comes
 * from the summaries, and the same records are written as JSON, CSV (via the tables writers) and text.
 */
import { summarizeE1 } from '../experiments/e1-stats';
import { PUBLISHED_MECHANISM } from '../experiments/mechanism/published';
import { PUBLISHED } from '../experiments/settings';
import { PUBLISHED_CROSSMODEL } from '../experiments/crossmodel/registry';
import type { TTestResult } from '../stats';
import { ResultsTable, resultsTable } from '../tables';
import { PUBLISHED_MAIN } from './published-main';
import type { PaperResults } from './paper-results';
import { TABLE_REPLICATION_KEY } from './paper-tables';
import { type Comparability, type Published, type Reproduced, verdict } from './verdict';

export interface StatRecord {
  experiment: string;
  quantity: string;
  /** the published δ of the condition, null for statistics without one */
  delta: number | null;
  value: number;
  /** population std over seeds, null for a single number */
  std: number | null;
  /** seeds (or values) behind value/std */
  n: number | null;
  published: number | null;
  publishedStd: number | null;
  verdict: string;
}

export type StatisticsInput = Pick<PaperResults, 'model' | 'e1' | 'e2' | 'e3' | 'e4' | 'e5' | 'e6' | 'replication'>;

/** Every statistic of the inputs as records; `ctx` is this run's comparability with the published configuration. */
export function statisticsRecords(x: StatisticsInput, ctx: Comparability): StatRecord[] {
  const out: StatRecord[] = [];
  const add = (
    experiment: string,
    quantity: string,
    delta: number | null,
    ours: Reproduced,
    pub: Published | null = null,
    c: Comparability = ctx,
  ) =>
    out.push({
      experiment,
      quantity,
      delta,
      value: ours.value,
      std: ours.std ?? null,
      n: ours.n ?? null,
      published: pub?.value ?? null,
      publishedStd: pub?.std ?? null,
      verdict: verdict(pub, ours, c),
    });
  const seeds = (m: { mean: number; std: number; perSeed: number[] }): Reproduced => ({
    value: m.mean,
    std: m.std,
    n: m.perSeed.length,
  });
  const test = (exp: string, what: string, delta: number | null, t: TTestResult, p: 'pGreater' | 'pTwoSided') => {
    add(exp, `t ${what}`, delta, { value: t.t });
    add(exp, `p ${p === 'pGreater' ? 'one-sided' : 'two-sided'} ${what}`, delta, { value: t[p] });
  };
  const P = PUBLISHED_MAIN;
  const n5 = P.seeds;

  add('E1', 'baseline loss', null, { value: x.e1.baseline }, { value: P.baseline.value });
  add('E1', 'sentences', null, { value: x.e1.nSentences }, { value: P.data.sentences });
  for (const r of x.e1.rows) {
    const pub = P.e1.find((q) => q.delta === r.publishedDelta);
    add(
      'E1',
      'magnitude damage',
      r.publishedDelta,
      seeds(r.magnitude),
      pub && { value: pub.mag[0], std: pub.mag[1], n: n5 },
    );
    add('E1', 'angular damage', r.publishedDelta, seeds(r.angle), pub && { value: pub.ang[0], std: pub.ang[1], n: n5 });
    add('E1', 'ratio angular/magnitude', r.publishedDelta, { value: r.ratio }, pub && { value: pub.ratio });
    add(
      'E1',
      't angle vs magnitude (paired over seeds)',
      r.publishedDelta,
      { value: r.seedTest.t },
      pub && { value: pub.t },
    );
    add('E1', 'p two-sided angle vs magnitude (paired over seeds)', r.publishedDelta, { value: r.seedTest.pTwoSided });
    test(
      'E1',
      `angle vs magnitude (paired over ${r.sentence.n} sentences)`,
      r.publishedDelta,
      r.sentence.test,
      'pTwoSided',
    );
    add('E1', 'd_z (sentences)', r.publishedDelta, { value: r.sentence.dz });
  }
  if (x.e1.regimes) {
    add('E1', 'low-δ regime ratio', null, { value: x.e1.regimes.low.ratio }, { value: P.regimes.lowRatio });
    add('E1', 'high-δ regime ratio', null, { value: x.e1.regimes.high.ratio }, { value: P.regimes.highRatio });
  }

  add('E2', 'baseline accuracy %', null, { value: x.e2.baseline }, { value: P.blimpBaseline });
  add('E2', 'pairs', null, { value: x.e2.pairs }, { value: PUBLISHED.e2.items });
  for (const r of x.e2.rows) {
    const pub = P.e2.find((q) => q.delta === r.publishedDelta);
    const acc = (m: { mean: number; std: number; acc: number[] }) => ({ value: m.mean, std: m.std, n: m.acc.length });
    add(
      'E2',
      'magnitude accuracy %',
      r.publishedDelta,
      acc(r.magnitude),
      pub && { value: pub.mag[0], std: pub.mag[1], n: n5 },
    );
    add(
      'E2',
      'angular accuracy %',
      r.publishedDelta,
      acc(r.angle),
      pub && { value: pub.ang[0], std: pub.ang[1], n: n5 },
    );
    add('E2', 'drop difference magnitude − angular (pp)', r.publishedDelta, { value: r.diff });
    add(
      'E2',
      't magnitude drop > angular (paired over seeds)',
      r.publishedDelta,
      { value: r.seedTest.t },
      pub && { value: pub.t },
    );
    add('E2', 'p one-sided magnitude drop > angular', r.publishedDelta, { value: r.seedTest.pGreater });
  }

  const E3 = PUBLISHED_MECHANISM.E3;
  add('E3', 'ΔH angle', null, seeds(x.e3.dAngle), { value: E3.dAngle.mean, std: E3.dAngle.std, n: E3.seeds });
  add('E3', 'ΔH magnitude', null, seeds(x.e3.dMagnitude), {
    value: E3.dMagnitude.mean,
    std: E3.dMagnitude.std,
    n: E3.seeds,
  });
  add('E3', 'ratio ΔH angle / ΔH magnitude', null, { value: x.e3.ratio }, { value: E3.ratio });
  add('E3', 't ΔH angle > ΔH magnitude (paired over seeds)', null, { value: x.e3.test.t }, { value: E3.t });
  add('E3', 'p one-sided ΔH angle > ΔH magnitude', null, { value: x.e3.test.pGreater }, { value: E3.pOneSided });
  add(
    'E3',
    "Cohen's d as the original computed it (pooled population stds)",
    null,
    { value: x.e3.dOriginal },
    { value: E3.d },
  );

  const E4 = PUBLISHED_MECHANISM.E4;
  const rec = (m: { mean: number; std: number; perSeed: number[] }) => seeds(m);
  add('E4', 'angular recovery % (mean of per-seed recoveries)', null, rec(x.e4.angle.recoverySeed), {
    value: E4.angle.recovery.mean,
    std: E4.angle.recovery.std,
    n: E4.seeds,
  });
  add('E4', 'magnitude recovery % (mean of per-seed recoveries)', null, rec(x.e4.magnitude.recoverySeed), {
    value: E4.magnitude.recovery.mean,
    std: E4.magnitude.recovery.std,
    n: E4.seeds,
  });
  add('E4', 't recovery angle > magnitude (paired over seeds)', null, { value: x.e4.test3.t }, { value: E4.test3.t });
  add(
    'E4',
    'p one-sided recovery angle > magnitude',
    null,
    { value: x.e4.test3.pGreater },
    {
      value: E4.test3.pOneSided,
    },
  );

  for (const r of x.e5.rows)
    add(
      'E5',
      `top-${r.k} layer repair recovery % (layers ${r.layers.join(',')})`,
      null,
      rec(r.recovery),
      r.published && {
        value: r.published.mean,
        std: r.published.std,
        n: PUBLISHED_MECHANISM.E5.seeds,
      },
    );

  const E6 = PUBLISHED_MECHANISM.E6;
  for (const s of x.e6.sets)
    add(
      'E6',
      `${s.label} recovery %`,
      null,
      rec(s.recovery),
      s.published && {
        value: s.published.mean,
        std: s.published.std,
        n: E6.seeds,
      },
    );
  add(
    'E6',
    'random sets: mean of set means %',
    null,
    { value: x.e6.randomMean, std: x.e6.randomStd },
    {
      value: E6.randomMean,
    },
  );
  test('E6', 'Top > Bottom (independent, one-sided)', null, x.e6.topVsBottom, 'pGreater');
  test('E6', 'Top vs random (independent, two-sided)', null, x.e6.topVsRandom, 'pTwoSided');
  test('E6', 'Top > Middle (independent, one-sided; not run by the original)', null, x.e6.topVsMiddle, 'pGreater');

  const rep = x.replication.find((i) => i.entry.key === TABLE_REPLICATION_KEY);
  if (rep?.loss.some((r) => r.kind === 'baseline')) {
    const e1 = summarizeE1(rep.loss);
    const pubRep = PUBLISHED_CROSSMODEL[rep.entry.key];
    const c: Comparability = {
      comparable: false,
      comparability: `${rep.entry.label}'s stored results, compared with its published numbers in its own notebook`,
    };
    for (const r of e1.rows) {
      const pub = pubRep?.loss.find((q) => q.delta === r.publishedDelta);
      const ms = (m: { mean: number; std: number | null } | undefined) =>
        m ? { value: m.mean, ...(m.std === null ? {} : { std: m.std }) } : null;
      const exp = `${rep.entry.label} (${rep.entry.runner ?? rep.entry.cell})`;
      add(exp, 'magnitude damage', r.publishedDelta, seeds(r.magnitude), ms(pub?.magnitude), c);
      add(exp, 'angular damage', r.publishedDelta, seeds(r.angle), ms(pub?.angular), c);
      add(
        exp,
        'ratio angular/magnitude',
        r.publishedDelta,
        { value: r.ratio },
        pub?.ratio == null ? null : { value: pub.ratio },
        c,
      );
    }
  }
  return out;
}

/** Six significant digits (statistics.json keeps full precision). */
const six = (x: number) => (Number.isFinite(x) ? Number(x.toPrecision(6)) : 'n/a');

/** The records as a table (written by `reproduce` as statistics.{md,html,tex,csv}). */
export function statisticsTable(records: readonly StatRecord[]): ResultsTable {
  return resultsTable(
    records.map((r) => ({
      experiment: r.experiment,
      quantity: r.quantity,
      delta: r.delta ?? '',
      value: six(r.value),
      std: r.std === null ? '' : six(r.std),
      n: r.n ?? '',
      published: r.published ?? '',
      published_std: r.publishedStd ?? '',
      verdict: r.verdict,
    })),
  );
}

/** statistics.json: the records with the model and the comparability they were judged under. */
export function statisticsJSON(model: string, ctx: Comparability, records: readonly StatRecord[]): string {
  return JSON.stringify({ model, comparability: ctx.comparability, statistics: records }, null, 1) + '\n';
}

const num = (x: number) =>
  !Number.isFinite(x) ? 'n/a' : x !== 0 && Math.abs(x) < 1e-3 ? x.toExponential(2) : x.toFixed(4).replace(/\.?0+$/, '');

/** statistics_summary.txt: one line per record, grouped by experiment (the original's text block, computed). */
export function statisticsText(model: string, ctx: Comparability, records: readonly StatRecord[]): string {
  const lines = [
    `dirmag statistics export (generated from results; the original's statistics cell)`,
    `model: ${model}`,
  ];
  lines.push(`comparability: ${ctx.comparability}`);
  let exp = '';
  for (const r of records) {
    if (r.experiment !== exp) lines.push('', `[${(exp = r.experiment)}]`);
    const value = `${num(r.value)}${r.std === null ? '' : ` ± ${num(r.std)}`}${r.n === null ? '' : ` (n=${r.n})`}`;
    const pub =
      r.published === null
        ? ''
        : `; published ${num(r.published)}${r.publishedStd === null ? '' : ` ± ${num(r.publishedStd)}`}`;
    lines.push(`${r.quantity}${r.delta === null ? '' : `, δ=${r.delta}`}: ${value}${pub}; ${r.verdict}`);
  }
  return lines.join('\n') + '\n';
}
