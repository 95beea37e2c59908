/** The float64 reference forward pass of OPT (test oracle; see numerics.ts). */
import { act, add, attention, layerNorm, linear, rmsNorm, rotary, type Json, type Mat, type Vec } from './numerics';
import type { Forward, ReferenceFamily, RefWeights } from './family';

export const optReference: ReferenceFamily = {
  modelTypes: ['opt'],
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
    act_ = c.activation_function ?? 'relu';
    const hd = D / H;
    const eps = 1e-5;
    // positions from the mask: 0..len−1 for real tokens, read at +2
    embed = x = add(
      w.rows('model.decoder.embed_tokens.weight', ids),
      w.rows(
        'model.decoder.embed_positions.weight',
        pos.map((t) => t + 2),
      ),
    );
    block = (x, l) => {
      const p = `model.decoder.layers.${l}`;
      const a = ln(x, `${p}.self_attn_layer_norm`, eps);
      const q = lin(a, `${p}.self_attn.q_proj`); // HF scales q by hd^-0.5: the same as scaling scores
      const mid = add(
        x,
        lin(
          attention(q, lin(a, `${p}.self_attn.k_proj`), lin(a, `${p}.self_attn.v_proj`), T, H, H, hd),
          `${p}.self_attn.out_proj`,
        ),
      );
      const m = ln(mid, `${p}.final_layer_norm`, eps);
      return add(
        mid,
        lin(
          lin(m, `${p}.fc1`).map((u) => act(act_, u)),
          `${p}.fc2`,
        ),
      );
    };
    finalNorm = (x) => ln(x, 'model.decoder.final_layer_norm', eps);
    head = w.has('lm_head.weight') ? w.mat('lm_head.weight') : w.mat('model.decoder.embed_tokens.weight');
    return { D: D!, L: L!, embed: embed!, block: block!, finalNorm: finalNorm!, head: head! };
  },
};
