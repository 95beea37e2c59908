/** Llama / Mistral: RMSNorm, separate q/k/v projections with GQA, full rotary, SwiGLU MLP. */
import { hooks } from '../engine/hooks';
import type { ModelConfig } from '../engine/types';
import { Architecture } from './architecture';
import { Ctx, activation, attention, embed, flat, linear, norm, scoped, splitHeads, tiedHead } from './blocks';
import { ConfigError, activationOf, checkConfig, dtypeOf, field, optional, type Json } from './config';

export const llama: Architecture<'llama' | 'mistral'> = {
  modelTypes: ['llama', 'mistral'],
  readConfig(raw: Json, file: string): ModelConfig {
    const dtype = dtypeOf(raw);
    const d = field(raw, file, 'hidden_size');
    const h = field(raw, file, 'num_attention_heads');
    if (optional(raw, 'rope_scaling', null)) throw new ConfigError(`${file}: rope_scaling is not supported`);
    const hd = optional(raw, 'head_dim', d / h);
    if (hd !== d / h)
      throw new ConfigError(`${file}: head_dim ${hd} ≠ hidden_size/num_attention_heads is not supported`);
    return checkConfig(
      {
        modelType: raw.model_type === 'mistral' ? 'mistral' : 'llama',
        nLayers: field(raw, file, 'num_hidden_layers'),
        dModel: d,
        nHeads: h,
        nKvHeads: optional(raw, 'num_key_value_heads', h),
        headDim: hd,
        dMlp: field(raw, file, 'intermediate_size'),
        vocabSize: field(raw, file, 'vocab_size'),
        maxPositions: field(raw, file, 'max_position_embeddings'),
        norm: 'rmsnorm',
        normEps: optional(raw, 'rms_norm_eps', 1e-6),
        parallelResidual: false,
        positional: 'rotary',
        rotaryDims: hd,
        rotaryBase: optional(raw, 'rope_theta', 10000),
        activation: activationOf(optional(raw, 'hidden_act', 'silu'), file),
        tiedEmbeddings: optional(raw, 'tie_word_embeddings', false),
        dtype,
      },
      file,
    );
  },
  prefixes: ['model.', ''],
  position: (t) => t,
  unembedding: (c) => tiedHead(c, 'model.embed_tokens.weight'),
  paramCount: ({ dModel: D, dMlp: F, vocabSize: V, nLayers: L, nHeads, nKvHeads, tiedEmbeddings }) => {
    const kv = nKvHeads * (D / nHeads);
    return V * D + (tiedEmbeddings ? 0 : V * D) + D + L * (2 * D + 2 * D * D + 2 * D * kv + 3 * D * F);
  },
  forward(c: Ctx): string {
    const { g, cfg } = c;
    const D = cfg.dModel;
    const H = cfg.nHeads;
    const KVH = cfg.nKvHeads;
    const hd = cfg.headDim;
    const F = cfg.dMlp;
    let x = c.hook(hooks.embed, embed(c, 'model.embed_tokens.weight', cfg.vocabSize, c.inputIds), flat(D));
    for (let l = 0; l < cfg.nLayers; l++)
      x = scoped(c, `blocks.${l}`, () => {
        const p = `model.layers.${l}`;
        const pre = c.hook(hooks.residPre(l), x, flat(D));
        const a = norm(c, pre, `${p}.input_layernorm`, 'ln1', l);
        const proj = (n: string, heads: number) =>
          splitHeads(c, linear(c, a, `${p}.self_attn.${n}`, D, heads * hd, { bias: 'optional' }), heads);
        const z = attention(c, l, proj('q_proj', H), proj('k_proj', KVH), proj('v_proj', KVH));
        const o = linear(c, z, `${p}.self_attn.o_proj`, H * hd, D, { bias: 'optional' });
        const attnOut = c.hook(hooks.attnOut(l), o, flat(D));
        const mid = c.hook(hooks.residMid(l), g.op('Add', [pre, attnOut]), flat(D));
        const m = norm(c, mid, `${p}.post_attention_layernorm`, 'ln2', l);
        const mlpOut = scoped(c, `blocks.${l}.mlp`, () => {
          const gate = c.hook(hooks.mlp.pre(l), linear(c, m, `${p}.mlp.gate_proj`, D, F, { bias: false }), flat(F));
          const up = c.hook(hooks.mlp.preLinear(l), linear(c, m, `${p}.mlp.up_proj`, D, F, { bias: false }), flat(F));
          const post = c.hook(hooks.mlp.post(l), g.op('Mul', [activation(c, gate), up]), flat(F));
          return c.hook(hooks.mlpOut(l), linear(c, post, `${p}.mlp.down_proj`, F, D, { bias: false }), flat(D));
        });
        return c.hook(hooks.residPost(l), g.op('Add', [mid, mlpOut]), flat(D));
      });
    return norm(c, x, 'model.norm', 'ln_final');
  },
};
