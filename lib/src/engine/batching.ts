/** The batching policy: which items share a forward pass. */

/** Padded tokens per forward pass of the default policy (see planBatches). */
export const DEFAULT_TOKENS_PER_BATCH = 512;
/** The default budget on CUDA (set by Model.fromDir; the batch policy is the same). */
export const CUDA_TOKENS_PER_BATCH = 4096;
/**
 * The default budget on WebGPU: half CUDA's, because a WebGPU storage buffer binding is capped by the
 * driver (often 2 GiB or less, Dawn's own default is 128 MiB when the adapter's limits are not asked
 * for) and the [N, vocab] logits of one pass must fit in one: 2048 × 50 304 × 4 B = 412 MB for Pythia.
 */
export const WEBGPU_TOKENS_PER_BATCH = 2048;
/** Items per forward pass at most. */
const MAX_BATCH_ITEMS = 64;

/**
 * Which items (indices into `lengths`) go into each forward pass. Items are sorted by length (ties
 * by index). With `batchSize` every pass has that many items; otherwise passes are filled greedily
 * in length order while items × (longest item) stays within `tokensPerBatch` padded tokens (and
 * ≤ 64 items), so short sentences travel in bigger batches and each batch spans a narrow length
 * range. Exported for the benchmark's padding-waste figure.
 */
export function planBatches(
  lengths: number[],
  batchSize?: number,
  tokensPerBatch = DEFAULT_TOKENS_PER_BATCH,
): number[][] {
  const order = lengths.map((_, i) => i).sort((a, b) => lengths[a] - lengths[b] || a - b);
  const out: number[][] = [];
  if (batchSize) {
    for (let start = 0; start < order.length; start += batchSize) out.push(order.slice(start, start + batchSize));
    return out;
  }
  let cur: number[] = [];
  for (const i of order) {
    // lengths ascend, so the candidate is the batch's longest item
    if (cur.length && ((cur.length + 1) * lengths[i] > tokensPerBatch || cur.length >= MAX_BATCH_ITEMS)) {
      out.push(cur);
      cur = [];
    }
    cur.push(i);
  }
  if (cur.length) out.push(cur);
  return out;
}
