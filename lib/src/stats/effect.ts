/**
 * Effect sizes. The notebook uses two non-standard "Cohen's d" variants; each formula has its own
 * name so that no caller can mix them up.
 */
import { differences, mean, std, variance } from './descriptive';

/** idx 6 "Cohen's d": (mean_ang − mean_mag)/popstd(mag) — population std of the magnitude group only. */
export function cohenDOriginalIdx6(ang: readonly number[], mag: readonly number[]): number {
  return (mean(ang) - mean(mag)) / std(mag, 0);
}

/** idx 10 "Cohen's d": (mean a − mean b)/(√((popstd a² + popstd b²)/2) + 1e-8), population stds. */
export function cohenDPooledPopulation(a: readonly number[], b: readonly number[]): number {
  return (mean(a) - mean(b)) / (Math.sqrt((variance(a, 0) + variance(b, 0)) / 2) + 1e-8);
}

/** Textbook Cohen's d: (mean a − mean b)/s_p, s_p² = ((na−1)s_a² + (nb−1)s_b²)/(na+nb−2), sample variances. */
export function cohenDPooled(a: readonly number[], b: readonly number[]): number {
  const na = a.length;
  const nb = b.length;
  const pooled = ((na - 1) * variance(a, 1) + (nb - 1) * variance(b, 1)) / (na + nb - 2);
  return (mean(a) - mean(b)) / Math.sqrt(pooled);
}

/** Paired Cohen's d_z: mean(a−b)/sd(a−b, ddof 1). */
export function cohenDz(a: readonly number[], b: readonly number[]): number {
  const d = differences(a, b);
  return mean(d) / std(d, 1);
}
