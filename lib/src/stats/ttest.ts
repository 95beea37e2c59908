/** Student t-tests matching scipy.stats.ttest_rel / ttest_ind (equal variances). */
import { jStat } from 'jstat';
import { differences, mean, variance } from './descriptive';

export interface TTestResult {
  t: number;
  df: number;
  /** Two-sided p-value p₂. */
  pTwoSided: number;
  /** One-sided p for H1 "first sample greater": p₂/2 if t > 0 else 1 − p₂/2 (the notebook's rule). */
  pGreater: number;
  /** One-sided p for H1 "first sample less": p₂/2 if t < 0 else 1 − p₂/2. */
  pLess: number;
  /** Set when the sample was too small for the test (every number NaN), e.g. "n/a: needs ≥ 2 seeds". */
  na?: string;
}

/** The text a statistic shows when there are fewer than `min` of `unit` (seeds, sentences, pairs). */
export const needsMore = (min: number, unit: string): string => `n/a: needs ≥ ${min} ${unit}`;

/** Independent t-test, or (na + nb < 3) a result whose numbers are NaN and whose `na` says so. */
export function ttestIndOrNA(a: readonly number[], b: readonly number[], unit: string): TTestResult {
  if (a.length + b.length >= 3 && a.length > 0 && b.length > 0) return ttestInd(a, b);
  return { t: NaN, df: a.length + b.length - 2, pTwoSided: NaN, pGreater: NaN, pLess: NaN, na: needsMore(2, unit) };
}

/** Paired t-test, or (fewer than 2 pairs) a result whose numbers are NaN and whose `na` says so. */
export function ttestPairedOrNA(a: readonly number[], b: readonly number[], unit: string): TTestResult {
  if (a.length >= 2) return ttestPaired(a, b);
  return { t: NaN, df: a.length - 1, pTwoSided: NaN, pGreater: NaN, pLess: NaN, na: needsMore(2, unit) };
}

/** Builds the result from a t statistic; t = ±Infinity (zero variance, non-zero mean) gives p₂ = 0. */
function fromT(t: number, df: number): TTestResult {
  const pTwoSided = Number.isFinite(t) ? 2 * jStat.studentt.cdf(-Math.abs(t), df) : Number.isNaN(t) ? NaN : 0;
  const half = pTwoSided / 2;
  return { t, df, pTwoSided, pGreater: t > 0 ? half : 1 - half, pLess: t < 0 ? half : 1 - half };
}

/** ratio num/den with scipy's conventions for a zero denominator (±Infinity, or NaN for 0/0). */
function divide(num: number, den: number): number {
  return den === 0 ? (num === 0 ? NaN : Math.sign(num) * Infinity) : num / den;
}

/** Paired t-test of a vs b (scipy `ttest_rel(a, b)`): t = mean(a−b)/(sd(a−b, ddof 1)/√n), df = n−1. */
export function ttestPaired(a: readonly number[], b: readonly number[]): TTestResult {
  const d = differences(a, b);
  const n = d.length;
  const t = divide(mean(d), Math.sqrt(variance(d, 1) / n));
  return fromT(t, n - 1);
}

/** Independent two-sample Student t-test with pooled variance (scipy `ttest_ind(a, b)`), df = na+nb−2. */
export function ttestInd(a: readonly number[], b: readonly number[]): TTestResult {
  const na = a.length;
  const nb = b.length;
  if (na + nb < 3) throw new RangeError(`ttestInd needs na + nb ≥ 3, got ${na} + ${nb}`);
  const df = na + nb - 2;
  const pooled = ((na - 1) * (na > 1 ? variance(a, 1) : 0) + (nb - 1) * (nb > 1 ? variance(b, 1) : 0)) / df;
  const t = divide(mean(a) - mean(b), Math.sqrt(pooled * (1 / na + 1 / nb)));
  return fromT(t, df);
}
