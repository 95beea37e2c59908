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
import { KeyPart } from './types';

const M0 = 0xd2511f53;
const M1 = 0xcd9e8d57;
const W0 = 0x9e3779b9;
const W1 = 0xbb67ae85;

function mulhi(a: number, b: number): number {
  const al = a & 0xffff,
    ah = a >>> 16,
    bl = b & 0xffff,
    bh = b >>> 16;
  const lo = al * bl,
    m1 = ah * bl,
    m2 = al * bh;
  const carry = ((lo >>> 16) + (m1 & 0xffff) + (m2 & 0xffff)) >>> 16;
  return (ah * bh + (m1 >>> 16) + (m2 >>> 16) + carry) >>> 0;
}

/** Philox4x32-10: writes 4 uint32 into out. */
export function philox(k0: number, k1: number, c0: number, c1: number, c2: number, c3: number, out: Uint32Array): void {
  for (let r = 0; r < 10; r++) {
    const hi0 = mulhi(M0, c0),
      lo0 = Math.imul(M0, c0) >>> 0;
    const hi1 = mulhi(M1, c2),
      lo1 = Math.imul(M1, c2) >>> 0;
    c0 = (hi1 ^ c1 ^ k0) >>> 0;
    c1 = lo1;
    c2 = (hi0 ^ c3 ^ k1) >>> 0;
    c3 = lo0;
    k0 = (k0 + W0) >>> 0;
    k1 = (k1 + W1) >>> 0;
  }
  out[0] = c0;
  out[1] = c1;
  out[2] = c2;
  out[3] = c3;
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

function counterWords(k: DrawKey): [number, number, number] {
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

const TWO_PI = 2 * Math.PI;
const U32 = 4294967296;

/** Standard normal noise for positions [0, T) × dims [0, D), written row-major into out at offset. */
export function normals(k: DrawKey, T: number, D: number, out: Float32Array, offset = 0): void {
  if (T >= 2 ** 20 || D > 4 * 4096) throw new Error(`rng: noise block ${T}×${D} too large`);
  const [c1, c2, c3] = counterWords(k);
  const w = new Uint32Array(4);
  const k0 = k.seed >>> 0,
    k1 = k.stream >>> 0;
  for (let t = 0; t < T; t++) {
    const row = offset + t * D;
    for (let j = 0; j < D; j += 4) {
      philox(k0, k1, t * 4096 + j / 4, c1, c2, c3, w);
      // Box–Muller on (0,1) uniforms
      const u1 = (w[0] + 0.5) / U32,
        u2 = (w[1] + 0.5) / U32,
        u3 = (w[2] + 0.5) / U32,
        u4 = (w[3] + 0.5) / U32;
      const r1 = Math.sqrt(-2 * Math.log(u1)),
        r2 = Math.sqrt(-2 * Math.log(u3));
      const vals = [
        r1 * Math.cos(TWO_PI * u2),
        r1 * Math.sin(TWO_PI * u2),
        r2 * Math.cos(TWO_PI * u4),
        r2 * Math.sin(TWO_PI * u4),
      ];
      for (let q = 0; q < 4 && j + q < D; q++) out[row + j + q] = vals[q];
    }
  }
}

/** ±1 with probability 1/2 each, one per position [0, T). */
export function signs(k: DrawKey, T: number, out: Float32Array, offset = 0): void {
  const [c1, c2, c3] = counterWords(k);
  const w = new Uint32Array(4);
  for (let t = 0; t < T; t++) {
    philox(k.seed >>> 0, k.stream >>> 0, t * 4096, c1, c2, c3, w);
    out[offset + t] = w[0] & 0x80000000 ? 1 : -1;
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
