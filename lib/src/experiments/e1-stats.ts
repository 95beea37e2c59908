/**
 * E1 statistics (original Cell 6) computed from sweep records: seed-level damages as the original
 * reported them, and the sentence-level pairing it discarded (EXPERIMENTS.md §5.1.4).
 */
import {
  bootstrapCI,
  cohenDOriginalIdx6,
  cohenDz,
  mean,
  needsMore,
  std,
  ttestPairedOrNA,
  twoRegime,
  type TTestResult,
  type TwoRegimeResult,
} from '../stats';
import { SweepRecord } from './e1-sweep';

export interface ModeDamage {
  mode: string;
  /** damage per seed (mean loss − baseline), seed order */
  perSeed: number[];
  mean: number;
  /** population std over seeds (the original's "±") */
  std: number;
}

export interface DeltaRow {
  publishedDelta: number;
  delta: number;
  angle: ModeDamage;
  magnitude: ModeDamage;
  /** mean_ang / (mean_mag + 1e-8) */
  ratio: number;
  /** seed-level paired t (angle vs magnitude), as idx 6 */
  seedTest: TTestResult;
  stars: string;
  /** (mean_ang − mean_mag) / popstd(mag): idx 6's "Cohen's d" */
  dOriginal: number;
  /** paired d_z over seeds */
  dzSeeds: number;
  /** sentence level: per-sentence damages averaged over seeds, paired over sentences */
  sentence: {
    n: number;
    test: TTestResult;
    dz: number;
    meanDiff: number;
    ci: [number, number];
    ratioCi: [number, number];
  };
}

export interface E1Summary {
  baseline: number;
  baselineStd: number;
  nSentences: number;
  angleMode: string;
  rows: DeltaRow[];
  regimes: TwoRegimeResult | null;
  /** why `regimes` is null, e.g. "n/a: needs ≥ 2 seeds" */
  regimesNA?: string;
}

/** The regime t-test pools seeds × δ of each regime per mode (independent t, na + nb ≥ 3): 2 values per mode. */
function enoughForRegimes(rows: DeltaRow[], low: number[], high: number[]): boolean {
  const count = (ds: number[]) =>
    ds.reduce((n, d) => n + rows.find((r) => r.publishedDelta === d)!.angle.perSeed.length, 0);
  return count(low) >= 2 && count(high) >= 2;
}

export function stars(p: number): string {
  return p < 0.001 ? '***' : p < 0.01 ? '**' : p < 0.05 ? '*' : 'ns';
}

export function summarizeE1(
  records: SweepRecord[],
  angleMode = 'angle_legacy/legacy',
  magnitudeMode = 'magnitude',
): E1Summary {
  const base = records.find((r) => r.kind === 'baseline');
  if (!base) throw new Error('no baseline record: run the sweep first');
  const B = base.loss;
  const conds = records.filter((r) => r.kind === 'condition');
  const deltas = [...new Set(conds.map((r) => r.publishedDelta!))].sort((a, b) => a - b);
  const pick = (d: number, mode: string) =>
    conds.filter((r) => r.publishedDelta === d && r.mode === mode).sort((a, b) => a.seedIndex! - b.seedIndex!);
  const rows: DeltaRow[] = [];
  for (const d of deltas) {
    const ang = pick(d, angleMode);
    const mag = pick(d, magnitudeMode);
    if (!ang.length || ang.length !== mag.length) continue;
    const dmg = (rs: SweepRecord[], mode: string): ModeDamage => {
      const perSeed = rs.map((r) => r.loss - B);
      return { mode, perSeed, mean: mean(perSeed), std: std(perSeed) };
    };
    const a = dmg(ang, angleMode);
    const m = dmg(mag, magnitudeMode);
    const seedTest = ttestPairedOrNA(a.perSeed, m.perSeed, 'seeds');
    const n = base.losses.length;
    const perSentence = (rs: SweepRecord[]) =>
      Array.from({ length: n }, (_, i) => mean(rs.map((r) => r.losses[i])) - base.losses[i]);
    const sa = perSentence(ang);
    const sm = perSentence(mag);
    const pairs = sa.map((x, i) => [x, sm[i]] as [number, number]);
    const ci = bootstrapCI(pairs, (p) => mean(p.map(([x, y]) => x - y)), { seed: 1, reps: 4000 });
    const ratioCi = bootstrapCI(pairs, (p) => mean(p.map(([x]) => x)) / (mean(p.map(([, y]) => y)) + 1e-8), {
      seed: 2,
      reps: 4000,
    });
    rows.push({
      publishedDelta: d,
      delta: ang[0].delta!,
      angle: a,
      magnitude: m,
      ratio: a.mean / (m.mean + 1e-8),
      seedTest,
      stars: stars(seedTest.pTwoSided),
      dOriginal: a.perSeed.length > 1 ? cohenDOriginalIdx6(a.perSeed, m.perSeed) : NaN,
      dzSeeds: a.perSeed.length > 1 ? cohenDz(a.perSeed, m.perSeed) : NaN,
      sentence: {
        n,
        test: ttestPairedOrNA(sa, sm, 'sentences'),
        dz: n > 1 ? cohenDz(sa, sm) : NaN,
        meanDiff: mean(sa) - mean(sm),
        ci: [ci.lower, ci.upper],
        ratioCi: [ratioCi.lower, ratioCi.upper],
      },
    });
  }
  const low = [1, 2, 5].filter((d) => rows.some((r) => r.publishedDelta === d));
  const high = [10, 15, 20].filter((d) => rows.some((r) => r.publishedDelta === d));
  const seedRows = rows.map((r) => ({
    delta: r.publishedDelta,
    angular: r.angle.perSeed,
    magnitude: r.magnitude.perSeed,
  }));
  return {
    baseline: B,
    baselineStd: std(base.losses),
    nSentences: base.losses.length,
    angleMode,
    rows,
    regimes: low.length && high.length && enoughForRegimes(rows, low, high) ? twoRegime(seedRows, low, high) : null,
    regimesNA:
      low.length && high.length
        ? enoughForRegimes(rows, low, high)
          ? undefined
          : needsMore(2, 'seeds')
        : needsMore(2, 'δ regimes (a δ ≤ 5 and a δ ≥ 10)'),
  };
}
