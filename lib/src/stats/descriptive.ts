/** Descriptive statistics with NumPy conventions. */

function requireLength(xs: readonly number[], min: number, what: string): void {
  if (xs.length < min) throw new RangeError(`${what} needs at least ${min} value(s), got ${xs.length}`);
}

/** Arithmetic mean. */
export function mean(xs: readonly number[]): number {
  requireLength(xs, 1, 'mean');
  let s = 0;
  for (const x of xs) s += x;
  return s / xs.length;
}

/** Variance with `ddof` delta degrees of freedom: Σ(x−x̄)²/(n−ddof). ddof 0 = population (NumPy default). */
export function variance(xs: readonly number[], ddof: 0 | 1 = 0): number {
  requireLength(xs, ddof + 1, `variance(ddof=${ddof})`);
  const m = mean(xs);
  let ss = 0;
  for (const x of xs) ss += (x - m) ** 2;
  return ss / (xs.length - ddof);
}

/** Standard deviation; ddof 0 = population std (NumPy `np.std` default), ddof 1 = sample std. */
export function std(xs: readonly number[], ddof: 0 | 1 = 0): number {
  return Math.sqrt(variance(xs, ddof));
}

/** Element-wise a[i] − b[i] of two equal-length arrays. */
export function differences(a: readonly number[], b: readonly number[]): number[] {
  if (a.length !== b.length) throw new RangeError(`paired arrays differ in length: ${a.length} vs ${b.length}`);
  return a.map((x, i) => x - b[i]);
}
