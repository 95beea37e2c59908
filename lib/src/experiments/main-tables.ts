/** Tables of the main result (E1, E1 statistics, E2, robustness), shared by CLI, notebooks and reproduce. */
import { ResultsTable, fmtMeanStd, resultsTable } from '../tables';
import { type TTestResult } from '../stats';
import { E1Summary } from './e1-stats';
import { BlimpSummary } from './e2-blimp';
import { RobustnessRow } from './robustness';

const p = (x: number) => (x < 1e-4 ? x.toExponential(2) : x.toFixed(4));

/** A test's number, or its "n/a: needs ≥ 2 seeds" when the sample was too small. */
const orNA = <T>(test: TTestResult, x: T): T | string => test.na ?? x;
/** A number that is NaN when its sample was too small (effect sizes), shown with the reason. */
const numOrNA = (x: number, why: string | undefined): number | string => (Number.isNaN(x) && why ? why : x);

/** Table 1 / E1: damage per δ and mode (mean ± population std over seeds) and the ratio. */
export function e1Table(s: E1Summary): ResultsTable {
  return resultsTable(
    s.rows.map((r) => ({
      delta: r.publishedDelta,
      delta_run: r.delta,
      magnitude: fmtMeanStd(r.magnitude.mean, r.magnitude.std, 3),
      angular: fmtMeanStd(r.angle.mean, r.angle.std, 3),
      ratio: r.ratio,
    })),
    {
      delta: { label: 'δ' },
      delta_run: { label: 'δ as run', digits: 3 },
      magnitude: { label: 'magnitude damage' },
      angular: { label: `angular damage (${s.angleMode})` },
      ratio: { label: 'ratio ang/mag', digits: 2 },
    },
  );
}

/** Cell 6 statistics: seed-level (as the original) and sentence-level (what it discarded). */
export function e1StatsTable(s: E1Summary): ResultsTable {
  return resultsTable(
    s.rows.map((r) => ({
      delta: r.publishedDelta,
      t: orNA(r.seedTest, r.seedTest.t),
      df: r.seedTest.df,
      p2: orNA(r.seedTest, p(r.seedTest.pTwoSided)),
      stars: orNA(r.seedTest, r.stars),
      d_orig: numOrNA(r.dOriginal, r.seedTest.na),
      dz_seed: numOrNA(r.dzSeeds, r.seedTest.na),
      t_sent: orNA(r.sentence.test, r.sentence.test.t),
      p_sent: orNA(r.sentence.test, p(r.sentence.test.pTwoSided)),
      dz_sent: numOrNA(r.sentence.dz, r.sentence.test.na),
      ci: `[${r.sentence.ci[0].toFixed(3)}, ${r.sentence.ci[1].toFixed(3)}]`,
    })),
    {
      delta: { label: 'δ' },
      t: { label: 't (seeds, paired)', digits: 2 },
      df: { label: 'df' },
      p2: { label: 'p two-sided' },
      stars: { label: '' },
      d_orig: { label: "the original's d (÷ magnitude population std)", digits: 2 },
      dz_seed: { label: 'd_z (seeds)', digits: 2 },
      t_sent: { label: `t (${s.nSentences} sentences, paired)`, digits: 2 },
      p_sent: { label: 'p (sentences)' },
      dz_sent: { label: 'd_z (sentences)', digits: 2 },
      ci: { label: 'mean ang−mag damage, 95% bootstrap CI' },
    },
  );
}

export function e2Table(s: BlimpSummary): ResultsTable {
  return resultsTable(
    s.rows.map((r) => ({
      delta: r.publishedDelta,
      magnitude: fmtMeanStd(r.magnitude.mean, r.magnitude.std, 1),
      angular: fmtMeanStd(r.angle.mean, r.angle.std, 1),
      diff: r.diff,
      t: orNA(r.seedTest, r.seedTest.t),
      p1: orNA(r.seedTest, p(r.seedTest.pGreater)),
      mag_drop: r.magnitude.drop,
      ang_drop: r.angle.drop,
      pair_p: orNA(r.pairLevel.test, p(r.pairLevel.test.pTwoSided)),
    })),
    {
      delta: { label: 'δ' },
      magnitude: { label: 'magnitude acc %' },
      angular: { label: 'angular acc %' },
      diff: { label: 'Δ(Mag−Ang) drop', digits: 1 },
      t: { label: 't (seeds)', digits: 2 },
      p1: { label: 'p one-sided' },
      mag_drop: { label: 'mag drop', digits: 1 },
      ang_drop: { label: 'ang drop', digits: 1 },
      pair_p: { label: `p (${s.pairs} pairs)` },
    },
  );
}

export function robustnessTable(rows: RobustnessRow[]): ResultsTable {
  return resultsTable(
    rows.map((r) => ({
      matching: r.matching,
      noise: r.noise,
      ratio1: r.ratio1,
      ratio5: r.ratio5,
      p5: p(r.p5),
      ang: r.blimpDropAngle,
      mag: r.blimpDropMagnitude,
      bp: p(r.blimpP),
    })),
    {
      matching: { label: 'angle matching' },
      noise: { label: 'noise' },
      ratio1: { label: 'loss ratio δ=1', digits: 2 },
      ratio5: { label: 'loss ratio δ=5', digits: 2 },
      p5: { label: 'p (δ=5, seeds)' },
      ang: { label: 'BLiMP drop angle δ=5', digits: 1 },
      mag: { label: 'BLiMP drop magnitude δ=5', digits: 1 },
      bp: { label: 'p (mag drop > ang)' },
    },
  );
}
