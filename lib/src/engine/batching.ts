/** The batching policy: which items share a forward pass. */

/**
 * Padded tokens per forward pass of the default policy (see planBatches), on the CPU. The pass's
 * largest tensor is its [R, vocab] logits, R ≤ 128 real positions (26 MB at 128 × 50 304).
 * Measured on 410M, 12 WikiText-length sentences (the issue 18 notes have the scripts): on a 2-core
 * EPYC plain passes took 1308 / 1329 / 1441 / 1633 ms at 128 / 256 / 512 / 1024 tokens per pass,
 * perturbed ones the same order; on a 2-core Xeon 128, 256 and 512 were equal within noise once,
 * and 256 was 18% faster on both sides of the E1 sweep another day. 128 stays the default because
 * small passes keep a run's transient memory low (issue 18: whole-run peak RSS against the weights).
 */
export const DEFAULT_TOKENS_PER_BATCH = 128;
/** The default budget on CUDA (set by Model.fromDir; the batch policy is the same). */
export const CUDA_TOKENS_PER_BATCH = 4096;
/**
 * The default budget on WebGPU: half CUDA's. Each tensor of a pass must fit one storage buffer
 * binding, at most the device's maxStorageBufferBindingSize; ONNX Runtime 1.30's WebGPU provider
 * asks for the adapter's own limit (its verbose log says "max storage buffer binding size: 0", 0
 * being the adapter's), not WebGPU's 128 MiB default: on lavapipe single passes up to 12 288 tokens
 * × 50 304, 2.5 GB of logits, ran and gave the same log-probs. The largest tensor is the pass's
 * [R, vocab] logits (R ≤ its padded tokens); 2048 tokens keep them at 412 MB at most for Pythia
 * (50 304) and 1.05 GB for a 128 256-token vocabulary (Llama 3), under 2^31 bytes, so the default
 * also holds on a driver that caps a binding at 2 GiB. NVIDIA's limit is not measured here
 * (bench/gpu-check.sh runs there); a bigger `tokensPerBatch` is the way to try longer passes.
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
