/** The batching policy: which items share a forward pass. */

/**
 * Padded tokens per forward pass of the default policy (see planBatches), on the CPU. The pass's
 * largest tensor is its [N, vocab] logits (51 MB at 256 × 50 304); 256 ran the 410M passes as fast
 * as 512 here (bench: 2-core Xeon, within noise) and holds a pass's transient memory to a tenth of
 * the 410M weights, which the whole-run memory target (issue 18: peak RSS ≤ 1.3 × weights) needs.
 */
export const DEFAULT_TOKENS_PER_BATCH = 256;
/** The default budget on CUDA (set by Model.fromDir; the batch policy is the same). */
export const CUDA_TOKENS_PER_BATCH = 4096;
/**
 * The default budget on WebGPU: half CUDA's. Each tensor of a pass must fit one storage buffer
 * binding, at most the device's maxStorageBufferBindingSize; ONNX Runtime 1.30's WebGPU provider
 * asks for the adapter's own limit (its verbose log says "max storage buffer binding size: 0", 0
 * being the adapter's), not WebGPU's 128 MiB default: on lavapipe single passes up to 12 288 tokens
 * × 50 304, 2.5 GB of logits, ran and gave the same log-probs. The largest tensor is the pass's
 * [N, vocab] logits; 2048 tokens keep them at 412 MB for Pythia (50 304) and 1.05 GB for a 128 256-
 * token vocabulary (Llama 3), under 2^31 bytes, so the default also holds on a driver that caps a
 * binding at 2 GiB. NVIDIA's limit is not measured here (bench/gpu-check.sh runs there); a bigger
 * `tokensPerBatch` is the way to try longer passes.
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
