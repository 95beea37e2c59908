/**
 * ActivationCache: captured hook values by hook name and item id (TransformerLens' ActivationCache,
 * per item because items are unpadded). `model.runWithCache` fills one; `plan.patch(hook, cache)`
 * reads one.
 *
 * Where the provider allows it (`runWithCache(..., { onDevice: true })` on webgpu) the values stay
 * on the device as the capture's pass tensors (engine/device-cache.ts): a patch pass batched like
 * the capture feeds them as they are; `await cache.toHost()` (the engine does it for a patch pass
 * batched otherwise) reads them back once. `get` and `of` see host values only.
 */
import type * as ort from 'onnxruntime-node';
import { DeviceBatch, DeviceCaptures } from './device-cache';
import { RunError } from './errors';
import type { HookName } from './hooks';
import type { Item, RunResult, Tensor } from './types';

export class ActivationCache {
  private readonly byHook = new Map<HookName, Map<number, Tensor>>();
  private readonly device = new DeviceCaptures();

  /** Every capture of a run (or only `names`), those left on the device included. */
  static fromResult(result: RunResult, names?: readonly HookName[]): ActivationCache {
    const cache = new ActivationCache();
    for (const it of result.items)
      for (const [hook, t] of Object.entries(it.captures) as [HookName, Tensor][])
        if (!names || names.includes(hook)) cache.set(hook, it.id, t);
    for (const b of result.onDevice ?? []) if (!names || names.includes(b.hook)) cache.device.add(b);
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

  /** Whether the cache holds `hook` of `item`, on the host or on the device. */
  has(hook: HookName, item: number): boolean {
    return this.onHost(hook, item) || this.device.has(hook, item);
  }

  /** Whether the value is on the host (`get` works). */
  onHost(hook: HookName, item: number): boolean {
    return this.byHook.get(hook)?.has(item) ?? false;
  }

  get(hook: HookName, item: number): Tensor {
    const t = this.byHook.get(hook)?.get(item);
    if (!t)
      throw new RunError(
        this.device.has(hook, item)
          ? `activation cache: '${hook}' of item ${item} is on the device; await cache.toHost() first`
          : this.byHook.has(hook)
            ? `activation cache: no value of '${hook}' for item ${item}`
            : `activation cache holds no '${hook}' (it has: ${this.hooks().join(', ') || 'nothing'})`,
      );
    return t;
  }

  /** The device tensor of `hook` from a capture pass that held exactly `items` in this order, if any. */
  deviceTensor(hook: HookName, items: readonly Item[]): ort.Tensor | undefined {
    return this.device.tensorFor(hook, items);
  }

  /** The capture pass tensors still on the device (of `hook`, or all). */
  deviceBatches(hook?: HookName): DeviceBatch[] {
    return this.device.batches(hook);
  }

  /**
   * Brings values left on the device to the host (of `names`, default all; of `items`, default all):
   * each capture pass tensor is read back once, the first time any of its items is asked for.
   */
  async toHost(names: readonly HookName[] = this.device.hooks(), items?: readonly Item[]): Promise<this> {
    const ids = items?.map((it) => it.id);
    for (const hook of names)
      await this.device.toHost(hook, (id, t) => this.onHost(hook, id) || this.set(hook, id, t), ids);
    return this;
  }

  /** Frees the device tensors; values already on the host stay. */
  dispose(): void {
    this.device.dispose();
  }

  /** The values of `hook` for `items`, in their order. */
  of(hook: HookName, items: readonly Item[]): Tensor[] {
    return items.map((it) => this.get(hook, it.id));
  }

  hooks(): HookName[] {
    return [...new Set([...this.byHook.keys(), ...this.device.hooks()])];
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
