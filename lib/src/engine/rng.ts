/**
 * Counter-based random numbers (Philox4x32-10, Salmon et al. 2011): every draw is a pure function
 * of (key, counter), so results never depend on batch size, batch order or what ran before.
 *
 * Key = (seed, stream). Counter words for a perturbation draw:
 *   c0 = position·4096 + chunk   (chunk = dim/4 for noise; 0 for signs)
 *   c1 = item + 1                 (0 when the item is not part of the key)
 *   c2 = purpose·2^28 + (layer + 1)·2^16 + (length + 1)   (each part 0 when not keyed)
 *   c3 = (pass + 1) + site·2^24   (pass part 0 when not keyed; site: see siteCode, 0 for the residual stream)
 */
import { GLOBAL_HOOKS, LAYER_SITES, parseHook } from './hooks';
import { ROUNDING_TOL, SCRATCH, philoxWasm } from './philox-wasm';
import { KeyPart } from './types';

/** Philox4x32-10: writes 4 uint32 into out. */
export function philox(k0: number, k1: number, c0: number, c1: number, c2: number, c3: number, out: Uint32Array): void {
  const m = philoxWasm();
  m.philox(k0, k1, c0, c1, c2, c3);
  out.set(m.u32.subarray(0, 4));
}

export const PURPOSE = { noise: 1, signs: 2 } as const;

export interface DrawKey {
  seed: number;
  stream: number;
  purpose: number;
  parts: KeyPart[];
  item: number;
  length: number;
  layer: number;
  /** which hook of the layer (siteCode); part of the 'layer' key part */
  site: number;
  pass: number;
}

/** The counter words c1..c3 of a key (c0 is the position and chunk). */
export function counterWords(k: DrawKey): [number, number, number] {
  const has = (p: KeyPart) => k.parts.includes(p);
  if (has('layer') && (k.layer < 0 || k.layer >= 4095)) throw new Error(`rng: layer ${k.layer} out of range`);
  if (has('length') && (k.length < 0 || k.length >= 65535)) throw new Error(`rng: length ${k.length} out of range`);
  const c1 = has('item') ? (k.item + 1) >>> 0 : 0;
  const c2 =
    (k.purpose * 2 ** 28 + (has('layer') ? k.layer + 1 : 0) * 2 ** 16 + (has('length') ? k.length + 1 : 0)) >>> 0;
  if (has('pass') && (k.pass < 0 || k.pass >= 2 ** 24 - 1)) throw new Error(`rng: pass ${k.pass} out of range`);
  const c3 = ((has('pass') ? k.pass + 1 : 0) + (has('layer') ? k.site * 2 ** 24 : 0)) >>> 0;
  return [c1, c2, c3];
}

/**
 * Standard normal noise for positions [0, T) × dims [0, D), written row-major into out at offset:
 * per 4 dims one Philox block, Box–Muller on its (0,1) uniforms (w + 0.5)/2³² (philox-wasm.ts).
 */
export function normals(k: DrawKey, T: number, D: number, out: Float32Array, offset = 0): void {
  if (T >= 2 ** 20 || D > 4 * 4096) throw new Error(`rng: noise block ${T}×${D} too large`);
  const [c1, c2, c3] = counterWords(k);
  const m = philoxWasm();
  const rows = Math.max(1, Math.floor(SCRATCH / D));
  for (let t = 0; t < T; t += rows) {
    const n = Math.min(rows, T - t);
    m.normals(k.seed, k.stream, c1, c2, c3, t, n, D, ROUNDING_TOL);
    out.set(m.f32.subarray(0, n * D), offset + t * D);
  }
}

/** ±1 with probability 1/2 each, one per position [0, T). */
export function signs(k: DrawKey, T: number, out: Float32Array, offset = 0): void {
  const [c1, c2, c3] = counterWords(k);
  const m = philoxWasm();
  for (let t = 0; t < T; t += SCRATCH) {
    const n = Math.min(SCRATCH, T - t);
    m.signs(k.seed, k.stream, c1, c2, c3, t, n);
    out.set(m.f32.subarray(0, n), offset + t);
  }
}

/** A 32-bit stream id from any strings/numbers (FNV-1a), e.g. streamId('E1', delta, mode). */
export function streamId(...parts: (string | number)[]): number {
  let h = 0x811c9dc5;
  for (const ch of parts.join('\u0000')) {
    h ^= ch.codePointAt(0)!;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** Everything a draw depends on (the key parts it uses, and its length): equal ids give equal draws. */
export function drawId(k: DrawKey, length: number): string {
  const part: Record<KeyPart, string> = {
    item: `${k.item}`,
    length: `${k.length}`,
    layer: `${k.layer}/${k.site}`,
    pass: `${k.pass}`,
  };
  return `${k.seed}|${k.stream}|${k.purpose}|${k.parts.map((p) => `${p}=${part[p]}`).join(',')}|${length}`;
}

/**
 * The site part of a draw key: 0 for the residual stream (hook_resid_pre/_mid/_post: the draws of
 * every earlier version), a distinct number for every other hook, so two perturbed hooks of one
 * layer draw apart.
 */
export function siteCode(hook: string): number {
  const p = parseHook(hook);
  if (!p) throw new Error(`rng: '${hook}' is not a hook name`);
  if (p.site === 'hook_resid_pre' || p.site === 'hook_resid_mid' || p.site === 'hook_resid_post') return 0;
  const i = (LAYER_SITES as readonly string[]).indexOf(p.site);
  return i >= 0 ? 1 + i : 1 + LAYER_SITES.length + (GLOBAL_HOOKS as readonly string[]).indexOf(p.site);
}
