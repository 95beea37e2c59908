/** The float64 reference forward pass of Llama / Mistral (test oracle; see numerics.ts). */
import { act, add, attention, linear, rmsNorm, rotary, type Json, type Mat, type Vec } from './numerics';
import type { Forward, RefOps, ReferenceFamily, RefWeights } from './family';

export const llamaReference: ReferenceFamily = {
  modelTypes: ['llama', 'mistral'],
  build(w: RefWeights, c: Json, ids: number[], { T, lin, ln }: RefOps): Forward {
    const D = c.hidden_size;
    const H = c.num_attention_heads;
    const KVH = c.num_key_value_heads ?? H;
    const L = c.num_hidden_layers;
    const act_ = c.hidden_act ?? 'silu';
    const hd = D / H;
    const eps = c.rms_norm_eps ?? 1e-6;
    const base = c.rope_theta ?? 10000;
    const rms = (x: Vec, name: string) => rmsNorm(x, T, D, w.vec(name), eps);
    const embed = w.rows('model.embed_tokens.weight', ids);
    const block = (x: Vec, l: number): Vec => {
      const p = `model.layers.${l}`;
      const a = rms(x, `${p}.input_layernorm.weight`);
      const q = rotary(lin(a, `${p}.self_attn.q_proj`, { bias: 'optional' }), T, H, hd, hd, base);
      const k = rotary(lin(a, `${p}.self_attn.k_proj`, { bias: 'optional' }), T, KVH, hd, hd, base);
      const v = lin(a, `${p}.self_attn.v_proj`, { bias: 'optional' });
      const mid = add(x, lin(attention(q, k, v, T, H, KVH, hd), `${p}.self_attn.o_proj`, { bias: 'optional' }));
      const m = rms(mid, `${p}.post_attention_layernorm.weight`);
      const gate = lin(m, `${p}.mlp.gate_proj`, { bias: 'no' });
      const up = lin(m, `${p}.mlp.up_proj`, { bias: 'no' });
      return add(
        mid,
        lin(
          gate.map((g, i) => act(act_, g) * up[i]),
          `${p}.mlp.down_proj`,
          { bias: 'no' },
        ),
      );
    };
    const finalNorm = (x: Vec): Vec => rms(x, 'model.norm.weight');
    const head: Mat = w.has('lm_head.weight') ? w.mat('lm_head.weight') : w.mat('model.embed_tokens.weight');
    return { D, L, embed, block, finalNorm, head };
  },
};
