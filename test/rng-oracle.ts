/**
 * The draws as JavaScript computed them before the WebAssembly module (lib/src/engine/philox-wasm.ts):
 * Philox4x32-10 with 16-bit partial products and Box–Muller with Math.log/cos/sin. The oracle that
 * test/rng.test.ts compares the module with, bit for bit; and the tests' draw key.
 */
import { type DrawKey, PURPOSE } from '../lib/src/engine/rng';

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

export function philoxJs(k0: number, k1: number, c0: number, c1: number, c2: number, c3: number, out: Uint32Array) {
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

const TWO_PI = 2 * Math.PI;
const U32 = 4294967296;

/** Normals for positions [t0, t0 + T) × dims [0, D) under counter words c1..c3, row-major into out. */
export function normalsJs(
  k0: number,
  k1: number,
  [c1, c2, c3]: [number, number, number],
  T: number,
  D: number,
  out: Float32Array,
  offset = 0,
): void {
  const w = new Uint32Array(4);
  for (let t = 0; t < T; t++) {
    const row = offset + t * D;
    for (let j = 0; j < D; j += 4) {
      philoxJs(k0, k1, t * 4096 + j / 4, c1, c2, c3, w);
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

/** ±1 per position [0, T). */
export function signsJs(k0: number, k1: number, [c1, c2, c3]: [number, number, number], T: number, out: Float32Array) {
  const w = new Uint32Array(4);
  for (let t = 0; t < T; t++) {
    philoxJs(k0, k1, t * 4096, c1, c2, c3, w);
    out[t] = w[0] & 0x80000000 ? 1 : -1;
  }
}

/** A draw key for tests: seed 1, noise purpose, keyed by item and layer, with `o` on top. */
export const drawKey = (o: Partial<DrawKey> = {}): DrawKey => ({
  seed: 1,
  stream: 0,
  purpose: PURPOSE.noise,
  parts: ['item', 'layer'],
  item: 0,
  length: 5,
  layer: 0,
  site: 0,
  pass: 0,
  ...o,
});
