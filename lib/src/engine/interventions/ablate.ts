/**
 * ablate: replace the hook's value by zero, or by a mean over the token axis (given per token
 * position's trailing dims, e.g. [D] or [heads, hd]), on every head or only on `heads`.
 */
import * as ort from 'onnxruntime-node';
import { DataType } from '../../onnx/proto';
import { PlanError, RunError } from '../errors';
import type { HookName } from '../hooks';
import { tokenDims } from '../layout';
import { defineIntervention, firstNonFinite, headsSpec } from './kind';

export interface AblateOptions {
  /** the value to put in place of every token's (default: zero) */
  mean?: Float32Array;
  heads?: number[];
}

export const ablate = defineIntervention({
  kind: 'ablate',
  create: (_hook: HookName, opts: AblateOptions = {}) => ({
    spec: { how: opts.mean ? 'mean' : 'zero', heads: headsSpec(opts.heads) },
    value: opts.mean ?? null,
  }),
  check(step, info) {
    if (step.spec.how === 'mean' && !tokenDims(info.layout))
      throw new PlanError(`ablate: a mean ablation of '${info.name}' needs a per-token hook (not scores or patterns)`);
  },
  build(site, spec) {
    const g = site.g;
    const zero = g.op('Mul', [site.value, g.constF([0])]);
    const dims = tokenDims(site.layout);
    const replaced = spec.how === 'zero' ? zero : g.op('Add', [zero, site.input('mean', DataType.FLOAT, dims!)]);
    return spec.heads ? g.op('Where', [site.headMask(spec.heads), replaced, site.value]) : replaced;
  },
  feed(batch, step) {
    if (!step.value) return;
    const dims = tokenDims(batch.info.layout)!;
    const n = dims.reduce((a, b) => a * b, 1);
    if (step.value.length !== n)
      throw new RunError(
        `ablate '${step.hook}': the mean must have ${dims.join('×')} values, got ${step.value.length}`,
      );
    batch.set('mean', new ort.Tensor('float32', step.value, dims));
  },
  badInput(step) {
    const k = step.value ? firstNonFinite(step.value) : -1;
    return k < 0 ? null : { where: `mean for '${step.hook}'`, item: null, position: null, value: step.value![k] };
  },
});
