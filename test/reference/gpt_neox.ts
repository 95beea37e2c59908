/** The float64 reference forward pass of GPT-NeoX / Pythia (test oracle; see numerics.ts). */
import { act, add, attention, linear, rotary, type Json, type Mat, type Vec } from './numerics';
import type { Forward, RefOps, ReferenceFamily, RefWeights } from './family';

export const gptNeoxReference: ReferenceFamily = {
  modelTypes: ['gpt_neox'],
  build(w: RefWeights, c: Json, ids: number[], { T, lin, ln }: RefOps): Forward {
    const D = c.hidden_size;
    const H = c.num_attention_heads;
    const L = c.num_hidden_layers;
    const act_ = c.hidden_act ?? 'gelu';
    const hd = D / H;
    const rd = Math.floor(hd * c.rotary_pct);
    const eps = c.layer_norm_eps ?? 1e-5;
    const embed = w.rows('gpt_neox.embed_in.weight', ids);
    const block = (x: Vec, l: number): Vec => {
      const p = `gpt_neox.layers.${l}`;
      const qkv = lin(ln(x, `${p}.input_layernorm`, eps), `${p}.attention.query_key_value`); // [T, H, 3, hd]
      const q = new Float64Array(T * H * hd),
        k = new Float64Array(T * H * hd),
        v = new Float64Array(T * H * hd);
      for (let t = 0; t < T; t++)
        for (let h = 0; h < H; h++)
          for (let i = 0; i < hd; i++) {
            const o = (t * H + h) * 3 * hd;
            q[(t * H + h) * hd + i] = qkv[o + i];
            k[(t * H + h) * hd + i] = qkv[o + hd + i];
            v[(t * H + h) * hd + i] = qkv[o + 2 * hd + i];
          }
      const base = c.rotary_emb_base ?? 10000;
      const z = attention(rotary(q, T, H, hd, rd, base), rotary(k, T, H, hd, rd, base), v, T, H, H, hd);
      const attnOut = lin(z, `${p}.attention.dense`);
      const mlp = (y: Vec) =>
        lin(
          lin(y, `${p}.mlp.dense_h_to_4h`).map((u) => act(act_, u)),
          `${p}.mlp.dense_4h_to_h`,
        );
      if (c.use_parallel_residual ?? true)
        return add(add(x, attnOut), mlp(ln(x, `${p}.post_attention_layernorm`, eps)));
      const mid = add(x, attnOut);
      return add(mid, mlp(ln(mid, `${p}.post_attention_layernorm`, eps)));
    };
    const finalNorm = (x: Vec): Vec => ln(x, 'gpt_neox.final_layer_norm', eps);
    const head: Mat = w.mat('embed_out.weight');
    return { D, L, embed, block, finalNorm, head };
  },
};
