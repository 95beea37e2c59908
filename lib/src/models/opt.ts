/** OPT (pre-LN, as opt-1.3b): LayerNorm, learned positions offset by 2, ReLU MLP, tied head. */
import { Ctx, activation, attention, embed, linear, norm, splitHeads, tiedHead } from './blocks';
import { Architecture } from './architecture';

export const opt: Architecture = {
  prefixes: ['model.', ''],
  unembedding: (c) => tiedHead(c, 'model.decoder.embed_tokens.weight'),
  forward(c: Ctx): string {
    const { g, cfg } = c;
    const D = cfg.dModel;
    const H = cfg.nHeads;
    const flat = { kind: 'flat' as const, width: D };
    const tok = c.hooks.hook(
      'hook_embed',
      embed(c, 'model.decoder.embed_tokens.weight', cfg.vocabSize, c.inputIds),
      flat,
    );
    const pos = c.hooks.hook(
      'hook_pos_embed',
      embed(c, 'model.decoder.embed_positions.weight', cfg.maxPositions + 2, c.positionIds),
      flat,
    );
    let x = g.op('Add', [tok, pos]);
    for (let l = 0; l < cfg.nLayers; l++) {
      const p = `model.decoder.layers.${l}`;
      const b = `blocks.${l}`;
      x = c.hooks.hook(`${b}.hook_resid_pre`, x, flat);
      const a = norm(c, x, `${p}.self_attn_layer_norm`, `${b}.ln1`);
      const proj = (n: string) => splitHeads(c, linear(c, a, `${p}.self_attn.${n}`, D, D), H);
      const z = attention(c, l, proj('q_proj'), proj('k_proj'), proj('v_proj'), true);
      const attnOut = c.hooks.hook(`${b}.hook_attn_out`, linear(c, z, `${p}.self_attn.out_proj`, D, D), flat);
      const mid = c.hooks.hook(`${b}.hook_resid_mid`, g.op('Add', [x, attnOut]), flat);
      const m = norm(c, mid, `${p}.final_layer_norm`, `${b}.ln2`);
      const post = c.hooks.hook(`${b}.mlp.hook_post`, activation(c, linear(c, m, `${p}.fc1`, D, cfg.dMlp)), {
        kind: 'flat',
        width: cfg.dMlp,
      });
      const mlpOut = c.hooks.hook(`${b}.hook_mlp_out`, linear(c, post, `${p}.fc2`, cfg.dMlp, D), flat);
      x = c.hooks.hook(`${b}.hook_resid_post`, g.op('Add', [mid, mlpOut]), flat);
    }
    return norm(c, x, 'model.decoder.final_layer_norm', 'ln_final');
  },
};
