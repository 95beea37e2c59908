/**
 * The draws (lib/src/engine/rng.ts on the WebAssembly module philox-wasm.ts): Philox4x32-10 against
 * Random123's known answers, every normal and sign bit for bit equal to the JavaScript computation
 * they replace (test/rng-oracle.ts) over several keys, widths that are not a multiple of 4, offsets
 * and blocks larger than the module's scratch area, the float32 rounding check doing its work, and
 * the draws' statistics.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DrawKey, PURPOSE, counterWords, normals, philox, signs } from '../lib/src/engine/rng';
import { ROUNDING_TOL, SCRATCH, philoxWasm } from '../lib/src/engine/philox-wasm';
import { drawKey as key, normalsJs, philoxJs, signsJs } from './rng-oracle';

/** Index of the first element whose bits differ (NaN-safe, −0 ≠ +0), −1 when none. */
function firstBitDiff(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  const x = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const y = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return i;
  return -1;
}

test('Philox4x32-10 matches the Random123 known-answer vectors, and the JavaScript version on random inputs', () => {
  const out = new Uint32Array(4);
  // Random123 kat_vectors: "philox4x32 10 <ctr×4> <key×2> <expected×4>"
  const kat: [number[], number[], number[]][] = [
    [
      [0, 0, 0, 0],
      [0, 0],
      [0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8],
    ],
    [
      [0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff],
      [0xffffffff, 0xffffffff],
      [0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd],
    ],
    [
      [0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344],
      [0xa4093822, 0x299f31d0],
      [0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1],
    ],
  ];
  for (const [c, k, want] of kat)
    for (const impl of [philox, philoxJs]) {
      impl(k[0], k[1], c[0], c[1], c[2], c[3], out);
      assert.deepEqual(
        [...out].map((x) => x.toString(16)),
        want.map((x) => x.toString(16)),
      );
    }
  const want = new Uint32Array(4);
  let s = 0x9e3779b9;
  const next = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0), s);
  for (let i = 0; i < 20000; i++) {
    const w = [next(), next(), next(), next(), next(), next()];
    philox(w[0], w[1], w[2], w[3], w[4], w[5], out);
    philoxJs(w[0], w[1], w[2], w[3], w[4], w[5], want);
    assert.deepEqual([...out], [...want], `inputs ${w.map((x) => x.toString(16))}`);
  }
});

test('normals are bit for bit the JavaScript draws: several keys, widths not a multiple of 4, offsets', () => {
  const keys = [
    key(),
    key({ seed: 0, stream: 0, item: 0 }),
    key({ seed: 0xffffffff, stream: 0xffffffff, item: 280, layer: 23, site: 5 }),
    key({ seed: 42, stream: 7, parts: ['length'], length: 63 }),
    key({ seed: 3, stream: 0x811c9dc5, parts: ['item', 'layer', 'pass'], item: 17, layer: 8, pass: 60 }),
  ];
  const shapes: [number, number][] = [
    [1, 1],
    [3, 2],
    [5, 3],
    [7, 5],
    [2, 4],
    [64, 64],
    [33, 1023],
    [40, 1024],
    [9, 4 * 4096],
  ];
  for (const k of keys)
    for (const [T, D] of shapes)
      for (const offset of [0, 3]) {
        const got = new Float32Array(offset + T * D + 2).fill(7);
        const want = new Float32Array(offset + T * D + 2).fill(7);
        normals(k, T, D, got, offset);
        normalsJs(k.seed >>> 0, k.stream >>> 0, counterWords(k), T, D, want, offset);
        const i = firstBitDiff(got, want);
        assert.equal(i, -1, `seed ${k.seed} ${T}×${D} +${offset}: element ${i}: ${got[i]} vs ${want[i]}`);
      }
});

test('normals larger than the scratch area are drawn in pieces with the same numbers', () => {
  const D = 1000;
  const T = Math.ceil((1.5 * SCRATCH) / D); // two pieces, the second partial
  const got = new Float32Array(T * D);
  const want = new Float32Array(T * D);
  const k = key({ seed: 11, item: 4, layer: 2 });
  normals(k, T, D, got);
  normalsJs(k.seed, k.stream, counterWords(k), T, D, want);
  assert.equal(firstBitDiff(got, want), -1);
});

test('the float32 rounding check: rare recomputations, all-exact mode equal too', () => {
  const m = philoxWasm();
  const T = 1000,
    D = 1024;
  const k = key({ seed: 5, item: 9, layer: 3 });
  const [c1, c2, c3] = counterWords(k);
  const want = new Float32Array(T * D);
  normalsJs(k.seed, k.stream, [c1, c2, c3], T, D, want);
  const exact = m.normals(k.seed, k.stream, c1, c2, c3, 0, T, D, ROUNDING_TOL);
  assert.equal(firstBitDiff(m.f32.slice(0, T * D), want), -1);
  // a group of 16 values within 2⁻⁴⁰ of a float32 rounding boundary is rare: some, never many
  const groups = (T * D) / 16;
  assert.ok(exact > 0 && exact < groups / 100, `${exact} of ${groups} groups of 4 blocks recomputed`);
  // tol ≥ 1: every block through Math.log/cos/sin, the same numbers
  assert.equal(m.normals(k.seed, k.stream, c1, c2, c3, 0, T, D, 1), groups);
  assert.equal(firstBitDiff(m.f32.slice(0, T * D), want), -1);
});

test('signs are bit for bit the JavaScript draws', () => {
  for (const k of [
    key({ purpose: PURPOSE.signs, parts: ['item', 'layer', 'pass'], item: 2, layer: 4, pass: 9 }),
    key({ purpose: PURPOSE.signs, seed: 0xffffffff, parts: ['item'], item: 100 }),
  ])
    for (const T of [1, 5, 64, SCRATCH + 10]) {
      const got = new Float32Array(T + 3);
      const want = new Float32Array(T);
      signs(k, T, got, 3);
      signsJs(k.seed >>> 0, k.stream >>> 0, counterWords(k), T, want);
      assert.equal(firstBitDiff(got.subarray(3), want), -1, `T = ${T}`);
      assert.deepEqual([...got.subarray(0, 3)], [0, 0, 0]);
    }
});

test('normal and sign draws: mean ≈ 0, variance ≈ 1, P(+1) ≈ 1/2, no cross-dimension correlation', () => {
  const T = 2000;
  const Dd = 64;
  const x = new Float32Array(T * Dd);
  normals(
    {
      seed: 42,
      stream: 7,
      purpose: PURPOSE.noise,
      parts: ['item', 'layer'],
      item: 3,
      length: T,
      layer: 1,
      site: 0,
      pass: 0,
    },
    T,
    Dd,
    x,
  );
  const n = x.length;
  const mean = x.reduce((a, b) => a + b, 0) / n;
  const v = x.reduce((a, b) => a + (b - mean) ** 2, 0) / n;
  assert.ok(Math.abs(mean) < 5 / Math.sqrt(n), `mean ${mean}`);
  assert.ok(Math.abs(v - 1) < 5 * Math.sqrt(2 / n), `var ${v}`);
  const kurt = x.reduce((a, b) => a + (b - mean) ** 4, 0) / n / v ** 2;
  assert.ok(Math.abs(kurt - 3) < 0.1, `kurtosis ${kurt}`);
  let corr = 0;
  for (let t = 0; t < T; t++) corr += x[t * Dd] * x[t * Dd + 1];
  assert.ok(Math.abs(corr / T) < 5 / Math.sqrt(T));
  const s = new Float32Array(100000);
  signs(
    { seed: 42, stream: 7, purpose: PURPOSE.signs, parts: ['item'], item: 3, length: 0, layer: 0, site: 0, pass: 0 },
    s.length,
    s,
  );
  assert.ok(s.every((v) => v === 1 || v === -1));
  const plus = s.filter((v) => v === 1).length / s.length;
  assert.ok(Math.abs(plus - 0.5) < 5 * Math.sqrt(0.25 / s.length), `P(+1) = ${plus}`);
  assert.ok(Number.isFinite(x.reduce((a, b) => a + b, 0)));
});
