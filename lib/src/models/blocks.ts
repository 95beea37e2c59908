/**
 * Building blocks shared by the architecture definitions. The residual stream is kept flat as
 * [N, D] (N = B·T) so every projection is one Gemm on the weight exactly as stored.
 */
import { GraphBuilder } from '../onnx/builder';
import { DataType } from '../onnx/proto';
import type { HookName } from '../engine/hooks';
import { hooks } from '../engine/hooks';
import type { Sites } from '../engine/site';
import type { Layout, ModelConfig } from '../engine/types';
import { Checkpoint, type WeightMode } from './weights';

export interface Ctx {
  g: GraphBuilder;
  cfg: ModelConfig;
  ckpt: Checkpoint;
  /** how the graph carries the weights (models/weights.ts) */
  weights: WeightMode;
  sites: Sites;
  /** the hook point: the plan's steps at `name` run here; returns the value the rest of the pass sees */
  hook(name: HookName, value: string, layout: Layout): string;
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
  return c.ckpt.value(c.g, c.name(name), shape, c.weights);
}

/** Optional tensor: the weight if the checkpoint has it, else null. */
export function optW(c: Ctx, name: string, shape: number[]): string | null {
  return c.ckpt.has(c.name(name)) ? W(c, name, shape) : null;
}

/** Rows `ids` (int64 [B, T]) of the embedding table `name` ([rows, D]), flattened to [N, D]. */
export function embed(c: Ctx, name: string, rows: number, ids: string): string {
  const D = c.cfg.dModel;
  return c.g.reshape(c.g.op('Gather', [W(c, name, [rows, D]), ids], { axis: 0 }), c.g.constI([-1, D]), ['N', D]);
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

/** Runs `build` with graph node names under `scope` (e.g. "blocks.3.attn"), so the graph reads like the model. */
export function scoped<T>(c: Ctx, scope: string, build: () => T): T {
  const prev = c.g.scope;
  c.g.scope = scope;
  try {
    return build();
  } finally {
    c.g.scope = prev;
  }
}

export const flat = (width: number): Layout => ({ kind: 'flat', width });

/**
 * LayerNorm or RMSNorm of [N, D] with the hooks `<at>.hook_scale`, `<at>.hook_normalized` (x/scale,
 * before γ and β, as in TransformerLens) and `<at>.hook_out` (γ and β applied). Unless a step changes
 * the scale or the normalized value, the output is ONNX's fused LayerNormalization.
 */
export function norm(c: Ctx, x: string, prefix: string, at: 'ln1' | 'ln2' | 'ln_final', layer?: number): string {
  const { g, cfg } = c;
  const D = cfg.dModel;
  const name = (h: 'scale' | 'normalized' | 'out'): HookName =>
    at === 'ln_final' ? hooks.lnFinal[h] : hooks[at][h](layer!);
  return scoped(c, at === 'ln_final' ? 'ln_final' : `blocks.${layer}.${at}`, () => {
    const w = W(c, `${prefix}.weight`, [D]);
    let y: string;
    if (cfg.norm === 'layernorm') {
      const b = W(c, `${prefix}.bias`, [D]);
      const [ln, mean, inv] = g.opN('LayerNormalization', [x, w, b], 3, { axis: -1, epsilon: cfg.normEps });
      if (!c.sites.has(name('scale')) && !c.sites.has(name('normalized'))) {
        c.sites.declare(name('scale'), flat(1));
        c.sites.declare(name('normalized'), flat(D));
        y = ln;
      } else {
        const scale = g.op('Reciprocal', [inv]);
        const s = c.hook(name('scale'), scale, flat(1));
        const centered = g.op('Sub', [x, mean]);
        const normalized = s === scale ? g.op('Mul', [centered, inv]) : g.op('Div', [centered, s]);
        const n = c.hook(name('normalized'), normalized, flat(D));
        y = s === scale && n === normalized ? ln : g.op('Add', [g.op('Mul', [n, w]), b]);
      }
    } else {
      const ms = g.op('ReduceMean', [g.op('Mul', [x, x])], { axes: [1], keepdims: 1 });
      const s = c.hook(name('scale'), g.op('Sqrt', [g.op('Add', [ms, g.constF([cfg.normEps])])]), flat(1));
      y = g.op('Mul', [w, c.hook(name('normalized'), g.op('Div', [x, s]), flat(D))]);
    }
    return c.hook(name('out'), y, flat(D));
  });
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
  return c.g.reshape(x, shape, ['B', 'T', heads, c.cfg.headDim]);
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
  // Expand of a constant rather than ConstantOfShape, which ONNX Runtime's WebGPU provider lacks (it ran on the CPU)
  const ones = g.op('Expand', [g.constF([1], [1, 1]), g.op('Concat', [T, T], { axis: 0 })]);
  const causal = g.op('Cast', [g.op('Trilu', [ones], { upper: 0 })], { to: DataType.BOOL });
  const keys = g.op('Unsqueeze', [g.op('Cast', [attentionMask], { to: DataType.BOOL }), g.constI([1, 2])]);
  return g.op('And', [causal, keys]);
}

/**
 * Scaled dot-product attention with the hooks q, k, v (before rotary), rot_q, rot_k (after it, when
 * the model is rotary), attn_scores, pattern and z. q: [B,T,H,hd], k/v: [B,T,KVH,hd].
 * `scaleQ`: multiply q by 1/√hd before q·kᵀ (OPT) instead of dividing the scores. Returns z as [N, H·hd].
 */
export function attention(c: Ctx, layer: number, q: string, k: string, v: string, scaleQ = false): string {
  const { g, cfg } = c;
  const H = cfg.nHeads;
  const KVH = cfg.nKvHeads;
  const hd = cfg.headDim;
  const G = H / KVH;
  const a = hooks.attn;
  const heads = (n: number): Layout => ({ kind: 'heads', heads: n, headDim: hd });
  return scoped(c, `blocks.${layer}.attn`, () => {
    q = c.hook(a.q(layer), q, heads(H));
    k = c.hook(a.k(layer), k, heads(KVH));
    v = c.hook(a.v(layer), v, heads(KVH));
    if (cfg.rotaryDims > 0) {
      q = c.hook(a.rotQ(layer), rotary(c, q), heads(H));
      k = c.hook(a.rotK(layer), rotary(c, k), heads(KVH));
    }
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
      const q5 = g.reshape(q, g.op('Concat', [c.shapeBT, g.constI([KVH, G, hd])], { axis: 0 }), ['B', 'T', KVH, G, hd]);
      const qT = g.op('Transpose', [q5], { perm: [0, 2, 3, 1, 4] }); // [B,KVH,G,T,hd]
      const s5 = g.op('MatMul', [qT, g.op('Unsqueeze', [kT, g.constI([2])])]); // [B,KVH,G,T,T]
      scores = g.reshape(s5, g.op('Concat', [dimsB([H]), T, T], { axis: 0 }), ['B', H, 'T', 'T']);
    }
    if (!scaleQ) scores = g.op('Mul', [scores, invSqrt]);
    const masked = c.hook(a.scores(layer), g.op('Where', [c.allowed, scores, g.constF([-3.4028234663852886e38])]), {
      kind: 'pattern',
      heads: H,
    });
    const pattern = c.hook(a.pattern(layer), g.op('Softmax', [masked], { axis: -1 }), { kind: 'pattern', heads: H });
    let zT: string; // [B,H,T,hd]
    if (G === 1) zT = g.op('MatMul', [pattern, vT]);
    else {
      const T = g.op('Slice', [c.shapeBT, g.constI([1]), g.constI([2])]);
      const p5 = g.reshape(pattern, g.op('Concat', [dimsB([KVH, G]), T, T], { axis: 0 }), ['B', KVH, G, 'T', 'T']);
      const z5 = g.op('MatMul', [p5, g.op('Unsqueeze', [vT, g.constI([2])])]); // [B,KVH,G,T,hd]
      zT = g.reshape(z5, g.op('Concat', [dimsB([H]), T, g.constI([hd])], { axis: 0 }), ['B', H, 'T', hd]);
    }
    const z = c.hook(a.z(layer), g.op('Transpose', [zT], { perm: [0, 2, 1, 3] }), heads(H)); // [B,T,H,hd]
    return g.reshape(z, g.constI([-1, H * hd]), ['N', H * hd]);
  });
}
