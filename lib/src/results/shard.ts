/** Deterministic sharding of a condition list across n independent runs. */

export interface ShardSpec {
  /** 1-based shard number */
  k: number;
  n: number;
}

/** Parse `--shard k/n` (1-based, 1 <= k <= n). */
export function parseShard(text: string): ShardSpec {
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text);
  if (!m) throw new Error(`--shard must look like k/n (e.g. 2/3), got '${text}'`);
  const k = Number(m[1]);
  const n = Number(m[2]);
  if (n < 1 || k < 1 || k > n) throw new Error(`--shard ${text}: need 1 <= k <= n`);
  return { k, n };
}

/**
 * Shard k of n: the items whose index i satisfies i % n === k - 1 (round-robin, so expensive
 * conditions listed together spread over the shards). The n shards are disjoint and cover the list.
 */
export function shard<T>(conditions: readonly T[], k: number, n: number): T[] {
  if (!Number.isInteger(n) || n < 1 || !Number.isInteger(k) || k < 1 || k > n) throw new Error(`shard ${k}/${n}: need integers 1 <= k <= n`);
  return conditions.filter((_, i) => i % n === k - 1);
}
