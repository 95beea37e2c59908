/**
 * Prefix reuse. Every condition of a sweep perturbs some blocks and leaves the ones before them
 * alone: E1 perturbs blocks 8–15 of 24, so blocks 0–7 compute the same values in all of its passes.
 * A plan whose first step is in block k ≥ 1 therefore runs as "patch blocks.k.hook_resid_pre with
 * the cached clean value, then the plan": the graph pruner (onnx/builder.ts) drops blocks 0..k-1,
 * and the values come from one capture pass per item, kept here. Exact up to float32 rounding of
 * the batch composition (the same ops on the same inputs).
 *
 * The cache is keyed by the block and the item's tokens (not its id: two data sets may reuse ids),
 * holds at most `budgetBytes` of entries (each a view of its capture pass's output: an evicted
 * item's rows stay allocated while a batch-mate's entry lives), and drops the least recently used
 * beyond it.
 */
import type { ActivationCache } from './cache';
import { hooks, parseHook } from './hooks';
import { Plan } from './plan';
import type { Item, Tensor } from './types';

/** The block a plan can start at (its first step's block), or 0 when it must run from the embeddings. */
export function prefixStart(plan: Plan, nLayers: number): number {
  if (!plan.steps.some((s) => s.kind !== 'capture')) return 0; // plain passes and pure captures run once anyway
  let k = nLayers - 1;
  for (const s of plan.steps) {
    const p = parseHook(s.hook);
    if (!p) return 0;
    // hook_embed / hook_pos_embed come before block 0; ln_final.* after the last block
    const layer = p.layer ?? (s.hook.startsWith('ln_final') ? nLayers - 1 : 0);
    k = Math.min(k, layer);
  }
  return k;
}

/** `plan` started at blocks.k.hook_resid_pre from `values` (item id → [L, D]). */
export function startAt(plan: Plan, k: number, values: ActivationCache): Plan {
  const patch = new Plan([], []).patch(hooks.residPre(k), values).steps[0];
  // the patch is the first step at the first hook any step uses, so the steps stay in forward order
  return new Plan(plan.outputs, [patch, ...plan.steps]);
}

export class PrefixCache {
  private readonly entries = new Map<string, Tensor>();
  private held = 0;

  constructor(public budgetBytes: number) {}

  private static key(k: number, item: Item): string {
    return `${k}|${item.ids.join(',')}`;
  }

  get(k: number, item: Item): Tensor | undefined {
    const key = PrefixCache.key(k, item);
    const t = this.entries.get(key);
    if (t) {
      this.entries.delete(key); // most recently used last
      this.entries.set(key, t);
    }
    return t;
  }

  set(k: number, item: Item, t: Tensor): void {
    const key = PrefixCache.key(k, item);
    const old = this.entries.get(key);
    if (old) this.held -= old.data.byteLength;
    this.entries.delete(key);
    this.entries.set(key, t);
    this.held += t.data.byteLength;
    for (const [oldKey, v] of this.entries) {
      if (this.held <= this.budgetBytes) break;
      this.entries.delete(oldKey);
      this.held -= v.data.byteLength;
    }
  }

  /** bytes held now */
  get bytes(): number {
    return this.held;
  }

  clear(): void {
    this.entries.clear();
    this.held = 0;
  }
}

/**
 * Consecutive runs of `items` whose prefixes (L·D floats each) fit `budgetBytes` together, so a
 * run never holds more cached values than the budget, however large the data set.
 */
export function chunksWithin(items: readonly Item[], dModel: number, budgetBytes: number): Item[][] {
  const out: Item[][] = [];
  let cur: Item[] = [];
  let bytes = 0;
  for (const it of items) {
    const b = it.ids.length * dModel * 4;
    if (cur.length && bytes + b > budgetBytes) {
      out.push(cur);
      cur = [];
      bytes = 0;
    }
    cur.push(it);
    bytes += b;
  }
  if (cur.length) out.push(cur);
  return out;
}
