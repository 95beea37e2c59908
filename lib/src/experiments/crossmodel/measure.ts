/**
 * Measuring ONNX Runtime's memory use on a synthetic checkpoint (random weights, real layout) so
 * that the memory plan's factors are measured, not guessed. Used by `measureOrtMemory` (and the
 * numbers quoted in memory.ts). CPU only here: RSS of this process before and after each session.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Model } from '../../engine/model';
import { writeSafetensors, type WriteDtype, type WriteTensor } from '../../weights/write';
import { hooks } from '../../engine/hooks';
import { Plan, plan } from '../../engine/plan';

export interface SyntheticLlama {
  dModel: number;
  nLayers: number;
  nHeads: number;
  nKvHeads: number;
  dMlp: number;
  vocabSize: number;
}

/** Writes a random Llama checkpoint (config.json + model.safetensors) and returns its folder and parameter count. */
export function writeSyntheticLlama(
  dir: string,
  s: SyntheticLlama,
  dtype: WriteDtype,
): { dir: string; params: number } {
  fs.mkdirSync(dir, { recursive: true });
  const hd = s.dModel / s.nHeads;
  const shapes: [string, number[]][] = [
    ['model.embed_tokens.weight', [s.vocabSize, s.dModel]],
    ['lm_head.weight', [s.vocabSize, s.dModel]],
    ['model.norm.weight', [s.dModel]],
  ];
  for (let l = 0; l < s.nLayers; l++) {
    const p = `model.layers.${l}`;
    shapes.push(
      [`${p}.input_layernorm.weight`, [s.dModel]],
      [`${p}.post_attention_layernorm.weight`, [s.dModel]],
      [`${p}.self_attn.q_proj.weight`, [s.dModel, s.dModel]],
      [`${p}.self_attn.k_proj.weight`, [s.nKvHeads * hd, s.dModel]],
      [`${p}.self_attn.v_proj.weight`, [s.nKvHeads * hd, s.dModel]],
      [`${p}.self_attn.o_proj.weight`, [s.dModel, s.dModel]],
      [`${p}.mlp.gate_proj.weight`, [s.dMlp, s.dModel]],
      [`${p}.mlp.up_proj.weight`, [s.dMlp, s.dModel]],
      [`${p}.mlp.down_proj.weight`, [s.dModel, s.dMlp]],
    );
  }
  let params = 0;
  let seed = 12345;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32 - 0.5) * 0.04;
  const tensors: WriteTensor[] = shapes.map(([name, shape]) => {
    const n = shape.reduce((a, b) => a * b, 1);
    params += n;
    const data = new Float32Array(n);
    const isNorm = shape.length === 1;
    for (let i = 0; i < n; i++) data[i] = isNorm ? 1 : rnd();
    return { name, shape, dtype, data };
  });
  writeSafetensors(path.join(dir, 'model.safetensors'), tensors);
  const torchDtype = dtype === 'F32' ? 'float32' : dtype === 'F16' ? 'float16' : 'bfloat16';
  fs.writeFileSync(
    path.join(dir, 'config.json'),
    JSON.stringify({
      model_type: 'llama',
      hidden_size: s.dModel,
      num_hidden_layers: s.nLayers,
      num_attention_heads: s.nHeads,
      num_key_value_heads: s.nKvHeads,
      intermediate_size: s.dMlp,
      vocab_size: s.vocabSize,
      max_position_embeddings: 512,
      rms_norm_eps: 1e-5,
      hidden_act: 'silu',
      tie_word_embeddings: false,
      torch_dtype: torchDtype,
    }),
  );
  return { dir, params };
}

export interface OrtMemoryMeasurement {
  params: number;
  dtype: string;
  /** RSS growth (bytes) after the first session was created and run once */
  firstSession: number;
  /** RSS growth per further session (different plan) */
  perExtraSession: number[];
  /** RSS growth of one batch run (batchTokens) beyond the session itself */
  activations: number;
  batchTokens: number;
  /** firstSession / (4 · params): the factor on float32 weight bytes */
  weightFactor: number;
  sessions: number;
}

const rss = () => {
  if (global.gc) global.gc();
  return process.memoryUsage().rss;
};

/**
 * Loads `dir`, creates sessions for four plans a sweep uses (clean, capture, magnitude, legacy
 * angle) on the CPU provider and reports RSS growth. Run with `node --expose-gc` for steadier numbers.
 */
export async function measureOrtMemory(
  dir: string,
  params: number,
  opts: { batch?: number; len?: number } = {},
): Promise<OrtMemoryMeasurement> {
  const model = await Model.fromDir(dir, { threads: Math.max(1, os.availableParallelism()) });
  const L = opts.len ?? 64;
  const B = opts.batch ?? 1;
  const tiny = [{ id: 0, ids: Array.from({ length: 8 }, (_, i) => 3 + i) }];
  const batch = Array.from({ length: B }, (_, b) => ({
    id: b,
    ids: Array.from({ length: L }, (_, i) => 3 + ((i * 7 + b) % 200)),
  }));
  const at = hooks.residPost(1);
  const plans: Plan[] = [
    plan('logprobs'),
    plan().capture(hooks.residPost(0)),
    plan('logprobs').perturb(at, { op: 'magnitude', delta: 0.5 }),
    plan('logprobs').perturb(at, { op: 'angle_legacy', delta: 0.5, legacyIters: 20 }),
  ];
  const r0 = rss();
  await model.runWithHooks(tiny, plans[0], { batchSize: 1 });
  const r1 = rss();
  await model.runWithHooks(batch, plans[0], { batchSize: B });
  const r2 = rss();
  const extra: number[] = [];
  let prev = r2;
  for (const p of plans.slice(1)) {
    await model.runWithHooks(tiny, p, { batchSize: 1 });
    const r = rss();
    extra.push(r - prev);
    prev = r;
  }
  await model.release();
  const dtype = model.cfg.dtype;
  return {
    params,
    dtype,
    firstSession: r1 - r0,
    perExtraSession: extra,
    activations: r2 - r1,
    batchTokens: B * L,
    weightFactor: (r1 - r0) / (4 * params),
    sessions: plans.length,
  };
}
