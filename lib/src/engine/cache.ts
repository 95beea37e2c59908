/**
 * ActivationCache: captured hook values by hook name and item id (TransformerLens' ActivationCache,
 * per item because items are unpadded). `model.runWithCache` fills one; `plan.patch(hook, cache)`
 * reads one.
 */
import { RunError } from './errors';
import type { HookName } from './hooks';
import type { Item, RunResult, Tensor } from './types';

export class ActivationCache {
  private readonly byHook = new Map<HookName, Map<number, Tensor>>();

  /** Every capture of a run (or only `names`). */
  static fromResult(result: RunResult, names?: readonly HookName[]): ActivationCache {
    const cache = new ActivationCache();
    for (const it of result.items)
      for (const [hook, t] of Object.entries(it.captures) as [HookName, Tensor][])
        if (!names || names.includes(hook)) cache.set(hook, it.id, t);
    return cache;
  }

  /** `tensors[i]` as the value of `hook` for `items[i]` (e.g. modified clean values to patch in). */
  static fromTensors(hook: HookName, items: readonly Item[], tensors: readonly Tensor[]): ActivationCache {
    const cache = new ActivationCache();
    items.forEach((it, i) => cache.set(hook, it.id, tensors[i]));
    return cache;
  }

  set(hook: HookName, item: number, value: Tensor): this {
    let m = this.byHook.get(hook);
    if (!m) this.byHook.set(hook, (m = new Map()));
    m.set(item, value);
    return this;
  }

  has(hook: HookName, item: number): boolean {
    return this.byHook.get(hook)?.has(item) ?? false;
  }

  get(hook: HookName, item: number): Tensor {
    const t = this.byHook.get(hook)?.get(item);
    if (!t)
      throw new RunError(
        this.byHook.has(hook)
          ? `activation cache: no value of '${hook}' for item ${item}`
          : `activation cache holds no '${hook}' (it has: ${this.hooks().join(', ') || 'nothing'})`,
      );
    return t;
  }

  /** The values of `hook` for `items`, in their order. */
  of(hook: HookName, items: readonly Item[]): Tensor[] {
    return items.map((it) => this.get(hook, it.id));
  }

  hooks(): HookName[] {
    return [...this.byHook.keys()];
  }
}

/** The smallest per-token L2 norm of `hooks` over `items` (δ scales: the exact angle reaches δ ≤ 2·min‖h‖). */
export function minTokenNorm(cache: ActivationCache, names: readonly HookName[], items: readonly Item[]): number {
  let min = Infinity;
  for (const h of names)
    for (const x of cache.of(h, items)) {
      const D = x.dims[x.dims.length - 1];
      for (let r = 0; r < x.data.length / D; r++) {
        let s = 0;
        for (let j = 0; j < D; j++) s += x.data[r * D + j] ** 2;
        min = Math.min(min, Math.sqrt(s));
      }
    }
  return min;
}
