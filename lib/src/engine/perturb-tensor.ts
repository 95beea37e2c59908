/**
 * Runs the engine's perturbation subgraph on a given tensor (no model): the original's Cell 3
 * self-check, and a way to look at the operators on any vectors.
 */
import * as ort from 'onnxruntime-node';
import { GraphBuilder } from '../onnx/builder';
import { DataType } from '../onnx/proto';
import { perturbGraph } from './perturb-graph';
import { PerturbOp } from './types';

export interface TensorPerturbation {
  out: Float32Array;
  /** per row: ‖h'−h‖ */
  disp: Float32Array;
  /** per row: ‖h‖ */
  norms: Float32Array;
}

const sessions = new Map<string, Promise<ort.InferenceSession>>();

function session(op: PerturbOp, legacyIters: number): Promise<ort.InferenceSession> {
  const key = `${op}|${legacyIters}`;
  let s = sessions.get(key);
  if (!s) {
    const g = new GraphBuilder();
    const h = g.input('h', DataType.FLOAT, ['N', 'D']);
    const noise = g.input('noise', DataType.FLOAT, ['N', 'D']);
    const signs = g.input('signs', DataType.FLOAT, ['N', 1]);
    const delta = g.input('delta', DataType.FLOAT, [1]);
    const shapeBT = g.op('Concat', [g.constI([1]), g.op('Slice', [g.op('Shape', [h]), g.constI([0]), g.constI([1])])], {
      axis: 0,
    });
    const maskBT = g.op('ConstantOfShape', [shapeBT], {
      value: {
        type: 'tensor',
        v: { name: 'one', dims: [1], dataType: DataType.FLOAT, raw: new Uint8Array(Float32Array.of(1).buffer) },
      },
    });
    const r = perturbGraph(g, op, h, {
      delta,
      noise: op === 'magnitude' ? undefined : noise,
      signs: op === 'magnitude' ? signs : undefined,
      maskBT,
      shapeBT,
      legacyIters,
    });
    g.output('out', r.out);
    g.output('disp', r.disp);
    g.output('norms', r.norm);
    // keep unused inputs valid for every op
    g.output(
      'unused',
      g.op('Add', [g.op('ReduceSum', [noise], { keepdims: 0 }), g.op('ReduceSum', [signs], { keepdims: 0 })]),
    );
    s = ort.InferenceSession.create(g.encode('perturb'));
    sessions.set(key, s);
  }
  return s;
}

/**
 * Perturbs the rows of h [N, D] as one sentence of N tokens (the legacy operator's mean runs over
 * all N rows), with the given noise [N, D] and signs [N].
 */
export async function perturbTensor(
  op: PerturbOp,
  h: Float32Array,
  D: number,
  delta: number,
  draws: { noise: Float32Array; signs: Float32Array },
  legacyIters = 20,
): Promise<TensorPerturbation> {
  const N = h.length / D;
  const s = await session(op, legacyIters);
  const out = await s.run({
    h: new ort.Tensor('float32', h, [N, D]),
    noise: new ort.Tensor('float32', draws.noise, [N, D]),
    signs: new ort.Tensor('float32', draws.signs, [N, 1]),
    delta: new ort.Tensor('float32', Float32Array.of(delta), [1]),
  });
  return {
    out: out.out.data as Float32Array,
    disp: out.disp.data as Float32Array,
    norms: out.norms.data as Float32Array,
  };
}
