/**
 * The legacy angle's graph (engine/perturb-graph.ts) searches m a few bisection steps at a time;
 * here it is checked against the float64 reference's step-by-step bisection (test/reference) for
 * step counts that fill the levels exactly, leave a partial one, or need none, on a padded batch.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as ort from 'onnxruntime-node';
import { GraphBuilder } from '../lib/src/onnx/builder';
import { DataType } from '../lib/src/onnx/proto';
import { perturbGraph } from '../lib/src/engine/perturb-graph';
import { perturb } from './reference/numerics';

function graph(legacyIters: number): Uint8Array {
  const g = new GraphBuilder();
  const h = g.input('h', DataType.FLOAT, ['N', 'D']);
  const noise = g.input('noise', DataType.FLOAT, ['N', 'D']);
  const maskBT = g.input('mask', DataType.FLOAT, ['B', 'T']);
  const delta = g.input('delta', DataType.FLOAT, [1]);
  const shapeBT = g.op('Shape', [maskBT]);
  const { out } = perturbGraph(g, 'angle_legacy', h, { delta, noise, maskBT, shapeBT, legacyIters });
  g.output('out', out);
  return g.encode('legacy');
}

test('legacy angle: the graph’s level-wise search gives the bisection’s result for every step count', async () => {
  let s = 7;
  const rand = () => ((s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32) * 2 - 1;
  const D = 8;
  const lengths = [5, 2, 7];
  const T = Math.max(...lengths);
  const B = lengths.length;
  const rows = (scale: number) =>
    lengths.map((L) => Array.from({ length: L }, () => Float64Array.from({ length: D }, () => rand() * scale)));
  const h = rows(3);
  const noise = rows(1);
  const pack = (x: Float64Array[][]) => {
    const out = new Float32Array(B * T * D);
    x.forEach((item, b) => item.forEach((row, t) => out.set(row, (b * T + t) * D)));
    return out;
  };
  const mask = new Float32Array(B * T);
  lengths.forEach((L, b) => mask.fill(1, b * T, b * T + L));
  // the inputs in float32, so that the float64 oracle sees what the graph sees
  const flat = (item: Float64Array[]) => Float32Array.from(item.flatMap((r) => Array.from(r)));
  const h32 = h.map((item) => Float64Array.from(flat(item)));
  const n32 = noise.map(flat);
  for (const iters of [0, 1, 2, 5, 6, 7, 11, 20, 23])
    for (const delta of [0.4, 2.5, 100]) {
      const session = await ort.InferenceSession.create(graph(iters));
      const out = (
        await session.run({
          h: new ort.Tensor('float32', pack(h), [B * T, D]),
          noise: new ort.Tensor('float32', pack(noise), [B * T, D]),
          mask: new ort.Tensor('float32', mask, [B, T]),
          delta: new ort.Tensor('float32', Float32Array.of(delta), [1]),
        })
      ).out.data as Float32Array;
      await session.release();
      lengths.forEach((L, b) => {
        const want = perturb(
          h32[b],
          L,
          D,
          { op: 'angle_legacy', layers: [], delta, noise: n32, legacyIters: iters },
          b,
        );
        for (let t = 0; t < L; t++)
          for (let i = 0; i < D; i++) {
            const got = out[(b * T + t) * D + i];
            const w = want[t * D + i];
            assert.ok(
              Math.abs(got - w) <= 1e-5 * (1 + Math.abs(w)),
              `iters ${iters} δ ${delta} item ${b} row ${t}[${i}]: ${got} vs bisection ${w}`,
            );
          }
      });
    }
});
