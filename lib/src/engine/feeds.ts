/**
 * One forward pass's inputs and outputs: the token inputs every graph has (ids, positions as the
 * architecture defines them, mask, next-token targets), each step's own feeds, and reading the
 * outputs back per item with padding removed (or, for captures left on the device, per pass).
 */
import * as ort from 'onnxruntime-node';
import type { Architecture } from '../models/architecture';
import type { Compiled } from './compile';
import type { DeviceBatch } from './device-cache';
import { NonFiniteOutput } from './errors';
import type { Plan } from './plan';
import type { Provider } from './providers';
import { ioName, kindOf } from './site';
import type { Item, ItemResult, ModelConfig, RunOptions } from './types';

export interface Feeds {
  feeds: Record<string, ort.Tensor>;
  /** the pass's padded length */
  T: number;
  /** where item b's rows start in the head's outputs (logprobs, entropy, logits): real positions only */
  headStart: number[];
}

export function passFeeds(
  cfg: ModelConfig,
  arch: Architecture,
  compiled: Compiled,
  plan: Plan,
  batch: Item[],
  opts: RunOptions,
): Feeds {
  const B = batch.length;
  const T = Math.max(...batch.map((b) => b.ids.length));
  const ids = new BigInt64Array(B * T);
  const pos = new BigInt64Array(B * T);
  const mask = new BigInt64Array(B * T);
  // the head's rows: every real position for entropy or logits, all but the last for log-probs alone
  // (the last token has no target); padding never reaches the head
  const dropLast = plan.outputs.includes('entropy') || plan.outputs.includes('logits') ? 0 : 1;
  const headStart: number[] = [];
  let R = 0;
  for (const it of batch) {
    headStart.push(R);
    R += it.ids.length - dropLast;
  }
  const rows = new BigInt64Array(R);
  const targets = new BigInt64Array(R);
  batch.forEach((it, b) => {
    const L = it.ids.length;
    for (let t = 0; t < T; t++) {
      ids[b * T + t] = BigInt(t < L ? it.ids[t] : 0);
      mask[b * T + t] = t < L ? 1n : 0n;
      pos[b * T + t] = BigInt(arch.position(t, L));
    }
    for (let t = 0; t < L - dropLast; t++) {
      rows[headStart[b] + t] = BigInt(b * T + t);
      targets[headStart[b] + t] = BigInt(t + 1 < L ? it.ids[t + 1] : 0);
    }
  });
  const feeds: Record<string, ort.Tensor> = {
    input_ids: new ort.Tensor('int64', ids, [B, T]),
    position_ids: new ort.Tensor('int64', pos, [B, T]),
    attention_mask: new ort.Tensor('int64', mask, [B, T]),
  };
  if (plan.outputs.length) feeds.head_rows = new ort.Tensor('int64', rows, [R]);
  if (plan.outputs.includes('logprobs')) feeds.targets = new ort.Tensor('int64', targets, [R]);
  plan.steps.forEach((step, i) => {
    const name = (n: string, shared?: boolean) => ioName(plan, i, n, shared);
    kindOf(step.kind).feed?.(
      {
        cfg,
        info: compiled.stepInfo[i],
        items: batch,
        T,
        opts,
        set: (n, t, shared) => (feeds[name(n, shared)] = t),
        has: (n, shared) => name(n, shared) in feeds,
      },
      step,
    );
  });
  return { feeds, T, headStart };
}

/** Item b of a finished pass; NonFiniteOutput when a loss-type output holds NaN/Inf. */
export function readItem(
  cfg: ModelConfig,
  compiled: Compiled,
  plan: Plan,
  out: ort.InferenceSession.ReturnType,
  it: Item,
  b: number,
  { T, headStart }: Feeds,
): ItemResult {
  const L = it.ids.length;
  const start = headStart[b];
  const row = (name: string, n: number) => (out[name].data as Float32Array).slice(start, start + n);
  const r: ItemResult = { id: it.id, captures: {} as ItemResult['captures'] };
  if (plan.outputs.includes('logprobs')) r.logprobs = row('logprobs', L - 1);
  if (plan.outputs.includes('entropy')) r.entropy = row('entropy', L);
  if (plan.outputs.includes('logits')) {
    const V = cfg.vocabSize;
    r.logits = { dims: [L, V], data: (out.logits.data as Float32Array).slice(start * V, (start + L) * V) };
  }
  plan.steps.forEach((step, i) =>
    kindOf(step.kind).read?.(
      { info: compiled.stepInfo[i], item: it, b, T, get: (n) => out[ioName(plan, i, n)], result: r },
      step,
    ),
  );
  for (const [name, v] of Object.entries({ logprobs: r.logprobs, entropy: r.entropy, logits: r.logits?.data }))
    if (v && v.some((x) => !Number.isFinite(x)))
      throw new NonFiniteOutput(`non-finite value in output '${name}' for item ${it.id}`, b);
  return r;
}

/** Lets every step of `plan` ready its run-time values for passes of `batches` (e.g. read device values back). */
export async function prepareFeeds(plan: Plan, batches: Item[][], host = false): Promise<void> {
  for (const step of plan.steps) await kindOf(step.kind).prepare?.(step, batches, host);
}

/** The graph outputs of `plan` asked to stay on the device (captures with `onDevice`). */
export function deviceOutputNames(plan: Plan): string[] {
  return plan.steps.flatMap((s, i) =>
    s.kind === 'capture' && (s.spec as { onDevice?: boolean } | null)?.onDevice ? [ioName(plan, i, 'value')] : [],
  );
}

/** The captures of a finished pass that the session left on the device, one per hook. */
export function keptOnDevice(
  compiled: Compiled,
  plan: Plan,
  provider: Provider,
  out: ort.InferenceSession.ReturnType,
  batch: Item[],
  T: number,
): DeviceBatch[] {
  return plan.steps.flatMap((s, i) => {
    const tensor = s.kind === 'capture' ? out[ioName(plan, i, 'value')] : undefined;
    if (tensor?.location !== 'gpu-buffer') return [];
    const ids = batch.map((it) => it.id);
    const lengths = batch.map((it) => it.ids.length);
    return [{ hook: s.hook, layout: compiled.stepInfo[i].layout, provider, ids, lengths, T, tensor }];
  });
}
