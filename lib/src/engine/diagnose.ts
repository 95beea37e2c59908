/**
 * Diagnostics for bad runs and bad inputs:
 * - locateNonFinite: when a run produced NaN/Inf, re-run the offending items with a capture at every
 *   hook and name the first hook (in forward order) where a non-finite value appears; non-finite
 *   run-time inputs (patch values, scale factors, means, explicit draws) are reported first.
 * - checkTokenizerFits: a tokenizer whose ids reach past the model's embedding table.
 */
import type { Model } from './model';
import type { HookName, Intervention, Item, Plan, RunOptions } from './types';

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

function firstBad(data: ArrayLike<number>): number {
  for (let i = 0; i < data.length; i++) if (!Number.isFinite(data[i])) return i;
  return -1;
}

/**
 * Re-runs `items` under `plan` with captures of every hook the plan does not already intervene on
 * and returns the first non-finite value in forward order ('after-hooks' when every hook is finite,
 * i.e. the fault is in the unembedding or log-softmax).
 * `opts` must be aligned with `items` (patches, draws).
 */
export async function locateNonFinite(
  model: Model,
  plan: Plan,
  items: Item[],
  opts: RunOptions = {},
): Promise<NonFiniteLocation | null> {
  const names = model.hookNames();
  const hookPos = (n: HookName) => names.indexOf(n);
  // 1. run-time inputs
  const inputs: { loc: NonFiniteLocation; order: number }[] = [];
  /** itemIdx < 0: a run-wide value; `keep(k)` false: an entry the plan ignores (unselected heads) */
  const inputBad = (
    where: string,
    itemIdx: number,
    data: ArrayLike<number>,
    width: number,
    order: number,
    keep: (k: number) => boolean = () => true,
  ) => {
    let k = -1;
    for (let i = 0; i < data.length; i++)
      if (!Number.isFinite(data[i]) && keep(i)) {
        k = i;
        break;
      }
    if (k < 0) return;
    const item = itemIdx >= 0 ? (items[itemIdx]?.id ?? itemIdx) : null;
    const position = width > 0 ? Math.floor(k / width) : null;
    const message = `non-finite run-time input: ${where} holds ${data[k]}${item !== null ? ` for item ${item}` : ''}${position !== null ? ` at position ${position}` : ''}`;
    inputs.push({
      loc: { where, kind: 'input', item: item ?? items[0]?.id ?? 0, position, value: data[k], message },
      order,
    });
  };
  /** for per-head patches: is flat index k of an unpadded hook tensor on a selected head? */
  const onHeads = (hook: HookName, dims: number[]) => {
    const iv = plan.hooks?.[hook];
    const heads = iv && 'heads' in iv ? iv.heads : undefined;
    if (!heads || dims.length !== 3) return () => true;
    return hook.endsWith('hook_pattern')
      ? (k: number) => heads.includes(Math.floor(k / (dims[1] * dims[2]))) // [H, L, L]
      : (k: number) => heads.includes(Math.floor(k / dims[2]) % dims[1]); // [L, H, hd]
  };
  for (const [hook, per] of Object.entries(opts.patches ?? {}))
    per.forEach((t, i) => {
      if (!t) return;
      const pattern = hook.endsWith('hook_pattern');
      // position: the token (row) for [L, ...] tensors, the query for patterns [H, L, L]
      const width = pattern ? 0 : t.data.length / Math.max(1, t.dims[0] ?? 1);
      inputBad(`patch value for '${hook}'`, i, t.data, width, hookPos(hook), onHeads(hook, t.dims));
    });
  for (const [hook, v] of Object.entries(opts.scales ?? {}))
    if (!Number.isFinite(v)) inputBad(`scale factor for '${hook}'`, -1, [v], 0, hookPos(hook));
  for (const [hook, v] of Object.entries(opts.means ?? {})) inputBad(`mean for '${hook}'`, -1, v, 0, hookPos(hook));
  const pertPos = plan.perturb
    ? Math.min(...plan.perturb.layers.map((l) => hookPos(`blocks.${l}.${plan.perturb!.hook ?? 'hook_resid_post'}`)))
    : -1;
  opts.draws?.noise?.forEach((v, i) => inputBad('draws.noise', i, v, model.cfg.dModel, pertPos));
  opts.draws?.signs?.forEach((v, i) => inputBad('draws.signs', i, v, 1, pertPos));
  if (plan.perturb && opts.delta !== undefined && !Number.isFinite(opts.delta))
    inputBad('delta', -1, [opts.delta], 0, pertPos);
  if (inputs.length) return inputs.sort((a, b) => a.order - b.order)[0].loc;
  // 2. every hook, in forward order
  const hooks: Record<HookName, Intervention> = { ...(plan.hooks ?? {}) };
  for (const n of names) if (!hooks[n]) hooks[n] = { kind: 'capture' };
  const diag: Plan = { ...plan, hooks, outputs: [] };
  const res = await model.run(diag, items, { ...opts, batchSize: opts.batchSize ?? 1 });
  for (const n of names) {
    if (hooks[n].kind !== 'capture') continue;
    for (const it of res.items) {
      const t = it.captures[n];
      const k = firstBad(t.data);
      if (k < 0) continue;
      const perPos = n.endsWith('hook_pattern') ? t.dims[1] * t.dims[2] : t.data.length / t.dims[0];
      // pattern [H, L, L]: report the query position
      const position = n.endsWith('hook_pattern')
        ? Math.floor((k % (t.dims[1] * t.dims[2])) / t.dims[2])
        : Math.floor(k / perPos);
      return {
        where: n,
        kind: 'hook',
        item: it.id,
        position,
        value: t.data[k],
        message: `first non-finite value (${t.data[k]}) at hook '${n}', item ${it.id}, position ${position}${plan.perturb?.layers.some((l) => n === `blocks.${l}.${plan.perturb!.hook ?? 'hook_resid_post'}`) ? ' (a perturbed hook: check δ and the draws)' : ' (check the inputs and the checkpoint weights that feed it)'}`,
      };
    }
  }
  return {
    where: 'unembedding',
    kind: 'after-hooks',
    item: items[0]?.id ?? 0,
    position: null,
    value: NaN,
    message: `every hook is finite: the fault is after ln_final.hook_normalized (unembedding weights or log-softmax)`,
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
