/**
 * Captures that stay on the device (engine/device-buffers.ts): one padded tensor per hook and
 * forward pass, kept as the capture pass made it ([B, T, ...] or [B, H, T, T], `location ===
 * 'gpu-buffer'`), keyed by the pass's batch composition (item ids in batch order, their lengths).
 *
 * A later pass whose batch is exactly that composition feeds the tensor as it is (`tensorFor`); every
 * other use needs host values, which `toHost` reads back once per pass tensor, on first demand,
 * and unpacks per item. ActivationCache holds one of these beside its host values.
 */
import * as ort from 'onnxruntime-node';
import { readBack } from './device-buffers';
import type { HookName } from './hooks';
import { unpackItem } from './layout';
import type { Provider } from './providers';
import type { Item, Layout, Tensor } from './types';

/** One capture of one forward pass, left on the device. */
export interface DeviceBatch {
  hook: HookName;
  layout: Layout;
  provider: Provider;
  /** the pass's item ids, in batch order */
  ids: number[];
  /** their token counts */
  lengths: number[];
  /** the pass's padded length */
  T: number;
  tensor: ort.Tensor;
}

export class DeviceCaptures {
  private readonly byHook = new Map<HookName, DeviceBatch[]>();
  private readonly read = new Map<DeviceBatch, Promise<void>>();

  add(b: DeviceBatch): void {
    let list = this.byHook.get(b.hook);
    if (!list) this.byHook.set(b.hook, (list = []));
    list.push(b);
  }

  hooks(): HookName[] {
    return [...this.byHook.keys()].filter((h) => this.batches(h).length);
  }

  /** Whether a pass tensor of `hook` holds `item`. */
  has(hook: HookName, item: number): boolean {
    return this.batches(hook).some((b) => b.ids.includes(item));
  }

  /** The pass tensors of `hook` (or every hook) still on the device (not freed by dispose or the model's release). */
  batches(hook?: HookName): DeviceBatch[] {
    const all = hook ? (this.byHook.get(hook) ?? []) : [...this.byHook.values()].flat();
    return all.filter((b) => b.tensor.location === 'gpu-buffer');
  }

  /** The device tensor of `hook` whose pass held exactly `items`, in this order; undefined otherwise. */
  tensorFor(hook: HookName, items: readonly Item[]): ort.Tensor | undefined {
    const b = this.batches(hook).find(
      (x) =>
        x.ids.length === items.length && items.every((it, i) => it.id === x.ids[i] && it.ids.length === x.lengths[i]),
    );
    return b?.tensor;
  }

  /**
   * Reads the pass tensors of `hook` holding any of `items` (all of them without `items`) back to the
   * host, once each, and gives every item's values to `put`.
   */
  async toHost(hook: HookName, put: (item: number, t: Tensor) => void, items?: readonly number[]): Promise<void> {
    const wanted = this.batches(hook).filter((b) => !items || b.ids.some((id) => items.includes(id)));
    await Promise.all(
      wanted.map((b) => {
        let p = this.read.get(b);
        if (!p) {
          p = readBack(b.tensor, b.provider).then((data) => {
            const t = new ort.Tensor('float32', data, b.tensor.dims);
            b.ids.forEach((id, row) => put(id, unpackItem(b.layout, t, row, b.T, b.lengths[row])));
          });
          this.read.set(b, p);
        }
        return p;
      }),
    );
  }

  /** Frees the device tensors (host values already read stay where they were put). */
  dispose(): void {
    for (const b of this.batches()) b.tensor.dispose();
    this.byHook.clear();
    this.read.clear();
  }
}

/**
 * The device tensors one model handed out, so that releasing the model frees those still alive
 * before its sessions: ONNX Runtime tears the WebGPU device down with the last session using it,
 * and freeing a buffer of a torn-down device crashes the process. Weak: a cache dropped without
 * `dispose` does not stay reachable through this list.
 */
export class DeviceTensors {
  private refs: WeakRef<ort.Tensor>[] = [];

  track(batches: readonly DeviceBatch[]): void {
    if (this.refs.length > 1024) this.refs = this.refs.filter((r) => r.deref() !== undefined);
    for (const b of batches) this.refs.push(new WeakRef(b.tensor));
  }

  /** Frees every tracked tensor still alive (Tensor.dispose is a no-op on a disposed one). */
  disposeAll(): void {
    for (const r of this.refs) r.deref()?.dispose();
    this.refs = [];
  }
}
