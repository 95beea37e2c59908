/**
 * Published-vs-reproduced comparisons with verdicts computed from the data — never typed in.
 */

/** A number the original published, with its spread when it gave one. */
export interface Published {
  value: number;
  /** population std over the original's seeds (its "±"), if published */
  std?: number;
  /** number of seeds behind value/std */
  n?: number;
}

/** Our reproduction of one published number. */
export interface Reproduced {
  value: number;
  /** population std over our seeds, if the number is a seed mean */
  std?: number;
  n?: number;
}

export interface ReportRow {
  quantity: string;
  published: Published | null;
  reproduced: Reproduced | null;
  verdict: string;
}

/** Whether the run is the published configuration, and why (ReproduceContext's shape). */
export interface Comparability {
  comparable: boolean;
  comparability: string;
}

/** SE of a seed mean from a population std over n seeds (sample sd = popstd·√(n/(n−1))). */
function se(std: number | undefined, n: number | undefined): number | undefined {
  if (std === undefined || !n || n < 2) return undefined;
  return (std * Math.sqrt(n / (n - 1))) / Math.sqrt(n);
}

/**
 * Verdict for one number. Not comparable when the model differs from the published one; else
 * |z| = |ours − published| / √(SE_ours² + SE_pub²) ≤ 3 is "consistent"; without any uncertainty
 * we only state the relative difference.
 */
export function verdict(
  published: Published | null,
  reproduced: Reproduced | null,
  comparable: boolean | Comparability,
): string {
  if (!reproduced) return 'not run';
  // a statistic this run's sample cannot give (a t-test over one seed): computed, but undefined
  if (!Number.isFinite(reproduced.value)) return 'n/a: not defined for this run (too few seeds, sentences or pairs)';
  if (!published) return 'new (not in the original)';
  if (typeof comparable !== 'boolean' && !comparable.comparable) return `not comparable (${comparable.comparability})`;
  if (!comparable) return 'not comparable (different model or settings)';
  const s1 = se(reproduced.std, reproduced.n);
  const s2 = se(published.std, published.n);
  const diff = reproduced.value - published.value;
  if (s1 !== undefined || s2 !== undefined) {
    const sd = Math.sqrt((s1 ?? 0) ** 2 + (s2 ?? 0) ** 2);
    if (sd === 0) return diff === 0 ? 'identical' : `differs (Δ = ${diff.toPrecision(3)}, no spread)`;
    const z = Math.abs(diff) / sd;
    return z <= 3 ? `consistent (|z| = ${z.toFixed(1)} ≤ 3 SE)` : `differs (|z| = ${z.toFixed(1)} > 3 SE)`;
  }
  if (diff === 0) return 'identical';
  const rel = Math.abs(diff) / Math.max(Math.abs(published.value), 1e-12);
  return `${rel <= 0.05 ? 'close' : 'differs'} (relative difference ${(100 * rel).toFixed(1)}%, no uncertainty published)`;
}

export function row(
  quantity: string,
  published: Published | null,
  reproduced: Reproduced | null,
  comparable: boolean | Comparability,
): ReportRow {
  return { quantity, published, reproduced, verdict: verdict(published, reproduced, comparable) };
}

export function fmt(x: { value: number; std?: number } | null, digits = 3): string {
  if (!x || !Number.isFinite(x.value)) return '—';
  if (x.std === undefined && Number.isInteger(x.value)) return String(x.value);
  if (x.value !== 0 && Math.abs(x.value) < 10 ** -digits)
    return x.std === undefined ? x.value.toExponential(2) : `${x.value.toExponential(2)} ± ${x.std.toExponential(2)}`;
  return x.std === undefined ? x.value.toFixed(digits) : `${x.value.toFixed(digits)} ± ${x.std.toFixed(digits)}`;
}
