/** The float64 reference forward pass of GPT-2 (test oracle; see numerics.ts). */
import { act, add, attention, linear, type Json, type Mat, type Vec } from './numerics';
import type { Forward, RefOps, ReferenceFamily, RefWeights } from './family';

export const gpt2Reference: ReferenceFamily = {
  modelTypes: ['gpt2'],
  build(w: RefWeights, c: Json, ids: number[], { T, lin, ln }: RefOps): Forward {
    const pos = ids.map((_, t) => t);
    const D = c.n_embd;
    const H = c.n_head;
    const L = c.n_layer;
    const act_ = c.activation_function ?? 'gelu_new';
    const hd = D / H;
    const eps = c.layer_norm_epsilon ?? 1e-5;
    const pre = w.has('transformer.wte.weight') ? 'transformer.' : '';
    const embed = add(w.rows(`${pre}wte.weight`, ids), w.rows(`${pre}wpe.weight`, pos));
    const block = (x: Vec, l: number): Vec => {
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
    const finalNorm = (x: Vec): Vec => ln(x, `${pre}ln_f`, eps);
    const head: Mat = w.has('lm_head.weight') ? w.mat('lm_head.weight') : w.mat(`${pre}wte.weight`);
    return { D, L, embed, block, finalNorm, head };
  },
};
