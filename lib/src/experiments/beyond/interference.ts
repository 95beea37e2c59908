/**
 * B2 "Norm interference" (issue 9.2): perturb only the L2 norms of one kind of vector at layer L by
 * per-row factors 1 ± ε (random sign per row) and count how often each head's attention argmax key
 * switches ("circuit collapse"), at L itself (local) and in every later layer (downstream).
 *
 * Targets (each applied exactly: clean capture → factors in TypeScript → patch):
 *   resid_pre — per token, before ln1: the pre-attention norm removes a per-token rescale (up to ε),
 *               but the residual stream carries it on to later layers;
 *   ln1_out   — per token, ln1.hook_out (the norm's output, γ and β applied: the q/k/v projections' input);
 *   q, k, v   — per token and head, attn.hook_q/_k/_v (before rotary, which commutes with a per-row
 *               factor; k and v have the KV heads).
 * Known answers: a positive factor on a query row scales that row's scores, so q never switches a
 * local argmax; v does not enter the local pattern at all; ε = 0 switches nothing anywhere.
 */
import { ActivationCache } from '../../engine/cache';
import { hooks, type HookName } from '../../engine/hooks';
import { plan } from '../../engine/plan';
import type { Item, Tensor } from '../../engine/types';
import { Study } from '../study';
import { SEED } from '../settings';
import { checkLayers, runConditions, wikitextItems, Condition } from '../runs';
import { chunkSize, chunks } from '../mechanism/common';
import { countSwitches, mean, rows, scaleRows, signedFactors } from './geometry';
import { TensorSpill } from '../../util/spill';

export type InterferenceTarget = 'resid_pre' | 'ln1_out' | 'q' | 'k' | 'v';
export const INTERFERENCE_TARGETS: readonly InterferenceTarget[] = ['resid_pre', 'ln1_out', 'q', 'k', 'v'];

export function targetHook(target: InterferenceTarget, layer: number): HookName {
  return target === 'resid_pre'
    ? hooks.residPre(layer)
    : target === 'ln1_out'
      ? hooks.ln1.out(layer)
      : hooks.attn[target](layer);
}

/** Whether the perturbation passes through the pre-attention norm before it reaches q/k/v. */
export function throughNorm(target: InterferenceTarget): boolean {
  return target === 'resid_pre';
}

export interface InterferenceSettings {
  experiment: string;
  layers: number[];
  targets: InterferenceTarget[];
  /** relative norm perturbations ε (factor 1 ± ε); 0 is the no-op control */
  eps: number[];
  seeds: number;
  sentences: number;
  seed: number;
  wikitextFile?: string;
}

export function interferenceSettings(
  study: Study,
  opts: Partial<InterferenceSettings> & { quick?: boolean } = {},
): InterferenceSettings {
  const quick = opts.quick ?? study.quick;
  const layers = opts.layers ?? Array.from({ length: study.model.cfg.nLayers }, (_, i) => i);
  checkLayers(study, layers);
  const eps = opts.eps ?? (quick ? [0, 0.05, 0.1] : [0, 0.01, 0.02, 0.05, 0.1]);
  for (const e of eps)
    if (!(e >= 0 && e < 1)) throw new Error(`ε = ${e}: need 0 ≤ ε < 1 (factors 1 ± ε stay positive)`);
  const targets = opts.targets ?? [...INTERFERENCE_TARGETS];
  for (const t of targets)
    if (!INTERFERENCE_TARGETS.includes(t))
      throw new Error(`unknown target '${t}' (${INTERFERENCE_TARGETS.join(', ')})`);
  return {
    experiment: opts.experiment ?? 'B2-interference',
    layers,
    targets,
    eps,
    seeds: opts.seeds ?? study.cap('seeds', quick ? 1 : 3),
    sentences: opts.sentences ?? study.cap('sentences', quick ? 16 : 64),
    seed: opts.seed ?? SEED,
    wikitextFile: opts.wikitextFile,
  };
}

export interface InterferenceRecord {
  key: string;
  target: InterferenceTarget;
  eps: number;
  seedIndex: number;
  layer: number;
  /** query rows per head that could switch (t ≥ 1, summed over sentences) */
  rows: number;
  /** [l − layer][head]: fraction of rows whose argmax key switched, for l = layer … nLayers−1 */
  switches: number[][];
  /** [l − layer][head]: mean total-variation distance between clean and perturbed rows */
  tv: number[][];
  seconds: number;
  [k: string]: unknown;
}

export function interferenceKey(target: InterferenceTarget, eps: number, seedIndex: number, layer: number): string {
  return `${target}|e${eps}|s${seedIndex}|L${layer}`;
}

/** Per-row factors for one item's target tensor: per token for [T, D], per (token, head) for [T, H, hd]. */
export function interferenceFactors(t: Tensor, eps: number, key: (string | number)[]): Float32Array {
  return signedFactors(rows(t), eps, ...key);
}

export async function runInterference(study: Study, s: InterferenceSettings): Promise<InterferenceRecord[]> {
  const { items, source } = await wikitextItems(study, s.sentences, s.wikitextFile);
  if (!items.length) throw new Error('the sentence set is empty');
  const n = study.model.cfg.nLayers;
  const allPatterns = Array.from({ length: n }, (_, l) => hooks.attn.pattern(l));
  // every pass (clean and patched) runs the same parts of the items, sized so that one part's
  // captured patterns stay within the model's capture budget: an argmax switch compares two patterns
  // computed in the same batch composition, so ε = 0 switches nothing however the items are split
  const maxT = Math.max(...items.map((it) => it.ids.length));
  const parts = chunks(
    items,
    chunkSize(n * study.model.cfg.nHeads * maxT * maxT, undefined, study.model.captureBudgetBytes),
  );
  // the clean values every condition compares with grow with sentences × layers: kept on disk,
  // every layer's patterns and the current layer's targets, per part (hook names tell them apart)
  const spill = new TensorSpill();
  const key = (h: HookName, part: number) => `${part}|${h}`;
  const capturePerPart = async (names: HookName[]) => {
    for (const [p, part] of parts.entries()) {
      const { cache } = await study.model.runWithCache(part, names);
      for (const h of names) spill.put(key(h, p), cache.of(h, part));
    }
  };
  let patternsCaptured: Promise<void> | undefined;
  const patterns = async () => {
    await (patternsCaptured ??= capturePerPart(allPatterns));
    return (part: number, layer: number) => spill.get(key(allPatterns[layer], part));
  };
  let targetLayer: number | undefined;
  const cleanTarget = async (target: InterferenceTarget, layer: number) => {
    const names = (l: number) => s.targets.map((t) => targetHook(t, l));
    // conditions run layer by layer: one pass per part captures every target of the layer, and the
    // previous layer's are removed
    if (targetLayer !== layer) {
      if (targetLayer !== undefined)
        for (const h of names(targetLayer)) parts.forEach((_, p) => spill.delete(key(h, p)));
      await capturePerPart(names(layer));
      targetLayer = layer;
    }
    return parts.flatMap((_, p) => spill.get(key(targetHook(target, layer), p)));
  };
  const common = {
    experiment: s.experiment,
    settings: {
      layers: s.layers,
      targets: s.targets,
      eps: s.eps,
      seeds: s.seeds,
      seed: s.seed,
      itemsPerPass: parts[0].length,
    },
    sentences: items.length,
    dataSource: source,
    env: study.environment(),
  };
  const conds: Condition<InterferenceRecord>[] = [];
  for (const layer of s.layers)
    for (const target of s.targets)
      for (const eps of s.eps)
        for (let si = 0; si < s.seeds; si++)
          conds.push({
            key: interferenceKey(target, eps, si, layer),
            run: async () =>
              interferenceRecord(
                study,
                s,
                parts,
                await patterns(),
                await cleanTarget(target, layer),
                target,
                eps,
                si,
                layer,
              ),
          });
  try {
    return await runConditions(study, s.experiment, conds, common);
  } finally {
    spill.close();
  }
}

async function interferenceRecord(
  study: Study,
  s: InterferenceSettings,
  parts: Item[][],
  clean: (part: number, layer: number) => Tensor[],
  cleanT: Tensor[],
  target: InterferenceTarget,
  eps: number,
  seedIndex: number,
  layer: number,
): Promise<InterferenceRecord> {
  const t0 = performance.now();
  const n = study.model.cfg.nLayers;
  const items = parts.flat();
  const hook = targetHook(target, layer);
  const patches = cleanT.map((t, i) =>
    scaleRows(t, interferenceFactors(t, eps, [s.experiment, target, eps, s.seed + seedIndex, items[i].id, layer])),
  );
  const modified = ActivationCache.fromTensors(hook, items, patches);
  const later = Array.from({ length: n - layer }, (_, k) => hooks.attn.pattern(layer + k));
  // per-(layer, head) sums over the items, in item order; a part's patterns are dropped once counted
  const H = study.model.cfg.nHeads;
  const sw = later.map(() => new Array<number>(H).fill(0));
  const d = later.map(() => new Array<number>(H).fill(0));
  const rowsOf = later.map(() => 0);
  for (const [p, part] of parts.entries()) {
    const res = await study.model.runWithHooks(part, plan().patch(hook, modified).capture(later));
    for (let k = 0; k < later.length; k++) {
      const cleanPart = clean(p, layer + k);
      res.items.forEach((it, j) => {
        const c = countSwitches(cleanPart[j], it.captures[later[k]]);
        for (let h = 0; h < H; h++) {
          sw[k][h] += c.switches[h];
          d[k][h] += c.tv[h];
        }
        rowsOf[k] += c.rows;
      });
    }
  }
  const switches = sw.map((x, k) => x.map((v) => (rowsOf[k] ? v / rowsOf[k] : 0)));
  const tv = d.map((x, k) => x.map((v) => (rowsOf[k] ? v / rowsOf[k] : 0)));
  const totalRows = rowsOf[later.length - 1];
  return {
    key: interferenceKey(target, eps, seedIndex, layer),
    target,
    eps,
    seedIndex,
    layer,
    rows: totalRows,
    switches,
    tv,
    seconds: (performance.now() - t0) / 1000,
  };
}

export interface InterferenceCurve {
  target: InterferenceTarget;
  eps: number;
  /** mean over perturbed layers, heads and seeds of the local (same-layer) switch rate */
  local: number;
  /** largest local switch rate of any (layer, head), averaged over seeds */
  localMax: number;
  /** mean over perturbed layers (with a later layer), later layers, heads and seeds */
  downstream: number;
  /** mean local total-variation distance */
  localTv: number;
}

export interface InterferenceSummary {
  layers: number[];
  eps: number[];
  targets: InterferenceTarget[];
  rows: number;
  curves: InterferenceCurve[];
  /** target → ε → [layer][head] local switch rate, mean over seeds */
  heads: Record<string, Record<string, number[][]>>;
}

export function summarizeInterference(records: InterferenceRecord[]): InterferenceSummary {
  if (!records.length) throw new Error('no interference records');
  const targets = [...new Set(records.map((r) => r.target))];
  const eps = [...new Set(records.map((r) => r.eps))].sort((a, b) => a - b);
  const layers = [...new Set(records.map((r) => r.layer))].sort((a, b) => a - b);
  const curves: InterferenceCurve[] = [];
  const heads: InterferenceSummary['heads'] = {};
  for (const target of targets)
    for (const e of eps) {
      const rs = records.filter((r) => r.target === target && r.eps === e);
      if (!rs.length) continue;
      const perLayer = layers.map((l) => {
        const byL = rs.filter((r) => r.layer === l);
        const H = byL[0]?.switches[0].length ?? 0;
        return Array.from({ length: H }, (_, h) => mean(byL.map((r) => r.switches[0][h])));
      });
      (heads[target] ??= {})[String(e)] = perLayer;
      const down = rs.filter((r) => r.switches.length > 1).map((r) => mean(r.switches.slice(1).flat()));
      curves.push({
        target,
        eps: e,
        local: mean(rs.map((r) => mean(r.switches[0]))),
        localMax: Math.max(...perLayer.flat()),
        downstream: down.length ? mean(down) : 0,
        localTv: mean(rs.map((r) => mean(r.tv[0]))),
      });
    }
  return { layers, eps, targets, rows: records[0].rows, curves, heads };
}

export function curveAt(
  s: InterferenceSummary,
  target: InterferenceTarget,
  eps: number,
): InterferenceCurve | undefined {
  return s.curves.find((c) => c.target === target && c.eps === eps);
}
