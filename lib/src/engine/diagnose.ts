/**
 * Diagnostics for bad runs and bad inputs:
 * - locateNonFinite: when a run produced NaN/Inf, re-run the offending items with a capture at every
 *   hook and name the first hook (in forward order) where a non-finite value appears; non-finite
 *   run-time inputs (patch values, scale factors, means, explicit draws) are reported first.
 * - checkTokenizerFits: a tokenizer whose ids reach past the model's embedding table.
 */
import type { HookName } from './hooks';
import { firstNonFinite, type BadInput, type Step } from './interventions/kind';
import { prepareFeeds } from './feeds';
import type { Model } from './model';
import type { Plan } from './plan';
import { kindOf } from './site';
import type { Item, RunOptions } from './types';

export interface NonFiniteLocation {
  /** the hook where the first non-finite value appears, or the run-time input that holds one */
  where: string;
  kind: 'hook' | 'input' | 'after-hooks';
  item: number;
  /** token position inside the item (null when not meaningful) */
  position: number | null;
  value: number;
  /** one line for error messages */
  message: string;
}

/**
 * Re-runs `items` under `plan` with a capture at every hook (after the plan's own steps there) and
 * returns the first non-finite value in forward order ('after-hooks' when every hook is finite,
 * i.e. the fault is in the unembedding or log-softmax). Non-finite run-time values of the plan's
 * steps (patch values, factors, means, explicit draws) are reported first, the earliest hook first.
 */
export async function locateNonFinite(
  model: Model,
  plan: Plan,
  items: Item[],
  opts: RunOptions = {},
): Promise<NonFiniteLocation | null> {
  const names = model.hookNames();
  const order = (n: HookName) => names.indexOf(n);
  // 1. run-time inputs (on the host: values left on the device are read back)
  await prepareFeeds(plan, [items], true);
  const bad = plan.steps
    .map((step) => ({ step, b: kindOf(step.kind).badInput?.(step, items) ?? null }))
    .filter((x): x is { step: Step; b: BadInput } => x.b !== null)
    .sort((a, c) => order(a.step.hook) - order(c.step.hook));
  if (bad.length) {
    const { b } = bad[0];
    const item = b.item !== null ? (items[b.item]?.id ?? b.item) : null;
    const message = `non-finite run-time input: ${b.where} holds ${b.value}${item !== null ? ` for item ${item}` : ''}${b.position !== null ? ` at position ${b.position}` : ''}`;
    return {
      where: b.where,
      kind: 'input',
      item: item ?? items[0]?.id ?? 0,
      position: b.position,
      value: b.value,
      message,
    };
  }
  // 2. every hook, in forward order
  const res = await model.runWithHooks(items, plan.withOutputs().capture(names), opts);
  for (const n of names) {
    for (const it of res.items) {
      const t = it.captures[n];
      const k = firstNonFinite(t.data);
      if (k < 0) continue;
      const pattern = n.endsWith('hook_pattern') || n.endsWith('hook_attn_scores');
      // pattern [H, L, L]: report the query position
      const position = pattern
        ? Math.floor((k % (t.dims[1] * t.dims[2])) / t.dims[2])
        : Math.floor(k / (t.data.length / t.dims[0]));
      const perturbed = plan.steps.some((s) => s.hook === n && s.kind === 'perturb');
      return {
        where: n,
        kind: 'hook',
        item: it.id,
        position,
        value: t.data[k],
        message: `first non-finite value (${t.data[k]}) at hook '${n}', item ${it.id}, position ${position}${perturbed ? ' (a perturbed hook: check δ and the draws)' : ' (check the inputs and the checkpoint weights that feed it)'}`,
      };
    }
  }
  return {
    where: 'unembedding',
    kind: 'after-hooks',
    item: items[0]?.id ?? 0,
    position: null,
    value: NaN,
    message: `every hook is finite: the fault is after ln_final.hook_out (unembedding weights or log-softmax)`,
  };
}

export class TokenizerMismatchError extends Error {}

/**
 * Throws when the tokenizer can produce ids the model has no embedding for. A model embedding
 * larger than the tokenizer is normal (Pythia pads its vocabulary to a multiple of 128).
 */
export function checkTokenizerFits(tokVocab: number, modelVocab: number, what = 'tokenizer'): void {
  if (!Number.isInteger(tokVocab) || tokVocab <= 0)
    throw new TokenizerMismatchError(`${what}: vocabulary size ${tokVocab} is not a positive integer`);
  if (tokVocab > modelVocab)
    throw new TokenizerMismatchError(
      `${what} has ${tokVocab} tokens but the model's embedding has only ${modelVocab} rows (config.json vocab_size): ids ${modelVocab}..${tokVocab - 1} would be out of range; use the model's own tokenizer`,
    );
}
