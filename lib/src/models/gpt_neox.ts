/** GPT-NeoX / Pythia: LayerNorm, fused per-head QKV, partial rotary, parallel or sequential residual. */
import { hooks } from '../engine/hooks';
import type { ModelConfig } from '../engine/types';
import { Architecture } from './architecture';
import { Ctx, W, activation, attention, embed, flat, linear, norm, scoped } from './blocks';
import { ConfigError, activationOf, checkConfig, dtypeOf, field, optional, type Json } from './config';

export const gptNeox: Architecture<'gpt_neox'> = {
  modelTypes: ['gpt_neox'],
  readConfig(raw: Json, file: string): ModelConfig {
    const dtype = dtypeOf(raw);
    const d = field(raw, file, 'hidden_size');
    const h = field(raw, file, 'num_attention_heads');
    if (optional(raw, 'rope_scaling', null)) throw new ConfigError(`${file}: rope_scaling is not supported`);
    return checkConfig(
      {
        modelType: 'gpt_neox',
        nLayers: field(raw, file, 'num_hidden_layers'),
        dModel: d,
        nHeads: h,
        nKvHeads: h,
        headDim: d / h,
        dMlp: field(raw, file, 'intermediate_size'),
        vocabSize: field(raw, file, 'vocab_size'),
        maxPositions: field(raw, file, 'max_position_embeddings'),
        norm: 'layernorm',
        normEps: optional(raw, 'layer_norm_eps', 1e-5),
        parallelResidual: optional(raw, 'use_parallel_residual', true),
        positional: 'rotary',
        rotaryDims: Math.floor((d / h) * field(raw, file, 'rotary_pct')),
        rotaryBase: optional(raw, 'rotary_emb_base', 10000),
        activation: activationOf(optional(raw, 'hidden_act', 'gelu'), file),
        tiedEmbeddings: optional(raw, 'tie_word_embeddings', false),
        dtype,
      },
      file,
    );
  },
  prefixes: ['gpt_neox.', ''],
  position: (t) => t,
  unembedding: (c) => W(c, 'embed_out.weight', [c.cfg.vocabSize, c.cfg.dModel]),
  paramCount: ({ dModel: D, dMlp: F, vocabSize: V, nLayers: L, tiedEmbeddings }) =>
    V * D +
    (tiedEmbeddings ? 0 : V * D) +
    2 * D +
    L * (4 * D + (3 * D * D + 3 * D) + (D * D + D) + (D * F + F) + (F * D + D)),
  forward(c: Ctx): string {
    const { g, cfg } = c;
    const D = cfg.dModel;
    const H = cfg.nHeads;
    const hd = cfg.headDim;
    let x = c.hook(hooks.embed, embed(c, 'gpt_neox.embed_in.weight', cfg.vocabSize, c.inputIds), flat(D));
    for (let l = 0; l < cfg.nLayers; l++)
      x = scoped(c, `blocks.${l}`, () => {
        const p = `gpt_neox.layers.${l}`;
        const pre = c.hook(hooks.residPre(l), x, flat(D));
        const a = norm(c, pre, `${p}.input_layernorm`, 'ln1', l);
        // fused projection laid out per head as [q | k | v], each hd wide
        const qkv = g.reshape(
          linear(c, a, `${p}.attention.query_key_value`, D, 3 * D),
          g.op('Concat', [c.shapeBT, g.constI([H, 3 * hd])], { axis: 0 }),
          ['B', 'T', H, 3 * hd],
        );
        const [q, k, v] = g.opN('Split', [qkv, g.constI([hd, hd, hd])], 3, { axis: 3 });
        const z = attention(c, l, q, k, v);
        const attnOut = c.hook(hooks.attnOut(l), linear(c, z, `${p}.attention.dense`, D, D), flat(D));
        const mlp = (input: string) =>
          scoped(c, `blocks.${l}.mlp`, () => {
            const preAct = c.hook(
              hooks.mlp.pre(l),
              linear(c, input, `${p}.mlp.dense_h_to_4h`, D, cfg.dMlp),
              flat(cfg.dMlp),
            );
            const post = c.hook(hooks.mlp.post(l), activation(c, preAct), flat(cfg.dMlp));
            return c.hook(hooks.mlpOut(l), linear(c, post, `${p}.mlp.dense_4h_to_h`, cfg.dMlp, D), flat(D));
          });
        let out: string;
        if (cfg.parallelResidual) {
          const m = mlp(norm(c, pre, `${p}.post_attention_layernorm`, 'ln2', l));
          out = g.op('Add', [g.op('Add', [m, attnOut]), pre]);
        } else {
          const mid = c.hook(hooks.residMid(l), g.op('Add', [attnOut, pre]), flat(D));
          out = g.op('Add', [mlp(norm(c, mid, `${p}.post_attention_layernorm`, 'ln2', l)), mid]);
        }
        return c.hook(hooks.residPost(l), out, flat(D));
      });
    return norm(c, x, 'gpt_neox.final_layer_norm', 'ln_final');
  },
};
