/** Seeded percentile bootstrap. */

/** mulberry32: a tiny seeded PRNG returning uniform floats in [0, 1). Same seed ⇒ same sequence. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Quantile of an ascending-sorted array with linear interpolation (NumPy's default `np.quantile`). */
export function quantileSorted(sorted: readonly number[], q: number): number {
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo] + (pos - lo) * (sorted[hi] - sorted[lo]);
}

export interface BootstrapOptions {
  /** Number of resamples (default 10000). */
  reps?: number;
  /** Confidence level (default 0.95). */
  level?: number;
  /** PRNG seed (default 0). */
  seed?: number;
}

export interface BootstrapCI {
  /** stat on the original data. */
  estimate: number;
  lower: number;
  upper: number;
  level: number;
  reps: number;
}

/**
 * Percentile bootstrap CI of `stat` over `data`. Items are resampled whole, so for a paired design
 * pass the pairs (e.g. `[a_i, b_i]` tuples) and a stat that reads both members. Bounds are the
 * (1−level)/2 and (1+level)/2 quantiles of the `reps` resampled statistics.
 */
export function bootstrapCI<T>(
  data: readonly T[],
  stat: (sample: readonly T[]) => number,
  options: BootstrapOptions = {},
): BootstrapCI {
  const { reps = 10000, level = 0.95, seed = 0 } = options;
  if (data.length === 0) throw new RangeError('bootstrapCI needs at least one item');
  if (!(level > 0 && level < 1)) throw new RangeError(`level must lie in (0, 1), got ${level}`);
  const random = mulberry32(seed);
  const n = data.length;
  const stats = new Array<number>(reps);
  const sample = new Array<T>(n);
  for (let r = 0; r < reps; r++) {
    for (let i = 0; i < n; i++) sample[i] = data[Math.floor(random() * n)];
    stats[r] = stat(sample);
  }
  stats.sort((x, y) => x - y);
  return {
    estimate: stat(data),
    lower: quantileSorted(stats, (1 - level) / 2),
    upper: quantileSorted(stats, (1 + level) / 2),
    level,
    reps,
  };
}
