/**
 * A hook's tensor outside the graph: per item, padding removed ([L, width], [L, heads, hd] or
 * [H, L, L]); inside a pass: padded to the batch's longest item ([B, T, ...] or [B, H, T, T]).
 */
import * as ort from 'onnxruntime-node';
import { RunError } from './errors';
import type { HookInfo, Item, Layout, Tensor } from './types';

/** Trailing dims of one token of a per-token hook (null for attention scores and patterns). */
export function tokenDims(layout: Layout): number[] | null {
  if (layout.kind === 'flat') return [layout.width];
  if (layout.kind === 'heads') return [layout.heads, layout.headDim];
  return null;
}

/** One item's slice of a [B, ...] hook tensor with padding removed. */
export function unpackItem(layout: Layout, t: ort.Tensor, b: number, T: number, L: number): Tensor {
  const data = t.data as Float32Array;
  const inner = tokenDims(layout);
  if (inner) {
    const w = inner.reduce((x, y) => x * y, 1);
    // a view of the pass's output (an item's rows are contiguous): no second copy of every capture
    return { dims: [L, ...inner], data: data.subarray(b * T * w, (b * T + L) * w) };
  }
  const H = (layout as { heads: number }).heads;
  const out = new Float32Array(H * L * L);
  for (let h = 0; h < H; h++)
    for (let q = 0; q < L; q++) {
      const src = ((b * H + h) * T + q) * T;
      out.set(data.subarray(src, src + L), (h * L + q) * L);
    }
  return { dims: [H, L, L], data: out };
}

/** Packs per-item unpadded hook tensors into the padded [B, ...] layout of a graph input. */
export function packItems(info: HookInfo, per: Tensor[], batch: Item[], T: number): ort.Tensor {
  const B = batch.length;
  const inner = tokenDims(info.layout);
  const what = (b: number) => `patch for '${info.name}', item ${batch[b].id}`;
  if (inner) {
    const w = inner.reduce((x, y) => x * y, 1);
    const data = new Float32Array(B * T * w);
    per.forEach((p, b) => {
      const L = batch[b].ids.length;
      if (p.data.length !== L * w)
        throw new RunError(`${what(b)}: expected ${L}×${inner.join('×')} values, got ${p.data.length}`);
      data.set(p.data, b * T * w);
    });
    return new ort.Tensor('float32', data, [B, T, ...inner]);
  }
  const H = (info.layout as { heads: number }).heads;
  const data = new Float32Array(B * H * T * T);
  per.forEach((p, b) => {
    const L = batch[b].ids.length;
    if (p.data.length !== H * L * L)
      throw new RunError(`${what(b)}: expected ${H}×${L}×${L} values, got ${p.data.length}`);
    for (let h = 0; h < H; h++)
      for (let q = 0; q < L; q++)
        data.set(p.data.subarray((h * L + q) * L, (h * L + q + 1) * L), ((b * H + h) * T + q) * T);
  });
  return new ort.Tensor('float32', data, [B, H, T, T]);
}

/** Per-row data of a [B, T] output, the item's first n positions. */
export function rowOf(t: ort.Tensor, b: number, T: number, n: number): Float32Array {
  return (t.data as Float32Array).slice(b * T, b * T + n);
}
