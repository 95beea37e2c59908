/**
 * add: add a fixed vector to the hook's value at every token (activation steering), scaled by a
 * run-time coefficient, so one session serves every strength. The vector has the hook's per-token
 * shape ([D], or [heads, hd]).
 */
import * as ort from 'onnxruntime-node';
import { DataType } from '../../onnx/proto';
import { PlanError, RunError } from '../errors';
import type { HookName } from '../hooks';
import { tokenDims } from '../layout';
import { defineIntervention, firstNonFinite } from './kind';

export const add = defineIntervention({
  kind: 'add',
  create: (_hook: HookName, vector: Float32Array, opts: { coefficient?: number } = {}) => {
    if (!(vector instanceof Float32Array)) throw new PlanError('add: the steering vector must be a Float32Array');
    return { spec: null, value: { vector, coefficient: opts.coefficient ?? 1 } };
  },
  check(_step, info) {
    if (!tokenDims(info.layout)) throw new PlanError(`add: '${info.name}' has no per-token vectors`);
  },
  build(site) {
    const g = site.g;
    const v = site.input('vector', DataType.FLOAT, tokenDims(site.layout)!);
    const c = site.input('coefficient', DataType.FLOAT, [1]);
    return g.op('Add', [site.value, g.op('Mul', [v, c])]);
  },
  feed(batch, step) {
    const dims = tokenDims(batch.info.layout)!;
    const n = dims.reduce((a, b) => a * b, 1);
    if (step.value.vector.length !== n)
      throw new RunError(
        `add '${step.hook}': the vector must have ${dims.join('×')} values, got ${step.value.vector.length}`,
      );
    batch.set('vector', new ort.Tensor('float32', step.value.vector, dims));
    batch.set('coefficient', new ort.Tensor('float32', Float32Array.of(step.value.coefficient), [1]));
  },
  badInput(step) {
    const k = firstNonFinite(step.value.vector);
    if (k >= 0)
      return { where: `steering vector for '${step.hook}'`, item: null, position: null, value: step.value.vector[k] };
    const c = step.value.coefficient;
    return Number.isFinite(c)
      ? null
      : { where: `coefficient for '${step.hook}'`, item: null, position: null, value: c };
  },
});
