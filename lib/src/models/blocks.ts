/**
 * Building blocks shared by the architecture definitions. The residual stream is kept flat as
 * [N, D] (N = B·T) so every projection is one Gemm on the weight exactly as stored.
 */
import { GraphBuilder } from '../onnx/builder';
import { DataType } from '../onnx/proto';
import { HookPoints } from '../engine/hookpoints';
import { ModelConfig } from '../engine/types';
import { Checkpoint } from './weights';

export interface Ctx {
  g: GraphBuilder;
  cfg: ModelConfig;
  ckpt: Checkpoint;
  hooks: HookPoints;
  /** tensor names resolved for this checkpoint (handles optional prefixes like `transformer.`) */
  name: (n: string) => string;
  /** int64 [B, T] */
  inputIds: string;
  /** int64 [B, T] (OPT: already offset by 2) */
  positionIds: string;
  /** int64 [2] = (B, T) */
  shapeBT: string;
  /** bool [B, 1, T, T]: true where query t may attend key s */
  allowed: string;
}

/** A float32 weight by HF name with its expected shape. */
export function W(c: Ctx, name: string, shape: number[]): string {
  return c.ckpt.value(c.g, c.name(name), shape);
}

/** Optional tensor: the weight if the checkpoint has it, else null. */
export function optW(c: Ctx, name: string, shape: number[]): string | null {
  return c.ckpt.has(c.name(name)) ? W(c, name, shape) : null;
}

/** Rows `ids` (int64 [B, T]) of the embedding table `name` ([rows, D]), flattened to [N, D]. */
export function embed(c: Ctx, name: string, rows: number, ids: string): string {
  const D = c.cfg.dModel;
  return c.g.op('Reshape', [c.g.op('Gather', [W(c, name, [rows, D]), ids], { axis: 0 }), c.g.constI([-1, D])]);
}

/** The output head [V, D]: `lm_head.weight` when the checkpoint has it or the model is untied, else the tied input embedding. */
export function tiedHead(c: Ctx, embedding: string): string {
  const shape = [c.cfg.vocabSize, c.cfg.dModel];
  return c.ckpt.has(c.name('lm_head.weight')) || !c.cfg.tiedEmbeddings
    ? W(c, 'lm_head.weight', shape)
    : W(c, embedding, shape);
}

/**
 * y = x·Wᵀ + b for an nn.Linear weight [out, in] (`conv1d`: GPT-2's Conv1D weight [in, out], y = x·W + b).
 */
export function linear(
  c: Ctx,
  x: string,
  prefix: string,
  inF: number,
  outF: number,
  opts: { bias?: boolean | 'optional'; conv1d?: boolean } = {},
): string {
  const conv = !!opts.conv1d;
  const w = W(c, `${prefix}.weight`, conv ? [inF, outF] : [outF, inF]);
  const b =
    opts.bias === 'optional'
      ? optW(c, `${prefix}.bias`, [outF])
      : opts.bias === false
        ? null
        : W(c, `${prefix}.bias`, [outF]);
  const inputs = b ? [x, w, b] : [x, w];
  return c.g.op('Gemm', inputs, { transB: conv ? 0 : 1 });
}

/** LayerNorm or RMSNorm of [N, D] with hooks `<hookPrefix>.hook_scale` and `<hookPrefix>.hook_normalized`. */
export function norm(c: Ctx, x: string, prefix: string, hookPrefix: string): string {
  const { g, cfg } = c;
  const D = cfg.dModel;
  const w = W(c, `${prefix}.weight`, [D]);
  const scaleLayout = { kind: 'flat' as const, width: 1 };
  let y: string;
  if (cfg.norm === 'layernorm') {
    const b = W(c, `${prefix}.bias`, [D]);
    const [ln, mean, inv] = g.opN('LayerNormalization', [x, w, b], 3, { axis: -1, epsilon: cfg.normEps });
    const scale = g.op('Reciprocal', [inv]);
    const hooked = c.hooks.hook(`${hookPrefix}.hook_scale`, scale, scaleLayout);
    y = hooked === scale ? ln : g.op('Add', [g.op('Mul', [g.op('Div', [g.op('Sub', [x, mean]), hooked]), w]), b]);
  } else {
    const ms = g.op('ReduceMean', [g.op('Mul', [x, x])], { axes: [1], keepdims: 1 });
    const scale = g.op('Sqrt', [g.op('Add', [ms, g.constF([cfg.normEps])])]);
    const hooked = c.hooks.hook(`${hookPrefix}.hook_scale`, scale, scaleLayout);
    y = g.op('Mul', [w, g.op('Div', [x, hooked])]);
  }
  return c.hooks.hook(`${hookPrefix}.hook_normalized`, y, { kind: 'flat', width: D });
}

export function activation(c: Ctx, x: string): string {
  const g = c.g;
  switch (c.cfg.activation) {
    case 'relu':
      return g.op('Relu', [x]);
    case 'silu':
      return g.op('Mul', [x, g.op('Sigmoid', [x])]);
    case 'gelu': // 0.5·x·(1 + erf(x/√2))
      return g.op('Mul', [
        g.op('Mul', [x, g.constF([0.5])]),
        g.op('Add', [g.constF([1]), g.op('Erf', [g.op('Div', [x, g.constF([Math.SQRT2])])])]),
      ]);
    case 'gelu_new': {
      // 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))
      const x3 = g.op('Mul', [g.op('Mul', [x, x]), x]);
      const inner = g.op('Mul', [
        g.op('Add', [x, g.op('Mul', [x3, g.constF([0.044715])])]),
        g.constF([Math.sqrt(2 / Math.PI)]),
      ]);
      return g.op('Mul', [g.op('Mul', [x, g.constF([0.5])]), g.op('Add', [g.constF([1]), g.op('Tanh', [inner])])]);
    }
  }
}

/** [N, heads·hd] → [B, T, heads, hd] */
export function splitHeads(c: Ctx, x: string, heads: number): string {
  const shape = c.g.op('Concat', [c.shapeBT, c.g.constI([heads, c.cfg.headDim])], { axis: 0 });
  return c.g.op('Reshape', [x, shape]);
}

/**
 * cos/sin tables [maxPositions, rotaryDims] as HF computes them in float32:
 * inv_freq = 1 / base^(2i/dim), freqs = t·inv_freq, emb = cat(freqs, freqs).
 */
function rotaryTables(cfg: ModelConfig): { cos: Float32Array; sin: Float32Array } {
  const rd = cfg.rotaryDims;
  const half = rd / 2;
  const inv = new Float32Array(half);
  for (let i = 0; i < half; i++)
    inv[i] = Math.fround(1 / Math.fround(Math.pow(cfg.rotaryBase, Math.fround((2 * i) / rd))));
  const P = cfg.maxPositions;
  const cos = new Float32Array(P * rd);
  const sin = new Float32Array(P * rd);
  for (let t = 0; t < P; t++)
    for (let i = 0; i < rd; i++) {
      const fr = Math.fround(t * inv[i % half]);
      cos[t * rd + i] = Math.cos(fr);
      sin[t * rd + i] = Math.sin(fr);
    }
  return { cos, sin };
}

const tableCache = new WeakMap<ModelConfig, { cos: Float32Array; sin: Float32Array }>();

/** Rotary embedding (rotate-half convention) on the first rotaryDims of each head of [B, T, H, hd]. */
export function rotary(c: Ctx, x: string): string {
  const { g, cfg } = c;
  const rd = cfg.rotaryDims;
  const hd = cfg.headDim;
  if (rd === 0) return x;
  if (!tableCache.has(cfg)) tableCache.set(cfg, rotaryTables(cfg));
  const t = tableCache.get(cfg)!;
  const gather = (tab: Float32Array) =>
    g.op('Unsqueeze', [
      g.op('Gather', [g.constF(tab, [cfg.maxPositions, rd]), c.positionIds], { axis: 0 }),
      g.constI([2]),
    ]);
  const cos = gather(t.cos);
  const sin = gather(t.sin);
  const slice = (v: string, a: number, b: number) => g.op('Slice', [v, g.constI([a]), g.constI([b]), g.constI([3])]);
  const xr = rd === hd ? x : slice(x, 0, rd);
  const rotated = g.op('Concat', [g.op('Neg', [slice(xr, rd / 2, rd)]), slice(xr, 0, rd / 2)], { axis: 3 });
  const out = g.op('Add', [g.op('Mul', [xr, cos]), g.op('Mul', [rotated, sin])]);
  return rd === hd ? out : g.op('Concat', [out, slice(x, rd, hd)], { axis: 3 });
}

/** bool [B,1,T,T] = causal ∧ key is a real token. */
export function attentionAllowed(g: GraphBuilder, attentionMask: string, shapeBT: string): string {
  const T = g.op('Slice', [shapeBT, g.constI([1]), g.constI([2])]);
  const ones = g.op('ConstantOfShape', [g.op('Concat', [T, T], { axis: 0 })], {
    value: {
      type: 'tensor',
      v: { name: 'one', dims: [1], dataType: DataType.FLOAT, raw: new Uint8Array(Float32Array.of(1).buffer) },
    },
  });
  const causal = g.op('Cast', [g.op('Trilu', [ones], { upper: 0 })], { to: DataType.BOOL });
  const keys = g.op('Unsqueeze', [g.op('Cast', [attentionMask], { to: DataType.BOOL }), g.constI([1, 2])]);
  return g.op('And', [causal, keys]);
}

/**
 * Scaled dot-product attention with hooks q, k, v (given, already rotated), pattern and z.
 * q: [B,T,H,hd], k/v: [B,T,KVH,hd]. Returns z flattened to [N, H·hd].
 */
export function attention(c: Ctx, layer: number, q: string, k: string, v: string, scaleQ = false): string {
  const { g, cfg } = c;
  const H = cfg.nHeads;
  const KVH = cfg.nKvHeads;
  const hd = cfg.headDim;
  const G = H / KVH;
  const p = `blocks.${layer}.attn`;
  q = c.hooks.hook(`${p}.hook_q`, q, { kind: 'heads', heads: H, headDim: hd });
  k = c.hooks.hook(`${p}.hook_k`, k, { kind: 'heads', heads: KVH, headDim: hd });
  v = c.hooks.hook(`${p}.hook_v`, v, { kind: 'heads', heads: KVH, headDim: hd });
  const invSqrt = g.constF([1 / Math.sqrt(hd)]);
  if (scaleQ) q = g.op('Mul', [q, invSqrt]);
  let scores: string;
  const kT = g.op('Transpose', [k], { perm: [0, 2, 3, 1] }); // [B,KVH,hd,T]
  const vT = g.op('Transpose', [v], { perm: [0, 2, 1, 3] }); // [B,KVH,T,hd]
  const dimsB = (extra: number[]) =>
    g.op('Concat', [g.op('Slice', [c.shapeBT, g.constI([0]), g.constI([1])]), g.constI(extra)], { axis: 0 });
  if (G === 1) {
    scores = g.op('MatMul', [g.op('Transpose', [q], { perm: [0, 2, 1, 3] }), kT]);
  } else {
    // query head h uses kv head h // G (HF repeat_kv)
    const T = g.op('Slice', [c.shapeBT, g.constI([1]), g.constI([2])]);
    const q5 = g.op('Reshape', [q, g.op('Concat', [c.shapeBT, g.constI([KVH, G, hd])], { axis: 0 })]);
    const qT = g.op('Transpose', [q5], { perm: [0, 2, 3, 1, 4] }); // [B,KVH,G,T,hd]
    const s5 = g.op('MatMul', [qT, g.op('Unsqueeze', [kT, g.constI([2])])]); // [B,KVH,G,T,T]
    scores = g.op('Reshape', [s5, g.op('Concat', [dimsB([H]), T, T], { axis: 0 })]);
  }
  if (!scaleQ) scores = g.op('Mul', [scores, invSqrt]);
  const masked = g.op('Where', [c.allowed, scores, g.constF([-3.4028234663852886e38])]);
  let pattern = g.op('Softmax', [masked], { axis: -1 });
  pattern = c.hooks.hook(`${p}.hook_pattern`, pattern, { kind: 'pattern', heads: H });
  let zT: string; // [B,H,T,hd]
  if (G === 1) zT = g.op('MatMul', [pattern, vT]);
  else {
    const T = g.op('Slice', [c.shapeBT, g.constI([1]), g.constI([2])]);
    const p5 = g.op('Reshape', [pattern, g.op('Concat', [dimsB([KVH, G]), T, T], { axis: 0 })]);
    const z5 = g.op('MatMul', [p5, g.op('Unsqueeze', [vT, g.constI([2])])]); // [B,KVH,G,T,hd]
    zT = g.op('Reshape', [z5, g.op('Concat', [dimsB([H]), T, g.constI([hd])], { axis: 0 })]);
  }
  let z = g.op('Transpose', [zT], { perm: [0, 2, 1, 3] }); // [B,T,H,hd]
  z = c.hooks.hook(`${p}.hook_z`, z, { kind: 'heads', heads: H, headDim: hd });
  return g.op('Reshape', [z, g.constI([-1, H * hd])]);
}
