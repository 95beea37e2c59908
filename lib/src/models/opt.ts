/** OPT (pre-LN, as opt-1.3b): LayerNorm, learned positions offset by 2, ReLU MLP, tied head. */
import { hooks } from '../engine/hooks';
import type { ModelConfig } from '../engine/types';
import { Architecture } from './architecture';
import { Ctx, activation, attention, embed, flat, linear, norm, scoped, splitHeads, tiedHead } from './blocks';
import { ConfigError, activationOf, checkConfig, dtypeOf, field, optional, type Json } from './config';

export const opt: Architecture<'opt'> = {
  modelTypes: ['opt'],
  readConfig(raw: Json, file: string): ModelConfig {
    const dtype = dtypeOf(raw);
    const d = field(raw, file, 'hidden_size');
    const h = field(raw, file, 'num_attention_heads');
    if (optional(raw, 'word_embed_proj_dim', d) !== d)
      throw new ConfigError(
        `${file}: OPT word_embed_proj_dim ≠ hidden_size (project_in/out, as in opt-350m) is not supported`,
      );
    if (!optional(raw, 'do_layer_norm_before', true))
      throw new ConfigError(`${file}: OPT post-LN (do_layer_norm_before=false, as in opt-350m) is not supported`);
    if (optional(raw, '_remove_final_layer_norm', false))
      throw new ConfigError(`${file}: OPT _remove_final_layer_norm=true is not supported`);
    return checkConfig(
      {
        modelType: 'opt',
        nLayers: field(raw, file, 'num_hidden_layers'),
        dModel: d,
        nHeads: h,
        nKvHeads: h,
        headDim: d / h,
        dMlp: field(raw, file, 'ffn_dim'),
        vocabSize: field(raw, file, 'vocab_size'),
        maxPositions: field(raw, file, 'max_position_embeddings'),
        norm: 'layernorm',
        normEps: 1e-5,
        parallelResidual: false,
        positional: 'learned',
        rotaryDims: 0,
        rotaryBase: 10000,
        activation: activationOf(optional(raw, 'activation_function', 'relu'), file),
        tiedEmbeddings: optional(raw, 'tie_word_embeddings', true),
        dtype,
      },
      file,
    );
  },
  prefixes: ['model.', ''],
  // HF derives OPT positions from the mask (cumsum·mask − 1) and reads the table at position + 2:
  // real tokens t + 2, right padding −1 + 2 = 1
  position: (t, length) => (t < length ? t + 2 : 1),
  unembedding: (c) => tiedHead(c, 'model.decoder.embed_tokens.weight'),
  paramCount: ({ dModel: D, dMlp: F, vocabSize: V, nLayers: L, maxPositions, tiedEmbeddings }) =>
    V * D +
    (tiedEmbeddings ? 0 : V * D) +
    (maxPositions + 2) * D +
    2 * D +
    L * (4 * D + 4 * (D * D + D) + (D * F + F) + (F * D + D)),
  forward(c: Ctx): string {
    const { g, cfg } = c;
    const D = cfg.dModel;
    const H = cfg.nHeads;
    const tok = c.hook(hooks.embed, embed(c, 'model.decoder.embed_tokens.weight', cfg.vocabSize, c.inputIds), flat(D));
    const positions = embed(c, 'model.decoder.embed_positions.weight', cfg.maxPositions + 2, c.positionIds);
    let x = g.op('Add', [tok, c.hook(hooks.posEmbed, positions, flat(D))]);
    for (let l = 0; l < cfg.nLayers; l++)
      x = scoped(c, `blocks.${l}`, () => {
        const p = `model.decoder.layers.${l}`;
        const pre = c.hook(hooks.residPre(l), x, flat(D));
        const a = norm(c, pre, `${p}.self_attn_layer_norm`, 'ln1', l);
        const proj = (n: string) => splitHeads(c, linear(c, a, `${p}.self_attn.${n}`, D, D), H);
        const z = attention(c, l, proj('q_proj'), proj('k_proj'), proj('v_proj'), true);
        const attnOut = c.hook(hooks.attnOut(l), linear(c, z, `${p}.self_attn.out_proj`, D, D), flat(D));
        const mid = c.hook(hooks.residMid(l), g.op('Add', [pre, attnOut]), flat(D));
        const m = norm(c, mid, `${p}.final_layer_norm`, 'ln2', l);
        const mlpOut = scoped(c, `blocks.${l}.mlp`, () => {
          const preAct = c.hook(hooks.mlp.pre(l), linear(c, m, `${p}.fc1`, D, cfg.dMlp), flat(cfg.dMlp));
          const post = c.hook(hooks.mlp.post(l), activation(c, preAct), flat(cfg.dMlp));
          return c.hook(hooks.mlpOut(l), linear(c, post, `${p}.fc2`, cfg.dMlp, D), flat(D));
        });
        return c.hook(hooks.residPost(l), g.op('Add', [mid, mlpOut]), flat(D));
      });
    return norm(c, x, 'model.decoder.final_layer_norm', 'ln_final');
  },
};
