/**
 * Hook names: TransformerLens' names with TransformerLens' meaning, plus a few of our own (marked
 * "dirmag" below and in the README's table). Per layer L (0-based), in forward order:
 *
 *   blocks.L.hook_resid_pre          [B,T,D]    block input
 *   blocks.L.ln1.hook_scale          [B,T,1]    √(var + ε) (LayerNorm) or √(mean x² + ε) (RMSNorm)
 *   blocks.L.ln1.hook_normalized     [B,T,D]    (x − mean)/scale (LayerNorm) or x/scale (RMSNorm): before γ, β
 *   blocks.L.ln1.hook_out            [B,T,D]    dirmag: the norm's output, γ and β applied (HF's input_layernorm output)
 *   blocks.L.attn.hook_q / hook_k / hook_v   [B,T,H|KVH,hd]   projections, before rotary
 *   blocks.L.attn.hook_rot_q / hook_rot_k    [B,T,H|KVH,hd]   after rotary (rotary models only)
 *   blocks.L.attn.hook_attn_scores   [B,H,T,T]  q·k/√hd before the causal mask and softmax
 *   blocks.L.attn.hook_pattern       [B,H,T,T]  softmax probabilities
 *   blocks.L.attn.hook_z             [B,T,H,hd] per-head outputs, input of the output projection
 *   blocks.L.hook_attn_out           [B,T,D]    attention output (after the output projection and its bias)
 *   blocks.L.hook_resid_mid          [B,T,D]    resid_pre + attn_out (sequential residual only)
 *   blocks.L.ln2.hook_scale / hook_normalized / hook_out   as ln1 (input of the MLP)
 *   blocks.L.mlp.hook_pre            [B,T,F]    before the activation (Llama: the gate projection)
 *   blocks.L.mlp.hook_pre_linear     [B,T,F]    Llama's up projection
 *   blocks.L.mlp.hook_post           [B,T,F]    after the activation (Llama: silu(gate)·up)
 *   blocks.L.hook_mlp_out            [B,T,D]    MLP output
 *   blocks.L.hook_resid_post         [B,T,D]    block output
 * and hook_embed, hook_pos_embed (learned positions), ln_final.hook_scale / hook_normalized / hook_out.
 */

import { PlanError } from './errors';

/** Per-layer sites in forward order (which of them a model has depends on its architecture). */
export const LAYER_SITES = [
  'hook_resid_pre',
  'ln1.hook_scale',
  'ln1.hook_normalized',
  'ln1.hook_out',
  'attn.hook_q',
  'attn.hook_k',
  'attn.hook_v',
  'attn.hook_rot_q',
  'attn.hook_rot_k',
  'attn.hook_attn_scores',
  'attn.hook_pattern',
  'attn.hook_z',
  'hook_attn_out',
  'hook_resid_mid',
  'ln2.hook_scale',
  'ln2.hook_normalized',
  'ln2.hook_out',
  'mlp.hook_pre',
  'mlp.hook_pre_linear',
  'mlp.hook_post',
  'hook_mlp_out',
  'hook_resid_post',
] as const;
export type LayerSite = (typeof LAYER_SITES)[number];

export const GLOBAL_HOOKS = [
  'hook_embed',
  'hook_pos_embed',
  'ln_final.hook_scale',
  'ln_final.hook_normalized',
  'ln_final.hook_out',
] as const;
export type GlobalHook = (typeof GLOBAL_HOOKS)[number];

export type LayerHook = `blocks.${number}.${LayerSite}`;
export type HookName = LayerHook | GlobalHook;

const at =
  <S extends LayerSite>(site: S) =>
  (layer: number): `blocks.${number}.${S}` => {
    if (!Number.isInteger(layer) || layer < 0)
      throw new PlanError(`layer ${layer} does not exist: blocks are numbered 0, 1, 2, …`);
    return `blocks.${layer}.${site}`;
  };
const normHooks = (p: 'ln1' | 'ln2') => ({
  scale: at(`${p}.hook_scale`),
  normalized: at(`${p}.hook_normalized`),
  out: at(`${p}.hook_out`),
});

/** Hook names by function: `hooks.residPost(8)`, `hooks.attn.pattern(3)`, `hooks.lnFinal.out`. */
export const hooks = {
  embed: 'hook_embed',
  posEmbed: 'hook_pos_embed',
  residPre: at('hook_resid_pre'),
  residMid: at('hook_resid_mid'),
  residPost: at('hook_resid_post'),
  attnOut: at('hook_attn_out'),
  mlpOut: at('hook_mlp_out'),
  ln1: normHooks('ln1'),
  ln2: normHooks('ln2'),
  lnFinal: {
    scale: 'ln_final.hook_scale',
    normalized: 'ln_final.hook_normalized',
    out: 'ln_final.hook_out',
  },
  attn: {
    q: at('attn.hook_q'),
    k: at('attn.hook_k'),
    v: at('attn.hook_v'),
    rotQ: at('attn.hook_rot_q'),
    rotK: at('attn.hook_rot_k'),
    scores: at('attn.hook_attn_scores'),
    pattern: at('attn.hook_pattern'),
    z: at('attn.hook_z'),
  },
  mlp: { pre: at('mlp.hook_pre'), preLinear: at('mlp.hook_pre_linear'), post: at('mlp.hook_post') },
} as const;

export interface ParsedHook {
  /** the block, or null for hook_embed, hook_pos_embed and ln_final.* */
  layer: number | null;
  site: LayerSite | GlobalHook;
}

/** Splits a hook name into its block and site; null when it is not a hook name at all. */
export function parseHook(name: string): ParsedHook | null {
  if ((GLOBAL_HOOKS as readonly string[]).includes(name)) return { layer: null, site: name as GlobalHook };
  const m = /^blocks\.(\d+)\.(.+)$/.exec(name);
  if (!m || !(LAYER_SITES as readonly string[]).includes(m[2])) return null;
  return { layer: Number(m[1]), site: m[2] as LayerSite };
}

export function isHookName(name: string): name is HookName {
  return parseHook(name) !== null;
}

/** Forward order of hook names (for sorting): embeddings, then blocks by layer and site, then ln_final. */
export function hookOrder(name: string): number {
  const p = parseHook(name);
  if (!p) return Number.MAX_SAFE_INTEGER;
  const g = (GLOBAL_HOOKS as readonly string[]).indexOf(p.site);
  if (p.layer === null) return g < 2 ? g - 2 : 1e12 + g;
  return p.layer * 100 + (LAYER_SITES as readonly string[]).indexOf(p.site);
}
