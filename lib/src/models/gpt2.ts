/** GPT-2: LayerNorm, Conv1D weights ([in, out]), learned positions, tied head. */
import { hooks } from '../engine/hooks';
import type { ModelConfig } from '../engine/types';
import { Architecture } from './architecture';
import { Ctx, activation, attention, embed, flat, linear, norm, scoped, splitHeads, tiedHead } from './blocks';
import { ConfigError, activationOf, checkConfig, dtypeOf, field, optional, type Json } from './config';

export const gpt2: Architecture<'gpt2'> = {
  modelTypes: ['gpt2'],
  readConfig(raw: Json, file: string): ModelConfig {
    const dtype = dtypeOf(raw);
    const d = field(raw, file, 'n_embd', 'hidden_size');
    const h = field(raw, file, 'n_head', 'num_attention_heads');
    if (optional(raw, 'scale_attn_by_inverse_layer_idx', false) || optional(raw, 'reorder_and_upcast_attn', false))
      throw new ConfigError(
        `${file}: GPT-2 scale_attn_by_inverse_layer_idx / reorder_and_upcast_attn are not supported`,
      );
    return checkConfig(
      {
        modelType: 'gpt2',
        nLayers: field(raw, file, 'n_layer', 'num_hidden_layers'),
        dModel: d,
        nHeads: h,
        nKvHeads: h,
        headDim: d / h,
        dMlp: optional(raw, 'n_inner', 4 * d),
        vocabSize: field(raw, file, 'vocab_size'),
        maxPositions: field(raw, file, 'n_positions', 'max_position_embeddings'),
        norm: 'layernorm',
        normEps: optional(raw, 'layer_norm_epsilon', 1e-5),
        parallelResidual: false,
        positional: 'learned',
        rotaryDims: 0,
        rotaryBase: 10000,
        activation: activationOf(optional(raw, 'activation_function', 'gelu_new'), file),
        tiedEmbeddings: optional(raw, 'tie_word_embeddings', true),
        dtype,
      },
      file,
    );
  },
  prefixes: ['transformer.', ''],
  position: (t) => t,
  unembedding: (c) => tiedHead(c, 'transformer.wte.weight'),
  paramCount: ({ dModel: D, dMlp: F, vocabSize: V, nLayers: L, maxPositions, tiedEmbeddings }) =>
    V * D +
    (tiedEmbeddings ? 0 : V * D) +
    maxPositions * D +
    2 * D +
    L * (4 * D + (3 * D * D + 3 * D) + (D * D + D) + (D * F + F) + (F * D + D)),
  forward(c: Ctx): string {
    const { g, cfg } = c;
    const D = cfg.dModel;
    const H = cfg.nHeads;
    const tok = c.hook(hooks.embed, embed(c, 'transformer.wte.weight', cfg.vocabSize, c.inputIds), flat(D));
    const pos = c.hook(hooks.posEmbed, embed(c, 'transformer.wpe.weight', cfg.maxPositions, c.positionIds), flat(D));
    let x = g.op('Add', [tok, pos]);
    const conv = { conv1d: true };
    for (let l = 0; l < cfg.nLayers; l++)
      x = scoped(c, `blocks.${l}`, () => {
        const p = `transformer.h.${l}`;
        const pre = c.hook(hooks.residPre(l), x, flat(D));
        const a = norm(c, pre, `${p}.ln_1`, 'ln1', l);
        const [q, k, v] = g.opN('Split', [linear(c, a, `${p}.attn.c_attn`, D, 3 * D, conv), g.constI([D, D, D])], 3, {
          axis: 1,
        });
        const z = attention(c, l, splitHeads(c, q, H), splitHeads(c, k, H), splitHeads(c, v, H));
        const attnOut = c.hook(hooks.attnOut(l), linear(c, z, `${p}.attn.c_proj`, D, D, conv), flat(D));
        const mid = c.hook(hooks.residMid(l), g.op('Add', [attnOut, pre]), flat(D));
        const m = norm(c, mid, `${p}.ln_2`, 'ln2', l);
        const mlpOut = scoped(c, `blocks.${l}.mlp`, () => {
          const preAct = c.hook(hooks.mlp.pre(l), linear(c, m, `${p}.mlp.c_fc`, D, cfg.dMlp, conv), flat(cfg.dMlp));
          const post = c.hook(hooks.mlp.post(l), activation(c, preAct), flat(cfg.dMlp));
          return c.hook(hooks.mlpOut(l), linear(c, post, `${p}.mlp.c_proj`, cfg.dMlp, D, conv), flat(D));
        });
        return c.hook(hooks.residPost(l), g.op('Add', [mid, mlpOut]), flat(D));
      });
    return norm(c, x, 'transformer.ln_f', 'ln_final');
  },
};
