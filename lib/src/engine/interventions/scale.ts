/** scale: multiply the hook's value by a factor (1 = no-op), on every head or only on `heads`. */
import * as ort from 'onnxruntime-node';
import { DataType } from '../../onnx/proto';
import { PlanError } from '../errors';
import type { HookName } from '../hooks';
import { defineIntervention, headsSpec } from './kind';

export const scale = defineIntervention({
  kind: 'scale',
  create: (_hook: HookName, factor: number, opts: { heads?: number[] } = {}) => {
    if (typeof factor !== 'number') throw new PlanError(`scale: the factor must be a number, got ${factor}`);
    return { spec: { heads: headsSpec(opts.heads) }, value: factor };
  },
  build(site, spec) {
    const g = site.g;
    const scaled = g.op('Mul', [site.value, site.input('factor', DataType.FLOAT, [1])]);
    return spec.heads ? g.op('Where', [site.headMask(spec.heads), scaled, site.value]) : scaled;
  },
  feed(batch, step) {
    batch.set('factor', new ort.Tensor('float32', Float32Array.of(step.value), [1]));
  },
  badInput: (step) =>
    Number.isFinite(step.value)
      ? null
      : { where: `scale factor for '${step.hook}'`, item: null, position: null, value: step.value },
});
