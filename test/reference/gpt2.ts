/** The float64 reference forward pass of GPT-2 (test oracle; see numerics.ts). */
import { act, add, attention, layerNorm, linear, rmsNorm, rotary, type Json, type Mat, type Vec } from './numerics';
import type { Forward, ReferenceFamily, RefWeights } from './family';

export const gpt2Reference: ReferenceFamily = {
  modelTypes: ['gpt2'],
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
    D = c.n_embd;
    H = KVH = c.n_head;
    L = c.n_layer;
    act_ = c.activation_function ?? 'gelu_new';
    const hd = D / H;
    const eps = c.layer_norm_epsilon ?? 1e-5;
    const pre = w.has('transformer.wte.weight') ? 'transformer.' : '';
    embed = x = add(w.rows(`${pre}wte.weight`, ids), w.rows(`${pre}wpe.weight`, pos));
    block = (x, l) => {
      const p = `${pre}h.${l}`;
      const qkv = lin(ln(x, `${p}.ln_1`, eps), `${p}.attn.c_attn`, { conv: true }); // [T, 3D] = [q | k | v]
      const part = (j: number) => {
        const o = new Float64Array(T * D);
        for (let t = 0; t < T; t++) o.set(qkv.subarray(t * 3 * D + j * D, t * 3 * D + (j + 1) * D), t * D);
        return o;
      };
      const mid = add(x, lin(attention(part(0), part(1), part(2), T, H, H, hd), `${p}.attn.c_proj`, { conv: true }));
      const m = ln(mid, `${p}.ln_2`, eps);
      return add(
        mid,
        lin(
          lin(m, `${p}.mlp.c_fc`, { conv: true }).map((u) => act(act_, u)),
          `${p}.mlp.c_proj`,
          { conv: true },
        ),
      );
    };
    finalNorm = (x) => ln(x, `${pre}ln_f`, eps);
    head = w.has('lm_head.weight') ? w.mat('lm_head.weight') : w.mat(`${pre}wte.weight`);
    return { D: D!, L: L!, embed: embed!, block: block!, finalNorm: finalNorm!, head: head! };
  },
};
