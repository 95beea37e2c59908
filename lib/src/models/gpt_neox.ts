/** GPT-NeoX / Pythia: LayerNorm, fused per-head QKV, partial rotary, parallel or sequential residual. */
import { Ctx, W, activation, attention, embed, linear, norm, rotary } from './blocks';
import { Architecture } from './architecture';

export const gptNeox: Architecture = {
  prefixes: ['gpt_neox.', ''],
  unembedding: (c) => W(c, 'embed_out.weight', [c.cfg.vocabSize, c.cfg.dModel]),
  forward(c: Ctx): string {
    const { g, cfg } = c;
    const D = cfg.dModel;
    const H = cfg.nHeads;
    const hd = cfg.headDim;
    const flat = { kind: 'flat' as const, width: D };
    let x = c.hooks.hook('hook_embed', embed(c, 'gpt_neox.embed_in.weight', cfg.vocabSize, c.inputIds), flat);
    for (let l = 0; l < cfg.nLayers; l++) {
      const p = `gpt_neox.layers.${l}`;
      const b = `blocks.${l}`;
      x = c.hooks.hook(`${b}.hook_resid_pre`, x, flat);
      const a = norm(c, x, `${p}.input_layernorm`, `${b}.ln1`);
      // fused projection laid out per head as [q | k | v], each hd wide
      const qkv = g.op('Reshape', [
        linear(c, a, `${p}.attention.query_key_value`, D, 3 * D),
        g.op('Concat', [c.shapeBT, g.constI([H, 3 * hd])], { axis: 0 }),
      ]);
      const [q0, k0, v] = g.opN('Split', [qkv, g.constI([hd, hd, hd])], 3, { axis: 3 });
      const z = attention(c, l, rotary(c, q0), rotary(c, k0), v);
      const attnOut = c.hooks.hook(`${b}.hook_attn_out`, linear(c, z, `${p}.attention.dense`, D, D), flat);
      const mlp = (input: string) => {
        const hidden = activation(c, linear(c, input, `${p}.mlp.dense_h_to_4h`, D, cfg.dMlp));
        const post = c.hooks.hook(`${b}.mlp.hook_post`, hidden, { kind: 'flat', width: cfg.dMlp });
        return c.hooks.hook(`${b}.hook_mlp_out`, linear(c, post, `${p}.mlp.dense_4h_to_h`, cfg.dMlp, D), flat);
      };
      if (cfg.parallelResidual) {
        const m = mlp(norm(c, x, `${p}.post_attention_layernorm`, `${b}.ln2`));
        x = g.op('Add', [g.op('Add', [m, attnOut]), x]);
      } else {
        const mid = c.hooks.hook(`${b}.hook_resid_mid`, g.op('Add', [attnOut, x]), flat);
        x = g.op('Add', [mlp(norm(c, mid, `${p}.post_attention_layernorm`, `${b}.ln2`)), mid]);
      }
      x = c.hooks.hook(`${b}.hook_resid_post`, x, flat);
    }
    return norm(c, x, 'gpt_neox.final_layer_norm', 'ln_final');
  },
};
