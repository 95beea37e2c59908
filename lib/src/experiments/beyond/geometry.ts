/**
 * Pure vector math of the "beyond" experiments (issue 9): row norms and cosines of [T, D] tensors,
 * per-row factors, attention argmax switches, and two-set statistics. No model here, so every
 * function is testable on hand-made arrays.
 */
import { Tensor } from '../../engine/types';
import { mulberry32 } from '../../stats/bootstrap';
import { streamId } from '../../engine/rng';

/** Rows of a tensor whose last axis has length `width` (e.g. [T, D] → T rows of D; [T, H, hd] → T·H rows of hd). */
export function rows(t: Tensor, width = t.dims[t.dims.length - 1]): number {
  return t.data.length / width;
}

export function rowNorm(x: Float32Array, row: number, width: number): number {
  let s = 0;
  for (let j = row * width; j < (row + 1) * width; j++) s += x[j] * x[j];
  return Math.sqrt(s);
}

/** Cosine of row `row` of a and b (1 when both rows are zero, 0 when exactly one is). */
export function rowCosine(a: Float32Array, b: Float32Array, row: number, width: number): number {
  let ab = 0,
    aa = 0,
    bb = 0;
  for (let j = row * width; j < (row + 1) * width; j++) {
    ab += a[j] * b[j];
    aa += a[j] * a[j];
    bb += b[j] * b[j];
  }
  if (aa === 0 && bb === 0) return 1;
  if (aa === 0 || bb === 0) return 0;
  return ab / Math.sqrt(aa * bb);
}

/** ‖a_row − b_row‖. */
export function rowDistance(a: Float32Array, b: Float32Array, row: number, width: number): number {
  let s = 0;
  for (let j = row * width; j < (row + 1) * width; j++) s += (a[j] - b[j]) ** 2;
  return Math.sqrt(s);
}

/** Fraction of a row's energy in its mean component: D·μ² / ‖x‖² (what LayerNorm removes and RMSNorm keeps). */
export function meanEnergyFraction(x: Float32Array, row: number, width: number): number {
  let s = 0,
    ss = 0;
  for (let j = row * width; j < (row + 1) * width; j++) {
    s += x[j];
    ss += x[j] * x[j];
  }
  return ss > 0 ? (s * s) / width / ss : 0;
}

/** A copy of `t` with row r multiplied by factors[r] (rows of length `width`). */
export function scaleRows(t: Tensor, factors: ArrayLike<number>, width = t.dims[t.dims.length - 1]): Tensor {
  const n = rows(t, width);
  if (factors.length !== n) throw new RangeError(`scaleRows: ${factors.length} factors for ${n} rows`);
  const out = new Float32Array(t.data.length);
  for (let r = 0; r < n; r++) for (let j = r * width; j < (r + 1) * width; j++) out[j] = t.data[j] * factors[r];
  return { dims: [...t.dims], data: out };
}

/** A copy of `t` ([T, D]) with shifts[r]·(1, …, 1) added to row r. */
export function shiftRows(t: Tensor, shifts: ArrayLike<number>): Tensor {
  const D = t.dims[t.dims.length - 1];
  const out = Float32Array.from(t.data);
  for (let r = 0; r < shifts.length; r++) for (let j = r * D; j < (r + 1) * D; j++) out[j] += shifts[r];
  return { dims: [...t.dims], data: out };
}

/** Seeded uniform generator keyed by any parts (same parts ⇒ same stream, independent of batch order). */
export function rngFor(...parts: (string | number)[]): () => number {
  return mulberry32(streamId(...parts));
}

/** n factors 1 + s·ε with s = ±1 drawn uniformly from the keyed stream. */
export function signedFactors(n: number, eps: number, ...key: (string | number)[]): Float32Array {
  const u = rngFor(...key);
  const f = new Float32Array(n);
  for (let i = 0; i < n; i++) f[i] = 1 + (u() < 0.5 ? -eps : eps);
  return f;
}

/**
 * Argmax over keys of each real query row of a causal pattern [H, T, T]: out[h·T + t] = key index.
 * Ties go to the first (lowest) key.
 */
export function patternArgmax(p: Tensor): Int32Array {
  const [H, T, T2] = p.dims;
  if (T !== T2) throw new RangeError(`patternArgmax: pattern dims ${p.dims.join('×')} are not [H, T, T]`);
  const out = new Int32Array(H * T);
  for (let h = 0; h < H; h++)
    for (let t = 0; t < T; t++) {
      const o = (h * T + t) * T;
      let best = 0;
      for (let s = 1; s <= t; s++) if (p.data[o + s] > p.data[o + best]) best = s;
      out[h * T + t] = best;
    }
  return out;
}

export interface SwitchCount {
  /** per head: query rows (t ≥ 1; row 0 has a single key and cannot switch) whose argmax key changed */
  switches: number[];
  /** per head: mean total-variation distance ½·Σ|p′ − p| over the same rows */
  tv: number[];
  /** query rows per head that could switch */
  rows: number;
}

/** Argmax switches and total-variation distance between a clean and a perturbed pattern [H, T, T]. */
export function countSwitches(clean: Tensor, pert: Tensor): SwitchCount {
  const [H, T] = clean.dims;
  if (pert.dims.join() !== clean.dims.join()) throw new RangeError(`countSwitches: ${clean.dims} vs ${pert.dims}`);
  const a = patternArgmax(clean),
    b = patternArgmax(pert);
  const switches = new Array<number>(H).fill(0);
  const tv = new Array<number>(H).fill(0);
  for (let h = 0; h < H; h++)
    for (let t = 1; t < T; t++) {
      if (a[h * T + t] !== b[h * T + t]) switches[h]++;
      const o = (h * T + t) * T;
      let d = 0;
      for (let s = 0; s <= t; s++) d += Math.abs(clean.data[o + s] - pert.data[o + s]);
      tv[h] += d / 2;
    }
  return { switches, tv, rows: Math.max(0, T - 1) };
}

/** Statistics of two sets of vectors (rows of length D) and of their union. */
export interface TwoSetStats {
  nA: number;
  nB: number;
  /** cosine of the two set means */
  cosMeans: number;
  /** ‖μ_A − μ_B‖ */
  meanDiffNorm: number;
  /** ‖μ_A − μ_B‖ / mean ‖h‖ */
  relMeanDiff: number;
  /** per-feature population variance over the union of both sets: mean and max over features */
  varMean: number;
  varMax: number;
  /** feature with the largest variance */
  varArgmax: number;
  /** mean per-feature variance within each set (averaged over the two sets) */
  withinVarMean: number;
  /** mean ‖h‖ over A, B and both */
  normA: number;
  normB: number;
  norm: number;
}

export function twoSetStats(A: Float32Array[], B: Float32Array[]): TwoSetStats {
  if (!A.length || !B.length) throw new RangeError('twoSetStats: both sets need at least one vector');
  const D = A[0].length;
  for (const v of [...A, ...B]) if (v.length !== D) throw new RangeError('twoSetStats: vectors of different lengths');
  const meanOf = (S: Float32Array[]) => {
    const m = new Float64Array(D);
    for (const v of S) for (let j = 0; j < D; j++) m[j] += v[j];
    for (let j = 0; j < D; j++) m[j] /= S.length;
    return m;
  };
  const varOf = (S: Float32Array[], m: Float64Array) => {
    const v = new Float64Array(D);
    for (const x of S) for (let j = 0; j < D; j++) v[j] += (x[j] - m[j]) ** 2;
    for (let j = 0; j < D; j++) v[j] /= S.length;
    return v;
  };
  const norm = (x: ArrayLike<number>) => {
    let s = 0;
    for (let j = 0; j < x.length; j++) s += x[j] * x[j];
    return Math.sqrt(s);
  };
  const mA = meanOf(A),
    mB = meanOf(B),
    all = [...A, ...B],
    mAll = meanOf(all);
  let ab = 0,
    d2 = 0;
  for (let j = 0; j < D; j++) {
    ab += mA[j] * mB[j];
    d2 += (mA[j] - mB[j]) ** 2;
  }
  const nmA = norm(mA),
    nmB = norm(mB);
  const cosMeans = nmA === 0 && nmB === 0 ? 1 : nmA === 0 || nmB === 0 ? 0 : ab / (nmA * nmB);
  const v = varOf(all, mAll),
    vA = varOf(A, mA),
    vB = varOf(B, mB);
  let varMean = 0,
    varMax = -Infinity,
    varArgmax = 0,
    within = 0;
  for (let j = 0; j < D; j++) {
    varMean += v[j] / D;
    within += (vA[j] + vB[j]) / 2 / D;
    if (v[j] > varMax) {
      varMax = v[j];
      varArgmax = j;
    }
  }
  const avgNorm = (S: Float32Array[]) => S.reduce((s, x) => s + norm(x), 0) / S.length;
  const normAll = avgNorm(all);
  return {
    nA: A.length,
    nB: B.length,
    cosMeans: Math.min(1, Math.max(-1, cosMeans)),
    meanDiffNorm: Math.sqrt(d2),
    relMeanDiff: normAll > 0 ? Math.sqrt(d2) / normAll : 0,
    varMean,
    varMax,
    varArgmax,
    withinVarMean: within,
    normA: avgNorm(A),
    normB: avgNorm(B),
    norm: normAll,
  };
}

export function mean(xs: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += xs[i];
  return xs.length ? s / xs.length : NaN;
}

export function minOf(xs: ArrayLike<number>): number {
  let m = Infinity;
  for (let i = 0; i < xs.length; i++) m = Math.min(m, xs[i]);
  return m;
}

export function maxOf(xs: ArrayLike<number>): number {
  let m = -Infinity;
  for (let i = 0; i < xs.length; i++) m = Math.max(m, xs[i]);
  return m;
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  return n ? (n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2) : NaN;
}
