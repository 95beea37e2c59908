/**
 * EleutherAI/pythia-410m as the hub serves it, with random weights: the real config.json, the real
 * GPT-NeoX tensor names and shapes in fp16, and the buffers real checkpoints carry beside the
 * weights (attention.bias BOOL [1,1,2048,2048], attention.masked_bias, attention.rotary_emb.inv_freq),
 * which the loader must ignore. Written once into `dir` (≈ 0.9 GB).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PYTHIA, pythiaTensors } from '../../lib/src/bench/pythia';
import { writeSafetensors, type WriteTensor } from '../../lib/src/weights/write';

/** config.json of EleutherAI/pythia-410m (main). */
export const PYTHIA_410M_CONFIG = {
  architectures: ['GPTNeoXForCausalLM'],
  bos_token_id: 0,
  eos_token_id: 0,
  hidden_act: 'gelu',
  hidden_size: 1024,
  initializer_range: 0.02,
  intermediate_size: 4096,
  layer_norm_eps: 1e-5,
  max_position_embeddings: 2048,
  model_type: 'gpt_neox',
  num_attention_heads: 16,
  num_hidden_layers: 24,
  rotary_emb_base: 10000,
  rotary_pct: 0.25,
  tie_word_embeddings: false,
  torch_dtype: 'float16',
  transformers_version: '4.24.0',
  use_cache: true,
  use_parallel_residual: true,
  vocab_size: 50304,
};

export function ensurePythia410m(dir: string): { config: string; weights: string } {
  const config = path.join(dir, 'config.json');
  const weights = path.join(dir, 'model.safetensors');
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(config, JSON.stringify(PYTHIA_410M_CONFIG, null, 2) + '\n');
  if (fs.existsSync(weights)) return { config, weights };
  const c = PYTHIA_410M_CONFIG;
  const spec = PYTHIA['pythia-410m'];
  let state = 0x2545f491;
  const a = 0.02 * Math.sqrt(3);
  const tensors: WriteTensor[] = pythiaTensors(spec).map((t) => ({
    name: t.name,
    shape: t.shape,
    dtype: 'F16',
    data: (_start: number, out: Float32Array) => {
      for (let i = 0; i < out.length; i++) {
        if (t.init !== 'normal') {
          out[i] = t.init === 'one' ? 1 : 0;
          continue;
        }
        state ^= state << 13;
        state ^= state >>> 17;
        state ^= state << 5;
        out[i] = ((state >>> 0) / 4294967296 - 0.5) * 2 * a;
      }
    },
  }));
  const P = c.max_position_embeddings;
  const rotary = ((c.hidden_size / c.num_attention_heads) * c.rotary_pct) / 2;
  for (let l = 0; l < c.num_hidden_layers; l++) {
    const p = `gpt_neox.layers.${l}.attention`;
    tensors.push(
      {
        name: `${p}.bias`,
        shape: [1, 1, P, P],
        dtype: 'BOOL',
        data: (start, out) => {
          for (let i = 0; i < out.length; i++) out[i] = (start + i) % P <= Math.floor((start + i) / P) ? 1 : 0;
        },
      },
      { name: `${p}.masked_bias`, shape: [], dtype: 'F16', data: [-1e9] },
      {
        name: `${p}.rotary_emb.inv_freq`,
        shape: [rotary],
        dtype: 'F16',
        data: Array.from({ length: rotary }, (_, i) => 1 / c.rotary_emb_base ** ((2 * i) / (2 * rotary))),
      },
    );
  }
  writeSafetensors(weights, tensors, { format: 'pt' });
  return { config, weights };
}
