/**
 * patch: replace the hook's value by cached values (activation patching), on every head or only on
 * `heads`. The values come from an ActivationCache, by item id: the cache of the same hook, or of
 * `from` (e.g. resid_post of block L into resid_pre of block L + 1). Values the cache holds on the
 * device are fed as they are to a pass batched exactly like their capture pass, and read back to the
 * host (once, in prepare) for any other pass.
 */
import { DataType } from '../../onnx/proto';
import { ActivationCache } from '../cache';
import { PlanError } from '../errors';
import type { HookName } from '../hooks';
import { packItems } from '../layout';
import { defineIntervention, firstNonFinite, headsSpec } from './kind';

export interface PatchOptions {
  heads?: number[];
  /** the cached hook to read (default: the patched hook itself) */
  from?: HookName;
}

export const patch = defineIntervention({
  kind: 'patch',
  create: (hook: HookName, cache: ActivationCache, opts: PatchOptions = {}) => {
    if (!(cache instanceof ActivationCache))
      throw new PlanError(`patch '${hook}': needs an ActivationCache with the values to patch in, got ${cache}`);
    return { spec: { heads: headsSpec(opts.heads) }, value: { cache, from: opts.from ?? hook } };
  },
  build(site, spec) {
    const input = site.input('value', DataType.FLOAT, site.externalDims());
    if (!spec.heads) return site.toInternal(input);
    const mask = site.headMask(spec.heads);
    return site.toInternal(site.g.op('Where', [mask, input, site.toExternal(site.value)]));
  },
  async prepare(step, batches, host = false) {
    const { cache, from } = step.value;
    const need = batches
      .filter((b) => host || !cache.deviceTensor(from, b))
      .flat()
      .filter((it) => !cache.onHost(from, it.id));
    if (need.length) await cache.toHost([from], need);
  },
  feed(batch, step) {
    const { cache, from } = step.value;
    const resident = cache.deviceTensor(from, batch.items);
    batch.set('value', resident ?? packItems(batch.info, cache.of(from, batch.items), batch.items, batch.T));
  },
  badInput(step, items) {
    const { cache, from } = step.value;
    const heads = step.spec.heads;
    for (const [i, it] of items.entries()) {
      const t = cache.get(from, it.id);
      const pattern = t.dims.length === 3 && t.dims[1] === t.dims[2] && !step.hook.endsWith('hook_z');
      // per-head patches: only the selected heads' entries reach the graph
      const keep =
        !heads || t.dims.length !== 3
          ? undefined
          : pattern
            ? (k: number) => heads.includes(Math.floor(k / (t.dims[1] * t.dims[2]))) // [H, L, L]
            : (k: number) => heads.includes(Math.floor(k / t.dims[2]) % t.dims[1]); // [L, H, hd]
      const k = firstNonFinite(t.data, keep);
      if (k < 0) continue;
      const position = pattern ? null : Math.floor(k / (t.data.length / t.dims[0]));
      return { where: `patch value for '${step.hook}'`, item: i, position, value: t.data[k] };
    }
    return null;
  },
});
