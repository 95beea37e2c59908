/**
 * The perturbation operators as ONNX subgraphs (definitions: ARCHITECTURE.md "Perturbations",
 * EXPERIMENTS.md §1.5.3). They act on the residual stream in its internal layout [N, D], N = B·T.
 * δ, noise and signs are graph inputs, so one session serves a whole sweep.
 */
import { GraphBuilder } from '../onnx/builder';
import { DataType } from '../onnx/proto';
import { PerturbOp } from './types';

export interface PerturbInputs {
  delta: string; // [1]
  noise?: string; // [N, D]
  signs?: string; // [N, 1] of ±1
  maskBT: string; // [B, T] float, 1 = real token
  shapeBT: string; // int64 [2]
  legacyIters: number;
}

export interface PerturbOutputs {
  out: string; // [N, D]
  norm: string; // [N, 1] ‖h‖ before the perturbation
  disp: string; // [N, 1] achieved ‖h' − h‖
}

const EPS = 1e-8;
/** Bisection steps the legacy angle's search takes at once (a grid of 2^n − 1 points per level). */
const LEGACY_BITS_PER_LEVEL = 5;

function rowNorm(g: GraphBuilder, x: string): string {
  return g.op('Sqrt', [g.op('ReduceSum', [g.op('Mul', [x, x]), g.constI([1])], { keepdims: 1 })]);
}

function rowDot(g: GraphBuilder, a: string, b: string): string {
  return g.op('ReduceSum', [g.op('Mul', [a, b]), g.constI([1])], { keepdims: 1 });
}

export function perturbGraph(g: GraphBuilder, op: PerturbOp, h: string, p: PerturbInputs): PerturbOutputs {
  const r = rowNorm(g, h);
  let out: string;
  if (op === 'magnitude') {
    if (!p.signs) throw new Error('magnitude perturbation needs signs');
    // h' = (1 + s·δ/(r + 1e-8))·h
    const step = g.op('Div', [g.op('Mul', [p.signs, p.delta]), g.op('Add', [r, g.constF([EPS])])]);
    out = g.op('Mul', [h, g.op('Add', [step, g.constF([1])])]);
  } else if (op === 'angle_exact') {
    if (!p.noise) throw new Error('angle perturbation needs noise');
    // u = h/r; v ⟂ u from the noise; θ = 2·asin(δ/2r); h' = r·(cos θ·u + sin θ·v), with
    // cos θ = 1 − 2·sin²(θ/2) and sin θ = 2·sin(θ/2)·√(1 − sin²(θ/2)) (θ ∈ [0, π]): exact and free of
    // trigonometric ops, whose GPU versions are far less accurate (WGSL allows 2⁻¹¹ absolute for sin/cos)
    const u = g.op('Div', [h, r]);
    const v0 = g.op('Sub', [p.noise, g.op('Mul', [rowDot(g, p.noise, u), u])]);
    const v = g.op('Div', [v0, rowNorm(g, v0)]);
    const half = g.op('Min', [g.op('Div', [p.delta, g.op('Mul', [r, g.constF([2])])]), g.constF([1])]);
    const half2 = g.op('Mul', [half, half]);
    const cos = g.op('Sub', [g.constF([1]), g.op('Mul', [half2, g.constF([2])])]);
    const sin = g.op('Mul', [g.op('Mul', [half, g.constF([2])]), g.op('Sqrt', [g.op('Sub', [g.constF([1]), half2])])]);
    const dir = g.op('Add', [g.op('Mul', [cos, u]), g.op('Mul', [sin, v])]);
    out = g.op('Mul', [dir, r]);
    // padding rows pass through untouched: a zero row (h = 0) gives u = 0/0 there, and a NaN would
    // reach real tokens through attention's zero-probability × value products
    const real = g.op('Cast', [g.reshape(p.maskBT, g.constI([-1, 1]), ['N', 1])], {
      to: DataType.BOOL,
    });
    out = g.op('Where', [real, out, h]);
  } else {
    // finite on every row, padding included (each division has its +1e-8), so padding rows need no
    // [N, D] select: what they hold never reaches a real token (zero attention probability, right padding)
    out = legacyAngle(g, h, r, p);
  }
  const disp = rowNorm(g, g.op('Sub', [out, h]));
  return { out, norm: r, disp };
}

/**
 * The original notebook's angular operator: u(m) = d + m·n̂, h' = r·u/(‖u‖+1e-8), one m per
 * sentence found by `legacyIters` bisection steps on [0, 2] so that the mean displacement over the
 * sentence's real tokens equals δ. Each token's displacement for a given m depends only on r,
 * b = d·n̂ and m: ‖h' − h‖ = 2r·sin(φ/2), tan(φ/2) = m·√(1−b²)/(‖u‖ + 1 + m·b), ‖u‖ = √(1 + 2mb + m²),
 * so the search runs on [B, T] scalars (exact, and well conditioned for small angles).
 *
 * The displacement grows with m (φ is the angle between d and d + m·n̂), so after k steps the
 * bisection's lower end is the largest multiple of 2^(1−k) below the root: the number of grid points
 * with mean displacement < δ, times the spacing. The graph finds those I − 1 bits (the last step's
 * decision is never used; m is its midpoint, lo + 2^(1−I)) a few bits at a time, evaluating every
 * point of a level's grid at once ([B, T, 2^bits − 1]): the same m as the bisection (up to the
 * rounding of a mean that equals δ). With 20 steps the operator is 130 graph nodes instead of 482,
 * whose tiny [B, T] ops cost ≈ 7% of an E1 pass on the CPU in dispatch alone (issue 18's note).
 */
function legacyAngle(g: GraphBuilder, h: string, r: string, p: PerturbInputs): string {
  if (!p.noise) throw new Error('angle perturbation needs noise');
  const d = g.op('Div', [h, g.op('Add', [r, g.constF([EPS])])]);
  const nHat = g.op('Div', [p.noise, g.op('Add', [rowNorm(g, p.noise), g.constF([EPS])])]);
  // [N, 1] → [B, T, 1]: one axis for the grid
  const btg = (x: string) => g.op('Unsqueeze', [g.reshape(x, p.shapeBT, ['B', 'T']), g.constI([2])]);
  const b = btg(rowDot(g, d, nHat));
  const rBT = btg(r);
  const mask = g.op('Unsqueeze', [p.maskBT, g.constI([2])]);
  const s = g.op('Sqrt', [g.op('Max', [g.op('Sub', [g.constF([1]), g.op('Mul', [b, b])]), g.constF([0])])]);
  const count = g.op('ReduceSum', [mask, g.constI([1])], { keepdims: 1 }); // [B, 1, 1]
  // mean displacement over each sentence's real tokens at every m of `m` ([B|1, 1, G]) → [B, 1, G]
  const meanDisp = (m: string) => {
    const mb = g.op('Mul', [m, b]);
    const uNorm = g.op('Sqrt', [
      g.op('Add', [g.op('Add', [g.constF([1]), g.op('Mul', [mb, g.constF([2])])]), g.op('Mul', [m, m])]),
    ]);
    // sin(φ/2) = t/√(1 + t²) with t = tan(φ/2): exact, no Atan/Sin (imprecise on GPUs)
    const tanHalf = g.op('Div', [g.op('Mul', [m, s]), g.op('Add', [g.op('Add', [uNorm, g.constF([1])]), mb])]);
    const sinHalf = g.op('Div', [
      tanHalf,
      g.op('Sqrt', [g.op('Add', [g.constF([1]), g.op('Mul', [tanHalf, tanHalf])])]),
    ]);
    const disp = g.op('Mul', [g.op('Mul', [rBT, sinHalf]), g.constF([2])]);
    return g.op('Div', [g.op('ReduceSum', [g.op('Mul', [disp, mask]), g.constI([1])], { keepdims: 1 }), count]);
  };
  const bits = Math.max(0, p.legacyIters - 1);
  let lo = g.constF([0], [1, 1, 1]);
  for (let done = 0; done < bits; ) {
    const n = Math.min(LEGACY_BITS_PER_LEVEL, bits - done);
    done += n;
    const spacing = 2 ** (1 - done);
    const grid = Array.from({ length: 2 ** n - 1 }, (_, j) => (j + 1) * spacing); // exact in float32 for ≤ 23 bits
    const below = g.op('Less', [meanDisp(g.op('Add', [lo, g.constF(grid, [1, 1, grid.length])])), p.delta]);
    const hits = g.op('ReduceSum', [g.op('Cast', [below], { to: DataType.FLOAT }), g.constI([2])], { keepdims: 1 });
    lo = g.op('Add', [lo, g.op('Mul', [hits, g.constF([spacing])])]); // [B, 1, 1]
  }
  const m = p.legacyIters > 0 ? g.op('Add', [lo, g.constF([2 ** (1 - p.legacyIters)])]) : lo;
  // m: [B,1,1] → one value per token row [N,1]
  const mTok = g.reshape(g.op('Expand', [g.op('Squeeze', [m, g.constI([2])]), p.shapeBT]), g.constI([-1, 1]), ['N', 1]);
  const u = g.op('Add', [d, g.op('Mul', [mTok, nHat])]);
  return g.op('Mul', [g.op('Div', [u, g.op('Add', [rowNorm(g, u), g.constF([EPS])])]), r]);
}
