/**
 * A plain float64 reference forward pass for the four families (GPT-NeoX, Llama/Mistral, OPT,
 * GPT-2), written from Hugging Face's semantics (shared/fixtures/README.md) and independent of the
 * ONNX engine: it reads config.json itself and the weights with readSafetensorsHeader/readTensor.
 * Slow and simple on purpose — one item at a time, no padding (with right padding and causal
 * attention HF gives the same numbers for real tokens), nanoGPT style. Used by the tests as an
 * oracle for random architectures. Also: a tiny safetensors writer for tests.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readSafetensorsHeader, readTensor } from '../weights/safetensors';

type Json = Record<string, any>;
type Vec = Float64Array;
/** matrix rows stored flat: [rows, cols] */
interface Mat {
  rows: number;
  cols: number;
  data: Float64Array;
}

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

export interface ReferenceResult {
  /** per item: [len, V] */
  logits: Float64Array[];
  /** per item: L tensors [len, D], the output of block l (after its perturbation, if any) */
  residPost: Float64Array[][];
  /** per item: the block-0 input (embeddings incl. learned positions) */
  embed: Float64Array[];
  /** per item: the final-norm output [len, D] */
  finalNorm: Float64Array[];
}

// ---------------------------------------------------------------------------------------------
// numerics

function erf(x: number): number {
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

function act(name: string, x: number): number {
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
function linear(x: Vec, T: number, w: Mat, b: Vec | null, conv = false): Vec {
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

function layerNorm(x: Vec, T: number, D: number, w: Vec, b: Vec, eps: number): Vec {
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

function rmsNorm(x: Vec, T: number, D: number, w: Vec, eps: number): Vec {
  const y = new Float64Array(T * D);
  for (let t = 0; t < T; t++) {
    let ms = 0;
    for (let i = 0; i < D; i++) ms += x[t * D + i] ** 2;
    const inv = 1 / Math.sqrt(ms / D + eps);
    for (let i = 0; i < D; i++) y[t * D + i] = w[i] * (x[t * D + i] * inv);
  }
  return y;
}

const add = (a: Vec, b: Vec): Vec => a.map((v, i) => v + b[i]);

/**
 * Rotate-half rotary on the first rd dims of each head. x: [T, heads, hd], positions 0..T-1.
 * inv_freq_i = base^(−2i/rd), angle = t·inv_freq_(i mod rd/2).
 */
function rotary(x: Vec, T: number, heads: number, hd: number, rd: number, base: number): Vec {
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
function attention(q: Vec, k: Vec, v: Vec, T: number, H: number, KVH: number, hd: number): Vec {
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

function perturb(h: Vec, T: number, D: number, p: ReferencePerturbation, item: number): Vec {
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

// ---------------------------------------------------------------------------------------------
// the forward pass

export class ReferenceModel {
  readonly cfg: Json;
  readonly type: string;
  private file: ReturnType<typeof readSafetensorsHeader>;
  private cache = new Map<string, Float64Array>();

  constructor(readonly dir: string) {
    this.cfg = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8'));
    this.type = this.cfg.model_type;
    this.file = readSafetensorsHeader(path.join(dir, 'model.safetensors'));
  }

  private has(name: string): boolean {
    return this.file.tensors.has(name);
  }

  private vec(name: string): Vec {
    let v = this.cache.get(name);
    if (!v) {
      v = Float64Array.from(readTensor(this.file, name).data);
      this.cache.set(name, v);
    }
    return v;
  }

  private mat(name: string): Mat {
    const shape = this.file.tensors.get(name)?.shape;
    if (!shape || shape.length !== 2) throw new Error(`reference: ${name} missing or not a matrix`);
    return { rows: shape[0], cols: shape[1], data: this.vec(name) };
  }

  private rows(name: string, idx: number[]): Vec {
    const m = this.mat(name);
    const out = new Float64Array(idx.length * m.cols);
    idx.forEach((r, t) => out.set(m.data.subarray(r * m.cols, (r + 1) * m.cols), t * m.cols));
    return out;
  }

  /** Runs each item alone. */
  forward(items: number[][], pert?: ReferencePerturbation): ReferenceResult {
    const res: ReferenceResult = { logits: [], residPost: [], embed: [], finalNorm: [] };
    items.forEach((ids, b) => {
      const r = this.one(ids, b, pert);
      res.logits.push(r.logits);
      res.residPost.push(r.residPost);
      res.embed.push(r.embed);
      res.finalNorm.push(r.finalNorm);
    });
    return res;
  }

  private one(ids: number[], item: number, pert?: ReferencePerturbation) {
    const c = this.cfg;
    const T = ids.length;
    const pos = ids.map((_, t) => t);
    let D: number, H: number, KVH: number, L: number, act_: string;
    let x: Vec;
    let embed: Vec;
    const residPost: Vec[] = [];
    let block: (x: Vec, l: number) => Vec;
    let finalNorm: (x: Vec) => Vec;
    let head: Mat;
    const lin = (x: Vec, prefix: string, opts: { bias?: 'yes' | 'no' | 'optional'; conv?: boolean } = {}) => {
      const b =
        opts.bias === 'no'
          ? null
          : opts.bias === 'optional' && !this.has(`${prefix}.bias`)
            ? null
            : this.vec(`${prefix}.bias`);
      return linear(x, T, this.mat(`${prefix}.weight`), b, opts.conv);
    };
    const ln = (x: Vec, prefix: string, eps: number) =>
      layerNorm(x, T, D, this.vec(`${prefix}.weight`), this.vec(`${prefix}.bias`), eps);

    switch (this.type) {
      case 'gpt_neox': {
        D = c.hidden_size;
        H = KVH = c.num_attention_heads;
        L = c.num_hidden_layers;
        act_ = c.hidden_act ?? 'gelu';
        const hd = D / H;
        const rd = Math.floor(hd * c.rotary_pct);
        const eps = c.layer_norm_eps ?? 1e-5;
        embed = x = this.rows('gpt_neox.embed_in.weight', ids);
        block = (x, l) => {
          const p = `gpt_neox.layers.${l}`;
          const qkv = lin(ln(x, `${p}.input_layernorm`, eps), `${p}.attention.query_key_value`); // [T, H, 3, hd]
          const q = new Float64Array(T * H * hd),
            k = new Float64Array(T * H * hd),
            v = new Float64Array(T * H * hd);
          for (let t = 0; t < T; t++)
            for (let h = 0; h < H; h++)
              for (let i = 0; i < hd; i++) {
                const o = (t * H + h) * 3 * hd;
                q[(t * H + h) * hd + i] = qkv[o + i];
                k[(t * H + h) * hd + i] = qkv[o + hd + i];
                v[(t * H + h) * hd + i] = qkv[o + 2 * hd + i];
              }
          const base = c.rotary_emb_base ?? 10000;
          const z = attention(rotary(q, T, H, hd, rd, base), rotary(k, T, H, hd, rd, base), v, T, H, H, hd);
          const attnOut = lin(z, `${p}.attention.dense`);
          const mlp = (y: Vec) =>
            lin(
              lin(y, `${p}.mlp.dense_h_to_4h`).map((u) => act(act_, u)),
              `${p}.mlp.dense_4h_to_h`,
            );
          if (c.use_parallel_residual ?? true)
            return add(add(x, attnOut), mlp(ln(x, `${p}.post_attention_layernorm`, eps)));
          const mid = add(x, attnOut);
          return add(mid, mlp(ln(mid, `${p}.post_attention_layernorm`, eps)));
        };
        finalNorm = (x) => ln(x, 'gpt_neox.final_layer_norm', eps);
        head = this.mat('embed_out.weight');
        break;
      }
      case 'llama':
      case 'mistral': {
        D = c.hidden_size;
        H = c.num_attention_heads;
        KVH = c.num_key_value_heads ?? H;
        L = c.num_hidden_layers;
        act_ = c.hidden_act ?? 'silu';
        const hd = D / H;
        const eps = c.rms_norm_eps ?? 1e-6;
        const base = c.rope_theta ?? 10000;
        const rms = (x: Vec, name: string) => rmsNorm(x, T, D, this.vec(name), eps);
        embed = x = this.rows('model.embed_tokens.weight', ids);
        block = (x, l) => {
          const p = `model.layers.${l}`;
          const a = rms(x, `${p}.input_layernorm.weight`);
          const q = rotary(lin(a, `${p}.self_attn.q_proj`, { bias: 'optional' }), T, H, hd, hd, base);
          const k = rotary(lin(a, `${p}.self_attn.k_proj`, { bias: 'optional' }), T, KVH, hd, hd, base);
          const v = lin(a, `${p}.self_attn.v_proj`, { bias: 'optional' });
          const mid = add(x, lin(attention(q, k, v, T, H, KVH, hd), `${p}.self_attn.o_proj`, { bias: 'optional' }));
          const m = rms(mid, `${p}.post_attention_layernorm.weight`);
          const gate = lin(m, `${p}.mlp.gate_proj`, { bias: 'no' });
          const up = lin(m, `${p}.mlp.up_proj`, { bias: 'no' });
          return add(
            mid,
            lin(
              gate.map((g, i) => act(act_, g) * up[i]),
              `${p}.mlp.down_proj`,
              { bias: 'no' },
            ),
          );
        };
        finalNorm = (x) => rms(x, 'model.norm.weight');
        head = this.has('lm_head.weight') ? this.mat('lm_head.weight') : this.mat('model.embed_tokens.weight');
        break;
      }
      case 'opt': {
        D = c.hidden_size;
        H = KVH = c.num_attention_heads;
        L = c.num_hidden_layers;
        act_ = c.activation_function ?? 'relu';
        const hd = D / H;
        const eps = 1e-5;
        // positions from the mask: 0..len−1 for real tokens, read at +2
        embed = x = add(
          this.rows('model.decoder.embed_tokens.weight', ids),
          this.rows(
            'model.decoder.embed_positions.weight',
            pos.map((t) => t + 2),
          ),
        );
        block = (x, l) => {
          const p = `model.decoder.layers.${l}`;
          const a = ln(x, `${p}.self_attn_layer_norm`, eps);
          const q = lin(a, `${p}.self_attn.q_proj`); // HF scales q by hd^-0.5: the same as scaling scores
          const mid = add(
            x,
            lin(
              attention(q, lin(a, `${p}.self_attn.k_proj`), lin(a, `${p}.self_attn.v_proj`), T, H, H, hd),
              `${p}.self_attn.out_proj`,
            ),
          );
          const m = ln(mid, `${p}.final_layer_norm`, eps);
          return add(
            mid,
            lin(
              lin(m, `${p}.fc1`).map((u) => act(act_, u)),
              `${p}.fc2`,
            ),
          );
        };
        finalNorm = (x) => ln(x, 'model.decoder.final_layer_norm', eps);
        head = this.has('lm_head.weight') ? this.mat('lm_head.weight') : this.mat('model.decoder.embed_tokens.weight');
        break;
      }
      case 'gpt2': {
        D = c.n_embd;
        H = KVH = c.n_head;
        L = c.n_layer;
        act_ = c.activation_function ?? 'gelu_new';
        const hd = D / H;
        const eps = c.layer_norm_epsilon ?? 1e-5;
        const pre = this.has('transformer.wte.weight') ? 'transformer.' : '';
        embed = x = add(this.rows(`${pre}wte.weight`, ids), this.rows(`${pre}wpe.weight`, pos));
        block = (x, l) => {
          const p = `${pre}h.${l}`;
          const qkv = lin(ln(x, `${p}.ln_1`, eps), `${p}.attn.c_attn`, { conv: true }); // [T, 3D] = [q | k | v]
          const part = (j: number) => {
            const o = new Float64Array(T * D);
            for (let t = 0; t < T; t++) o.set(qkv.subarray(t * 3 * D + j * D, t * 3 * D + (j + 1) * D), t * D);
            return o;
          };
          const mid = add(
            x,
            lin(attention(part(0), part(1), part(2), T, H, H, hd), `${p}.attn.c_proj`, { conv: true }),
          );
          const m = ln(mid, `${p}.ln_2`, eps);
          return add(
            mid,
            lin(
              lin(m, `${p}.mlp.c_fc`, { conv: true }).map((u) => act(act_, u)),
              `${p}.mlp.c_proj`,
              { conv: true },
            ),
          );
        };
        finalNorm = (x) => ln(x, `${pre}ln_f`, eps);
        head = this.has('lm_head.weight') ? this.mat('lm_head.weight') : this.mat(`${pre}wte.weight`);
        break;
      }
      default:
        throw new Error(`reference: model_type '${this.type}' not implemented`);
    }
    for (let l = 0; l < L; l++) {
      x = block(x, l);
      if (pert && pert.layers.includes(l)) x = perturb(x, T, D, pert, item);
      residPost.push(x);
    }
    const fin = finalNorm(x);
    return { logits: linear(fin, T, head, null), residPost, embed, finalNorm: fin };
  }
}

// ---------------------------------------------------------------------------------------------
// a small safetensors writer (tests)

export type WriteDtype = 'F32' | 'F16' | 'BF16';

export interface WriteTensor {
  name: string;
  shape: number[];
  dtype: WriteDtype;
  data: ArrayLike<number>;
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** float → bfloat16 bits, round to nearest even. */
export function toBf16(v: number): number {
  f32[0] = v;
  const x = u32[0];
  return ((x + 0x7fff + ((x >>> 16) & 1)) >>> 16) & 0xffff;
}

/** float → float16 bits, round to nearest even (normal and subnormal range; overflow → ±inf). */
export function toF16(v: number): number {
  const sign = v < 0 || Object.is(v, -0) ? 0x8000 : 0;
  const a = Math.abs(v);
  if (Number.isNaN(v)) return 0x7e00;
  if (a === 0) return sign;
  if (a >= 65520) return sign | 0x7c00;
  let e = Math.floor(Math.log2(a));
  if (2 ** e > a) e--;
  if (2 ** (e + 1) <= a) e++;
  if (e < -14) {
    const m = roundEven(a / 2 ** -24); // subnormal units
    return sign | m; // m may reach 1024 = smallest normal, which encodes correctly
  }
  let m = roundEven((a / 2 ** e - 1) * 1024);
  if (m === 1024) {
    m = 0;
    e++;
  }
  return sign | ((e + 15) << 10) | m;
}

function roundEven(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  return d > 0.5 || (d === 0.5 && f % 2 === 1) ? f + 1 : f;
}

/** Writes a safetensors file laid out like the reference writer (sorted by name, 8-byte padded header). */
export function writeSafetensors(
  file: string,
  tensors: WriteTensor[],
  metadata: Record<string, string> = { format: 'pt' },
): void {
  const size = { F32: 4, F16: 2, BF16: 2 };
  const sorted = [...tensors].sort((a, b) => size[b.dtype] - size[a.dtype] || (a.name < b.name ? -1 : 1));
  const header: Record<string, unknown> = { __metadata__: metadata };
  const chunks: Buffer[] = [];
  let off = 0;
  for (const t of sorted) {
    const n = t.shape.reduce((a, b) => a * b, 1);
    if (t.data.length !== n)
      throw new Error(`writeSafetensors: ${t.name} has ${t.data.length} values for shape [${t.shape}]`);
    const buf = Buffer.alloc(n * size[t.dtype]);
    for (let i = 0; i < n; i++) {
      if (t.dtype === 'F32') buf.writeFloatLE(t.data[i], 4 * i);
      else buf.writeUInt16LE(t.dtype === 'F16' ? toF16(t.data[i]) : toBf16(t.data[i]), 2 * i);
    }
    header[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [off, off + buf.length] };
    off += buf.length;
    chunks.push(buf);
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (Buffer.byteLength(json) % 8)) % 8);
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(Buffer.byteLength(json)));
  fs.writeFileSync(file, Buffer.concat([len, Buffer.from(json, 'utf8'), ...chunks]));
}
