/** The float64 reference forward pass of OPT (test oracle; see numerics.ts). */
import { act, add, attention, linear, type Json, type Mat, type Vec } from './numerics';
import type { Forward, RefOps, ReferenceFamily, RefWeights } from './family';

export const optReference: ReferenceFamily = {
  modelTypes: ['opt'],
  build(w: RefWeights, c: Json, ids: number[], { T, lin, ln }: RefOps): Forward {
    const pos = ids.map((_, t) => t);
    const D = c.hidden_size;
    const H = c.num_attention_heads;
    const L = c.num_hidden_layers;
    const act_ = c.activation_function ?? 'relu';
    const hd = D / H;
    const eps = 1e-5;
    // positions from the mask: 0..len−1 for real tokens, read at +2
    const embed = add(
      w.rows('model.decoder.embed_tokens.weight', ids),
      w.rows(
        'model.decoder.embed_positions.weight',
        pos.map((t) => t + 2),
      ),
    );
    const block = (x: Vec, l: number): Vec => {
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
    const finalNorm = (x: Vec): Vec => ln(x, 'model.decoder.final_layer_norm', eps);
    const head: Mat = w.has('lm_head.weight') ? w.mat('lm_head.weight') : w.mat('model.decoder.embed_tokens.weight');
    return { D, L, embed, block, finalNorm, head };
  },
};
