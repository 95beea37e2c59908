/**
 * Benchmark checkpoints: Pythia configurations (the real config.json values) with random float32
 * weights, written once as model.safetensors into a git-ignored cache. Speed does not depend on
 * the weights' values, only on shapes, so random weights stand in for downloads.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { repoRoot } from '../util/paths';
import { writeSafetensors, type WriteTensor } from '../weights/write';

export interface PythiaSpec {
  name: string;
  dModel: number;
  nLayers: number;
  nHeads: number;
  dMlp: number;
  vocab: number;
  maxPositions: number;
}

export const PYTHIA: Record<string, PythiaSpec> = {
  'pythia-70m': {
    name: 'pythia-70m',
    dModel: 512,
    nLayers: 6,
    nHeads: 8,
    dMlp: 2048,
    vocab: 50304,
    maxPositions: 2048,
  },
  'pythia-160m': {
    name: 'pythia-160m',
    dModel: 768,
    nLayers: 12,
    nHeads: 12,
    dMlp: 3072,
    vocab: 50304,
    maxPositions: 2048,
  },
  'pythia-410m': {
    name: 'pythia-410m',
    dModel: 1024,
    nLayers: 24,
    nHeads: 16,
    dMlp: 4096,
    vocab: 50304,
    maxPositions: 2048,
  },
};

/** Sizes the sweep benchmark projects to but never runs here (real config.json values). */
export const PROJECTED: Record<string, PythiaSpec> = {
  'pythia-1.4b': {
    name: 'pythia-1.4b',
    dModel: 2048,
    nLayers: 24,
    nHeads: 16,
    dMlp: 8192,
    vocab: 50304,
    maxPositions: 2048,
  },
};

/** A tiny Pythia-shaped model for tests of the benchmark code. */
export const TINY: PythiaSpec = {
  name: 'pythia-tiny',
  dModel: 64,
  nLayers: 3,
  nHeads: 4,
  dMlp: 256,
  vocab: 512,
  maxPositions: 128,
};

export function benchCacheDir(): string {
  return process.env.DIRMAG_BENCH_CACHE
    ? path.resolve(process.env.DIRMAG_BENCH_CACHE)
    : path.join(repoRoot() ?? process.cwd(), '.cache/bench');
}

export function pythiaConfig(s: PythiaSpec, dtype: 'F32' | 'F16' = 'F32'): Record<string, unknown> {
  return {
    architectures: ['GPTNeoXForCausalLM'],
    model_type: 'gpt_neox',
    hidden_size: s.dModel,
    num_hidden_layers: s.nLayers,
    num_attention_heads: s.nHeads,
    intermediate_size: s.dMlp,
    vocab_size: s.vocab,
    max_position_embeddings: s.maxPositions,
    rotary_pct: 0.25,
    rotary_emb_base: 10000,
    layer_norm_eps: 1e-5,
    hidden_act: 'gelu',
    use_parallel_residual: true,
    tie_word_embeddings: false,
    torch_dtype: dtype === 'F16' ? 'float16' : 'float32',
    bos_token_id: 0,
    eos_token_id: 0,
  };
}

/** HF tensor names and shapes of a GPT-NeoX checkpoint. */
export function pythiaTensors(s: PythiaSpec): { name: string; shape: number[]; init: 'normal' | 'one' | 'zero' }[] {
  const D = s.dModel,
    F = s.dMlp;
  const t: { name: string; shape: number[]; init: 'normal' | 'one' | 'zero' }[] = [
    { name: 'gpt_neox.embed_in.weight', shape: [s.vocab, D], init: 'normal' },
  ];
  for (let l = 0; l < s.nLayers; l++) {
    const p = `gpt_neox.layers.${l}`;
    t.push(
      { name: `${p}.input_layernorm.weight`, shape: [D], init: 'one' },
      { name: `${p}.input_layernorm.bias`, shape: [D], init: 'zero' },
      { name: `${p}.post_attention_layernorm.weight`, shape: [D], init: 'one' },
      { name: `${p}.post_attention_layernorm.bias`, shape: [D], init: 'zero' },
      { name: `${p}.attention.query_key_value.weight`, shape: [3 * D, D], init: 'normal' },
      { name: `${p}.attention.query_key_value.bias`, shape: [3 * D], init: 'zero' },
      { name: `${p}.attention.dense.weight`, shape: [D, D], init: 'normal' },
      { name: `${p}.attention.dense.bias`, shape: [D], init: 'zero' },
      { name: `${p}.mlp.dense_h_to_4h.weight`, shape: [F, D], init: 'normal' },
      { name: `${p}.mlp.dense_h_to_4h.bias`, shape: [F], init: 'zero' },
      { name: `${p}.mlp.dense_4h_to_h.weight`, shape: [D, F], init: 'normal' },
      { name: `${p}.mlp.dense_4h_to_h.bias`, shape: [D], init: 'zero' },
    );
  }
  t.push(
    { name: 'gpt_neox.final_layer_norm.weight', shape: [D], init: 'one' },
    { name: 'gpt_neox.final_layer_norm.bias', shape: [D], init: 'zero' },
    { name: 'embed_out.weight', shape: [s.vocab, D], init: 'normal' },
  );
  return t;
}

/** Parameter counts: all, and without the embedding and unembedding matrices. */
export function paramCounts(s: PythiaSpec): { total: number; nonEmbedding: number } {
  let total = 0,
    nonEmbedding = 0;
  for (const t of pythiaTensors(s)) {
    const n = t.shape.reduce((a, b) => a * b, 1);
    total += n;
    if (t.name !== 'gpt_neox.embed_in.weight' && t.name !== 'embed_out.weight') nonEmbedding += n;
  }
  return { total, nonEmbedding };
}

/**
 * The folder of a benchmark checkpoint, written on first use (random weights ~ N(0, 0.02²)-scaled
 * uniforms, LayerNorm γ = 1, β = 0; fixed seed). Streams tensor by tensor: no full copy in memory.
 * `F16` stores the same values rounded to float16 (what the hub ships for Pythia), in `<name>-f16`.
 */
export function ensurePythia(s: PythiaSpec, root = benchCacheDir(), dtype: 'F32' | 'F16' = 'F32'): string {
  const dir = path.join(root, dtype === 'F16' ? `${s.name}-f16` : s.name);
  const file = path.join(dir, 'model.safetensors');
  const done = path.join(dir, '.complete');
  if (fs.existsSync(done)) return dir;
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(pythiaConfig(s, dtype), null, 2));
  let state = 0x12345678;
  const a = 0.02 * Math.sqrt(3); // uniform(-a, a) has std 0.02
  const tensors: WriteTensor[] = pythiaTensors(s).map((t) => ({
    name: t.name,
    shape: t.shape,
    dtype,
    data: (_start: number, out: Float32Array) => {
      for (let i = 0; i < out.length; i++) {
        if (t.init === 'normal') {
          state ^= state << 13;
          state ^= state >>> 17;
          state ^= state << 5;
          out[i] = ((state >>> 0) / 4294967296 - 0.5) * 2 * a;
        } else out[i] = t.init === 'one' ? 1 : 0;
      }
    },
  }));
  writeSafetensors(file, tensors, { format: 'pt', note: 'dirmag benchmark: random weights' });
  fs.writeFileSync(done, new Date().toISOString());
  return dir;
}
