/**
 * Prefix reuse (engine/prefix.ts) on a provider that keeps outputs on the device: the clean
 * blocks.k.hook_resid_pre of a chunk of items stays on the device as the capture's pass tensors
 * (an ActivationCache with device batches), and every later plan started at block k over the same
 * chunk patches them in as they are (its passes are batched like the capture's: the same items, the
 * same policy). Entries are whole chunks, keyed by the block, the chunk's items (ids and tokens,
 * in order) and the batching policy (another policy captures afresh: cheaper than a read-back), at
 * most `budgetBytes` of device memory together; the least recently used are freed beyond it. Runs on one model are sequential, so a freed entry is never one a pass is feeding.
 */
import type { ActivationCache } from './cache';
import { type HookName, hooks } from './hooks';
import type { Item } from './types';

export class DevicePrefixes {
  private readonly entries = new Map<string, { cache: ActivationCache; bytes: number }>();
  private held = 0;

  private static key(k: number, items: readonly Item[], batching: string): string {
    return `${k}|${batching}|${items.map((it) => `${it.id}:${it.ids.join(',')}`).join(';')}`;
  }

  /**
   * The values of blocks.k.hook_resid_pre for `items` batched by `batching` (a string naming
   * the policy): the entry of this chunk, or `capture(items)` kept as a new entry within `budgetBytes`
   * (each item L·D floats, `dModel` = D).
   */
  async values(
    k: number,
    items: readonly Item[],
    batching: string,
    dModel: number,
    budgetBytes: number,
    capture: (names: HookName[]) => Promise<{ cache: ActivationCache }>,
  ): Promise<ActivationCache> {
    const key = DevicePrefixes.key(k, items, batching);
    const hit = this.entries.get(key);
    if (hit) {
      this.entries.delete(key); // most recently used last
      this.entries.set(key, hit);
      return hit.cache;
    }
    const { cache } = await capture([hooks.residPre(k)]);
    const bytes = items.reduce((a, it) => a + it.ids.length * dModel * 4, 0);
    this.entries.set(key, { cache, bytes });
    this.held += bytes;
    for (const [old, e] of this.entries) {
      if (this.held <= budgetBytes || old === key) break;
      this.entries.delete(old);
      this.held -= e.bytes;
      e.cache.dispose();
    }
    return cache;
  }

  /** device bytes held now */
  get bytes(): number {
    return this.held;
  }

  /** Frees every entry. */
  clear(): void {
    for (const e of this.entries.values()) e.cache.dispose();
    this.entries.clear();
    this.held = 0;
  }
}
