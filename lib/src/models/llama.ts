/** Llama / Mistral: RMSNorm, separate q/k/v projections with GQA, full rotary, SwiGLU MLP. */
import { Ctx, activation, attention, embed, linear, norm, rotary, splitHeads, tiedHead } from './blocks';
import { Architecture } from './architecture';

export const llama: Architecture = {
  prefixes: ['model.', ''],
  unembedding: (c) => tiedHead(c, 'model.embed_tokens.weight'),
  forward(c: Ctx): string {
    const { g, cfg } = c;
    const D = cfg.dModel;
    const H = cfg.nHeads;
    const KVH = cfg.nKvHeads;
    const hd = cfg.headDim;
    const flat = { kind: 'flat' as const, width: D };
    let x = c.hooks.hook('hook_embed', embed(c, 'model.embed_tokens.weight', cfg.vocabSize, c.inputIds), flat);
    for (let l = 0; l < cfg.nLayers; l++) {
      const p = `model.layers.${l}`;
      const b = `blocks.${l}`;
      x = c.hooks.hook(`${b}.hook_resid_pre`, x, flat);
      const a = norm(c, x, `${p}.input_layernorm`, `${b}.ln1`);
      const proj = (n: string, heads: number) =>
        splitHeads(c, linear(c, a, `${p}.self_attn.${n}`, D, heads * hd, { bias: 'optional' }), heads);
      const z = attention(c, l, rotary(c, proj('q_proj', H)), rotary(c, proj('k_proj', KVH)), proj('v_proj', KVH));
      const attnOut = c.hooks.hook(
        `${b}.hook_attn_out`,
        linear(c, z, `${p}.self_attn.o_proj`, H * hd, D, { bias: 'optional' }),
        flat,
      );
      const mid = c.hooks.hook(`${b}.hook_resid_mid`, g.op('Add', [x, attnOut]), flat);
      const m = norm(c, mid, `${p}.post_attention_layernorm`, `${b}.ln2`);
      const gate = activation(c, linear(c, m, `${p}.mlp.gate_proj`, D, cfg.dMlp, { bias: false }));
      const post = c.hooks.hook(
        `${b}.mlp.hook_post`,
        g.op('Mul', [gate, linear(c, m, `${p}.mlp.up_proj`, D, cfg.dMlp, { bias: false })]),
        { kind: 'flat', width: cfg.dMlp },
      );
      const mlpOut = c.hooks.hook(
        `${b}.hook_mlp_out`,
        linear(c, post, `${p}.mlp.down_proj`, cfg.dMlp, D, { bias: false }),
        flat,
      );
      x = c.hooks.hook(`${b}.hook_resid_post`, g.op('Add', [mid, mlpOut]), flat);
    }
    return norm(c, x, 'model.norm', 'ln_final');
  },
};
