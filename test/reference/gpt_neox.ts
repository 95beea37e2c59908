/** The float64 reference forward pass of GPT-NeoX / Pythia (test oracle; see numerics.ts). */
import { act, add, attention, layerNorm, linear, rmsNorm, rotary, type Json, type Mat, type Vec } from './numerics';
import type { Forward, ReferenceFamily, RefWeights } from './family';

export const gptNeoxReference: ReferenceFamily = {
  modelTypes: ['gpt_neox'],
  build(w: RefWeights, c: Json, ids: number[]): Forward {
    const T = ids.length;
    const pos = ids.map((_, t) => t);
    let D: number, H: number, KVH: number, L: number, act_: string;
    let x: Vec;
    let embed: Vec;
    let block: (x: Vec, l: number) => Vec;
    let finalNorm: (x: Vec) => Vec;
    let head: Mat;
    const lin = (x: Vec, prefix: string, opts: { bias?: 'yes' | 'no' | 'optional'; conv?: boolean } = {}) =>
      w.linear(x, T, prefix, opts);
    const ln = (x: Vec, prefix: string, eps: number) =>
      layerNorm(x, T, D, w.vec(`${prefix}.weight`), w.vec(`${prefix}.bias`), eps);
    D = c.hidden_size;
    H = KVH = c.num_attention_heads;
    L = c.num_hidden_layers;
    act_ = c.hidden_act ?? 'gelu';
    const hd = D / H;
    const rd = Math.floor(hd * c.rotary_pct);
    const eps = c.layer_norm_eps ?? 1e-5;
    embed = x = w.rows('gpt_neox.embed_in.weight', ids);
    block = (x, l) => {
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
    finalNorm = (x) => ln(x, 'gpt_neox.final_layer_norm', eps);
    head = w.mat('embed_out.weight');
    return { D: D!, L: L!, embed: embed!, block: block!, finalNorm: finalNorm!, head: head! };
  },
};
