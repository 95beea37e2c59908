/**
 * The original's Cell 3 self-check: a random normal tensor [1, 10, D], mean displacement per
 * operator for δ ∈ {1, 5, 10} (it printed 1.00/5.00/10.00 for both). We also print the per-token
 * spread, which the original's check could not reveal.
 */
import { perturbTensor } from '../engine/perturb-tensor';
import { PURPOSE, normals, signs } from '../engine/rng';
import { PerturbOp } from '../engine/types';

export interface HookCheckRow {
  op: PerturbOp;
  delta: number;
  meanDisp: number;
  minDisp: number;
  maxDisp: number;
  /** max relative change of ‖h‖ over tokens */
  normChange: number;
  ok: boolean;
}

export async function hookCheck(
  D: number,
  opts: { tokens?: number; deltas?: number[]; seed?: number; tolerance?: number } = {},
): Promise<HookCheckRow[]> {
  const T = opts.tokens ?? 10;
  const seed = opts.seed ?? 42;
  const tol = opts.tolerance ?? 0.1;
  const key = (purpose: number, stream: number) => ({
    seed,
    stream,
    purpose,
    parts: [],
    item: 0,
    length: T,
    layer: 0,
    site: 0,
    pass: 0,
  });
  const h = new Float32Array(T * D);
  normals(key(PURPOSE.noise, 1), T, D, h);
  const noise = new Float32Array(T * D);
  normals(key(PURPOSE.noise, 2), T, D, noise);
  const s = new Float32Array(T);
  signs(key(PURPOSE.signs, 3), T, s);
  const rows: HookCheckRow[] = [];
  for (const op of ['magnitude', 'angle_legacy', 'angle_exact'] as PerturbOp[])
    for (const delta of opts.deltas ?? [1, 5, 10]) {
      const r = await perturbTensor(op, h, D, delta, { noise, signs: s });
      const disp = Array.from(r.disp);
      const meanDisp = disp.reduce((a, b) => a + b, 0) / T;
      let normChange = 0;
      for (let t = 0; t < T; t++) {
        let n2 = 0;
        for (let j = 0; j < D; j++) n2 += r.out[t * D + j] ** 2;
        normChange = Math.max(normChange, Math.abs(Math.sqrt(n2) / r.norms[t] - 1));
      }
      rows.push({
        op,
        delta,
        meanDisp,
        minDisp: Math.min(...disp),
        maxDisp: Math.max(...disp),
        normChange,
        ok: Math.abs(meanDisp - delta) < tol,
      });
    }
  return rows;
}
