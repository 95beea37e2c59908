/**
 * Float64 numerics of the reference forward pass (test oracle): linear layers, norms, rotary,
 * causal attention and the perturbation operators, written from Hugging Face's semantics and
 * independent of the ONNX engine. Slow and simple on purpose.
 */
export interface ReferencePerturbation {
  op: 'magnitude' | 'angle_exact' | 'angle_legacy';
  layers: number[];
  delta: number;
  /** per item, [len, D] row-major (the same draws at every perturbed layer, as the engine's `draws`) */
  noise?: Float32Array[];
  /** per item, [len] of ±1 */
  signs?: Float32Array[];
  legacyIters?: number;
}

export type Json = Record<string, any>;
export type Vec = Float64Array;
/** matrix rows stored flat: [rows, cols] */
export interface Mat {
  rows: number;
  cols: number;
  data: Float64Array;
}

// ---------------------------------------------------------------------------------------------
// numerics

export function erf(x: number): number {
  const ax = Math.abs(x);
  if (ax >= 4) return Math.sign(x) * 1; // |1 − erf| < 1.6e-8
  // Maclaurin series, converges well for |x| < 4 in float64
  let term = x;
  let sum = x;
  for (let n = 1; n < 120; n++) {
    term *= (-x * x) / n;
    const add = term / (2 * n + 1);
    sum += add;
    if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
  }
  return (2 / Math.sqrt(Math.PI)) * sum;
}

export function act(name: string, x: number): number {
  switch (name) {
    case 'gelu':
      return 0.5 * x * (1 + erf(x / Math.SQRT2));
    case 'gelu_new':
    case 'gelu_pytorch_tanh':
      return 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)));
    case 'relu':
      return x > 0 ? x : 0;
    case 'silu':
    case 'swish':
      return x / (1 + Math.exp(-x));
    default:
      throw new Error(`reference: activation '${name}' not implemented`);
  }
}

/** y[T, out] = x[T, in] · Wᵀ (+ b) for an nn.Linear weight [out, in]; Conv1D weight [in, out] when conv. */
export function linear(x: Vec, T: number, w: Mat, b: Vec | null, conv = false): Vec {
  const inF = conv ? w.rows : w.cols;
  const outF = conv ? w.cols : w.rows;
  const y = new Float64Array(T * outF);
  for (let t = 0; t < T; t++)
    for (let o = 0; o < outF; o++) {
      let s = b ? b[o] : 0;
      for (let i = 0; i < inF; i++) s += x[t * inF + i] * (conv ? w.data[i * outF + o] : w.data[o * inF + i]);
      y[t * outF + o] = s;
    }
  return y;
}

export function layerNorm(x: Vec, T: number, D: number, w: Vec, b: Vec, eps: number): Vec {
  const y = new Float64Array(T * D);
  for (let t = 0; t < T; t++) {
    let mean = 0;
    for (let i = 0; i < D; i++) mean += x[t * D + i];
    mean /= D;
    let v = 0;
    for (let i = 0; i < D; i++) v += (x[t * D + i] - mean) ** 2;
    v /= D;
    const inv = 1 / Math.sqrt(v + eps);
    for (let i = 0; i < D; i++) y[t * D + i] = (x[t * D + i] - mean) * inv * w[i] + b[i];
  }
  return y;
}

export function rmsNorm(x: Vec, T: number, D: number, w: Vec, eps: number): Vec {
  const y = new Float64Array(T * D);
  for (let t = 0; t < T; t++) {
    let ms = 0;
    for (let i = 0; i < D; i++) ms += x[t * D + i] ** 2;
    const inv = 1 / Math.sqrt(ms / D + eps);
    for (let i = 0; i < D; i++) y[t * D + i] = w[i] * (x[t * D + i] * inv);
  }
  return y;
}

export const add = (a: Vec, b: Vec): Vec => a.map((v, i) => v + b[i]);

/**
 * Rotate-half rotary on the first rd dims of each head. x: [T, heads, hd], positions 0..T-1.
 * inv_freq_i = base^(−2i/rd), angle = t·inv_freq_(i mod rd/2).
 */
export function rotary(x: Vec, T: number, heads: number, hd: number, rd: number, base: number): Vec {
  if (rd === 0) return x;
  const y = Float64Array.from(x);
  const half = rd / 2;
  for (let t = 0; t < T; t++)
    for (let h = 0; h < heads; h++) {
      const o = (t * heads + h) * hd;
      for (let i = 0; i < rd; i++) {
        const ang = t * Math.pow(base, -(2 * (i % half)) / rd);
        const rot = i < half ? -x[o + i + half] : x[o + i - half];
        y[o + i] = x[o + i] * Math.cos(ang) + rot * Math.sin(ang);
      }
    }
  return y;
}

/**
 * Causal attention. q: [T, H, hd], k/v: [T, KVH, hd]; query head h uses kv head floor(h / (H/KVH)).
 * Returns z [T, H·hd].
 */
export function attention(q: Vec, k: Vec, v: Vec, T: number, H: number, KVH: number, hd: number): Vec {
  const G = H / KVH;
  const z = new Float64Array(T * H * hd);
  const scale = 1 / Math.sqrt(hd);
  const p = new Float64Array(T);
  for (let h = 0; h < H; h++) {
    const kh = Math.floor(h / G);
    for (let tq = 0; tq < T; tq++) {
      let max = -Infinity;
      for (let tk = 0; tk <= tq; tk++) {
        let s = 0;
        for (let i = 0; i < hd; i++) s += q[(tq * H + h) * hd + i] * k[(tk * KVH + kh) * hd + i];
        p[tk] = s * scale;
        max = Math.max(max, p[tk]);
      }
      let sum = 0;
      for (let tk = 0; tk <= tq; tk++) sum += p[tk] = Math.exp(p[tk] - max);
      for (let tk = 0; tk <= tq; tk++)
        for (let i = 0; i < hd; i++) z[(tq * H + h) * hd + i] += (p[tk] / sum) * v[(tk * KVH + kh) * hd + i];
    }
  }
  return z;
}

// ---------------------------------------------------------------------------------------------
// perturbations (ARCHITECTURE.md "Perturbations", EXPERIMENTS.md §1.5.3), per item

export function perturb(h: Vec, T: number, D: number, p: ReferencePerturbation, item: number): Vec {
  const out = new Float64Array(T * D);
  const norm = (v: ArrayLike<number>, o: number) => {
    let s = 0;
    for (let i = 0; i < D; i++) s += v[o + i] ** 2;
    return Math.sqrt(s);
  };
  if (p.op === 'magnitude') {
    const s = p.signs![item];
    for (let t = 0; t < T; t++) {
      const r = norm(h, t * D);
      const f = 1 + (s[t] * p.delta) / (r + 1e-8);
      for (let i = 0; i < D; i++) out[t * D + i] = f * h[t * D + i];
    }
    return out;
  }
  const n = p.noise![item];
  if (p.op === 'angle_exact') {
    for (let t = 0; t < T; t++) {
      const r = norm(h, t * D);
      const u = Array.from({ length: D }, (_, i) => h[t * D + i] / r);
      let dot = 0;
      for (let i = 0; i < D; i++) dot += n[t * D + i] * u[i];
      const v = u.map((ui, i) => n[t * D + i] - dot * ui);
      const vn = norm(v, 0);
      const theta = 2 * Math.asin(p.delta / (2 * r));
      for (let i = 0; i < D; i++) out[t * D + i] = r * (Math.cos(theta) * u[i] + Math.sin(theta) * (v[i] / vn));
    }
    return out;
  }
  // legacy: one m per item by bisection on [0, 2] so that the mean displacement equals δ
  const r = Array.from({ length: T }, (_, t) => norm(h, t * D));
  const d = (t: number, i: number) => h[t * D + i] / (r[t] + 1e-8);
  const nn = Array.from({ length: T }, (_, t) => norm(n, t * D) + 1e-8);
  const apply = (m: number, dst: Vec | null): number => {
    let total = 0;
    for (let t = 0; t < T; t++) {
      const u = Array.from({ length: D }, (_, i) => d(t, i) + (m * n[t * D + i]) / nn[t]);
      const un = norm(u, 0) + 1e-8;
      let disp = 0;
      for (let i = 0; i < D; i++) {
        const y = (r[t] * u[i]) / un;
        if (dst) dst[t * D + i] = y;
        disp += (y - h[t * D + i]) ** 2;
      }
      total += Math.sqrt(disp);
    }
    return total / T;
  };
  let lo = 0;
  let hi = 2;
  let m = 0;
  for (let it = 0; it < (p.legacyIters ?? 20); it++) {
    m = (lo + hi) / 2;
    if (apply(m, null) < p.delta) lo = m;
    else hi = m;
  }
  apply(m, out);
  return out;
}
