/** GPT-2: LayerNorm, Conv1D weights ([in, out]), learned positions, tied head. */
import { Ctx, activation, attention, embed, linear, norm, splitHeads, tiedHead } from './blocks';
import { Architecture } from './architecture';

export const gpt2: Architecture = {
  prefixes: ['transformer.', ''],
  unembedding: (c) => tiedHead(c, 'transformer.wte.weight'),
  forward(c: Ctx): string {
    const { g, cfg } = c;
    const D = cfg.dModel;
    const H = cfg.nHeads;
    const flat = { kind: 'flat' as const, width: D };
    const tok = c.hooks.hook('hook_embed', embed(c, 'transformer.wte.weight', cfg.vocabSize, c.inputIds), flat);
    const pos = c.hooks.hook(
      'hook_pos_embed',
      embed(c, 'transformer.wpe.weight', cfg.maxPositions, c.positionIds),
      flat,
    );
    let x = g.op('Add', [tok, pos]);
    const conv = { conv1d: true };
    for (let l = 0; l < cfg.nLayers; l++) {
      const p = `transformer.h.${l}`;
      const b = `blocks.${l}`;
      x = c.hooks.hook(`${b}.hook_resid_pre`, x, flat);
      const a = norm(c, x, `${p}.ln_1`, `${b}.ln1`);
      const [q, k, v] = g.opN('Split', [linear(c, a, `${p}.attn.c_attn`, D, 3 * D, conv), g.constI([D, D, D])], 3, {
        axis: 1,
      });
      const z = attention(c, l, splitHeads(c, q, H), splitHeads(c, k, H), splitHeads(c, v, H));
      const attnOut = c.hooks.hook(`${b}.hook_attn_out`, linear(c, z, `${p}.attn.c_proj`, D, D, conv), flat);
      const mid = c.hooks.hook(`${b}.hook_resid_mid`, g.op('Add', [attnOut, x]), flat);
      const m = norm(c, mid, `${p}.ln_2`, `${b}.ln2`);
      const post = c.hooks.hook(`${b}.mlp.hook_post`, activation(c, linear(c, m, `${p}.mlp.c_fc`, D, cfg.dMlp, conv)), {
        kind: 'flat',
        width: cfg.dMlp,
      });
      const mlpOut = c.hooks.hook(`${b}.hook_mlp_out`, linear(c, post, `${p}.mlp.c_proj`, cfg.dMlp, D, conv), flat);
      x = c.hooks.hook(`${b}.hook_resid_post`, g.op('Add', [mid, mlpOut]), flat);
    }
    return norm(c, x, 'transformer.ln_f', 'ln_final');
  },
};
