/**
 * Shared machinery of the mechanism experiments (original idx 10–15, 17, 24): settings with the
 * same quick scaling as E1, attention-entropy reductions, the clean-cache → unrepaired → repaired
 * pass sequence, and the seed- and sentence-level statistics every summary reports.
 */
import { hooks, type HookName } from '../../engine/hooks';
import { Plan, plan } from '../../engine/plan';
import type { Item, RunResult, Tensor } from '../../engine/types';
import { bootstrapCI, cohenDz, mean, std, type TTestResult, ttestPairedOrNA } from '../../stats';
import { Study } from '../study';
import { Mode, PUBLISHED, PUBLISHED_SCALE, QUICK, Scale, middleLayers, seedFor } from '../settings';
import { ConditionRecordBase, checkLayers, conditionStream, perturbedPlan, sentenceLoss, wikitextItems } from '../runs';
import { sweepSettings } from '../e1-sweep';

export type MechExperiment = 'E3' | 'E4' | 'E5' | 'E6' | 'E7' | 'E9' | 'E11';

/** Published per-experiment settings (EXPERIMENTS.md §1.5.4 and the cells). All use δ = 5. */
export const MECH_PUBLISHED: Record<MechExperiment, { sentences: number; seeds: number; seedOffset: number }> = {
  E3: { sentences: 100, seeds: 5, seedOffset: 200 },
  E4: { sentences: 100, seeds: 5, seedOffset: 300 },
  E5: { sentences: 50, seeds: 3, seedOffset: 400 },
  E6: { sentences: 50, seeds: 3, seedOffset: 500 },
  E7: { sentences: 50, seeds: 3, seedOffset: 600 },
  E9: { sentences: 50, seeds: 3, seedOffset: 900 },
  E11: { sentences: 100, seeds: 5, seedOffset: 1200 },
};

export const MECH_DELTA = 5;

/** The two operators of the mechanism cells: the legacy (mean-matched) angle and magnitude. */
export const MECH_MODES: Record<'angle' | 'magnitude', Mode> = {
  angle: { op: 'angle_legacy', noise: 'legacy' },
  magnitude: { op: 'magnitude', noise: 'legacy' },
};
export type ModeName = keyof typeof MECH_MODES;

export interface MechanismSettings {
  /**
   * Store name (results/<model>/<experiment>.jsonl) and the name condition streams are derived
   * from: a MechExperiment for the mechanism cells, or another store running the same procedure
   * with its own seeds (the cross-model sections 'E8-entropy' = E3's, 'E10-repair' = E4's).
   */
  experiment: MechExperiment | (string & {});
  /** perturbed layers (published 8–15 = middleLayers(24)) */
  layers: number[];
  /** δ as run (5 × scale.deltaScale) */
  delta: number;
  publishedDelta: number;
  sentences: number;
  seeds: number;
  seedOffset: number;
  legacyIters: number;
  scale: Scale;
  wikitextFile?: string;
  /** items per clean-capture/patch chunk (bounds memory); default from the captured sizes */
  chunk?: number;
}

export interface MechanismOptions {
  quick?: boolean;
  layers?: number[];
  sentences?: number;
  seeds?: number;
  /** reuse a scale (e.g. E1's) instead of measuring it again */
  scale?: Scale;
  wikitextFile?: string;
  chunk?: number;
}

/**
 * Published settings of one mechanism experiment, or their quick scaling: δ scaled exactly as E1
 * (`sweepSettings(study, {quick}).scale`, measured on the clean norms of the same layers), sentences
 * capped at QUICK.sentences and QUICK.seeds seeds.
 */
export async function mechanismSettings(
  study: Study,
  experiment: MechExperiment,
  opts: MechanismOptions = {},
): Promise<MechanismSettings> {
  const quick = opts.quick ?? study.quick;
  const layers = opts.layers ?? middleLayers(study.model.cfg.nLayers);
  checkLayers(study, layers);
  const scale =
    opts.scale ??
    (quick ? (await sweepSettings(study, { quick, layers, wikitextFile: opts.wikitextFile })).scale : PUBLISHED_SCALE);
  const pub = MECH_PUBLISHED[experiment];
  return {
    experiment,
    layers,
    delta: MECH_DELTA * scale.deltaScale,
    publishedDelta: MECH_DELTA,
    sentences:
      opts.sentences ?? study.cap('sentences', quick ? Math.min(QUICK.sentences, pub.sentences) : pub.sentences),
    seeds: opts.seeds ?? study.cap('seeds', quick ? QUICK.seeds : pub.seeds),
    seedOffset: pub.seedOffset,
    legacyIters: PUBLISHED.legacyIters,
    scale,
    wikitextFile: opts.wikitextFile,
    chunk: opts.chunk,
  };
}

/** The settings every record of an experiment carries (the resume fingerprint; seeds excluded so they can be extended). */
export function commonFields(
  study: Study,
  s: MechanismSettings,
  items: Item[],
  source: string,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    experiment: s.experiment,
    layers: s.layers,
    delta: s.delta,
    publishedDelta: s.publishedDelta,
    sentences: items.length,
    dataSource: source,
    scale: s.scale.note,
    legacyIters: s.legacyIters,
    seedOffset: s.seedOffset,
    ...extra,
    env: study.environment(),
  };
}

export async function mechanismItems(study: Study, s: MechanismSettings): Promise<{ items: Item[]; source: string }> {
  const r = await wikitextItems(study, s.sentences, s.wikitextFile);
  if (!r.items.length) throw new Error('the sentence set is empty after filtering');
  return r;
}

export const seedOf = (s: MechanismSettings, seedIndex: number): number => seedFor(s.seedOffset, seedIndex);

// ───────────────────────────── attention entropy ─────────────────────────────

/**
 * Row entropies of one attention pattern [H, T, T] with the original's formula
 * H = −Σ_k (p_k + 1e-10)·ln(p_k + 1e-10) over the full key axis (causal zeros included).
 * Returns per head the mean over query positions, and the layer value (mean over heads and queries).
 */
export function patternEntropy(t: Tensor): { perHead: number[]; layer: number } {
  const [H, T, T2] = t.dims;
  if (T !== T2) throw new Error(`pattern dims ${t.dims}: expected [H, T, T]`);
  const perHead: number[] = [];
  const d = t.data;
  for (let h = 0; h < H; h++) {
    let sh = 0;
    for (let q = 0; q < T; q++) {
      let e = 0;
      const o = (h * T + q) * T;
      for (let k = 0; k < T; k++) {
        const p = d[o + k] + 1e-10;
        e -= p * Math.log(p);
      }
      sh += e;
    }
    perHead.push(sh / T);
  }
  return { perHead, layer: mean(perHead) };
}

/** Items per chunk so that captures stay below ~`budget` bytes (Model.captureBudgetBytes). */
export function chunkSize(floatsPerItem: number, given: number | undefined, budget: number): number {
  if (given) return Math.max(1, Math.floor(given));
  return Math.max(1, Math.min(64, Math.floor(budget / Math.max(1, 4 * floatsPerItem))));
}

export function chunks<T>(xs: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += size) out.push(xs.slice(i, i + size));
  return out;
}

export function lossesOf(res: RunResult): number[] {
  return res.items.map((it) => sentenceLoss(it.logprobs!));
}

// ───────────────────────────── repair passes ─────────────────────────────

/** One repair condition: the hooks whose clean values are patched in (all tokens, all heads). */
export interface PatchSet {
  name: string;
  hooks: HookName[];
}

export const attnHooks = (layers: number[]): HookName[] => layers.map(hooks.attnOut);
export const mlpHooks = (layers: number[]): HookName[] => layers.map(hooks.mlpOut);
/** both norms' normalized values (TransformerLens' hook_normalized): patching them makes the norms' outputs clean */
export const lnHooks = (layers: number[]): HookName[] =>
  layers.flatMap((l) => [hooks.ln1.normalized(l), hooks.ln2.normalized(l)]);

export interface RepairRun {
  /** per sentence: loss with the perturbation and no patch (pass 0) */
  unrepaired: number[];
  /** per patch set, per sentence: loss with the perturbation and the clean values patched in (pass j+1) */
  repaired: Record<string, number[]>;
  seconds: number;
}

/**
 * The per-sentence pass sequence of idx 12/13/14/17/24, batched: a clean pass caching the patched
 * hooks, then the perturbed pass without a patch (pass 0), then one perturbed pass per patch set
 * (pass 1, 2, …). Angle noise is keyed by the sentence (['item'], the original cleared its cache per
 * sentence) and not by the pass, so every pass of a sentence sees the same noise; magnitude signs
 * are keyed by ['item', 'layer', 'pass'], so unrepaired and repaired passes draw *different* signs,
 * as in the original. Items run in chunks to bound the cached activations.
 */
export async function repairPasses(
  study: Study,
  items: Item[],
  o: {
    mode: Mode;
    layers: number[];
    delta: number;
    seed: number;
    stream: number;
    sets: PatchSet[];
    legacyIters: number;
    chunk?: number;
  },
): Promise<RepairRun> {
  const t0 = performance.now();
  const allHooks = [...new Set(o.sets.flatMap((p) => p.hooks))];
  const D = study.model.cfg.dModel;
  const maxT = Math.max(...items.map((it) => it.ids.length));
  const size = chunkSize(allHooks.length * maxT * D, o.chunk, study.model.captureBudgetBytes);
  const unrepaired: number[] = [];
  const repaired: Record<string, number[]> = Object.fromEntries(o.sets.map((p) => [p.name, [] as number[]]));
  const perturbed = (rest?: Plan) =>
    perturbedPlan(
      { mode: o.mode, layers: o.layers, delta: o.delta, noiseScope: 'item', legacyIters: o.legacyIters },
      rest,
    );
  const run = (part: Item[], p: Plan, pass: number) =>
    study.model.runWithHooks(part, p, { seed: o.seed, stream: o.stream, pass });
  for (const part of chunks(items, size)) {
    // only patched back in: left on the device where the provider can (fed as is to passes batched alike)
    const clean = allHooks.length ? (await study.model.runWithCache(part, allHooks, { onDevice: true })).cache : null;
    try {
      unrepaired.push(...lossesOf(await run(part, perturbed(), 0)));
      for (let j = 0; j < o.sets.length; j++) {
        const set = o.sets[j];
        const r = await run(part, perturbed(plan('logprobs').patch(set.hooks, clean!)), j + 1);
        repaired[set.name].push(...lossesOf(r));
      }
    } finally {
      clean?.dispose();
    }
  }
  return { unrepaired, repaired, seconds: (performance.now() - t0) / 1000 };
}

export function repairStream(experiment: string, publishedDelta: number, mode: ModeName): number {
  return conditionStream(experiment, publishedDelta, MECH_MODES[mode]);
}

// ───────────────────────────── statistics ─────────────────────────────

export interface MeanStd {
  perSeed: number[];
  mean: number;
  /** population std over seeds (the original's "±") */
  std: number;
}

export function meanStd(perSeed: number[]): MeanStd {
  return { perSeed, mean: mean(perSeed), std: std(perSeed) };
}

/** Sentence-level paired comparison (values averaged over seeds first): t, d_z and a bootstrap CI of the mean difference. */
export interface SentenceTest {
  n: number;
  test: TTestResult;
  dz: number;
  meanDiff: number;
  ci: [number, number];
}

export function sentencePaired(a: number[], b: number[], seed = 1): SentenceTest {
  const pairs = a.map((x, i) => [x, b[i]] as [number, number]);
  const ci = bootstrapCI(pairs, (p) => mean(p.map(([x, y]) => x - y)), { seed, reps: 4000 });
  return {
    n: a.length,
    test: ttestPairedOrNA(a, b, 'sentences'),
    dz: a.length > 1 ? cohenDz(a, b) : NaN,
    meanDiff: mean(a) - mean(b),
    ci: [ci.lower, ci.upper],
  };
}

/** Per-sentence mean over seeds of `get(record)[i]`. */
export function seedAveraged<R>(records: R[], get: (r: R) => number[]): number[] {
  const n = get(records[0]).length;
  return Array.from({ length: n }, (_, i) => mean(records.map((r) => get(r)[i])));
}

/**
 * Recovery over sentences as a ratio of means, 100·Σ(U_i − R_i)/Σ(U_i − B_i) (the standard
 * "fraction of the damage removed"), with a sentence bootstrap CI.
 */
export function sentenceRecovery(
  B: number[],
  U: number[],
  R: number[],
  seed = 5,
): { estimate: number; ci: [number, number] } {
  const rows = B.map((b, i) => [b, U[i], R[i]] as [number, number, number]);
  const stat = (p: readonly [number, number, number][]) => {
    let num = 0,
      den = 0;
    for (const [b, u, r] of p) {
      num += u - r;
      den += u - b;
    }
    return (100 * num) / den;
  };
  const ci = bootstrapCI(rows, stat, { seed, reps: 4000 });
  return { estimate: stat(rows), ci: [ci.lower, ci.upper] };
}

/** Published-vs-reproduced row for REPORT.md. */
export interface CompareRow {
  experiment: string;
  quantity: string;
  published: number | null;
  reproduced: number;
  note?: string;
}

export function byKey<R extends { key: string }>(records: R[]): Map<string, R> {
  return new Map(records.map((r) => [r.key, r]));
}

export function seedIndices<R extends { seedIndex?: number }>(records: R[]): number[] {
  return [...new Set(records.filter((r) => r.seedIndex !== undefined).map((r) => r.seedIndex!))].sort((a, b) => a - b);
}

/** The header of every mechanism record: the shared condition fields plus the operator. */
export interface MechRecordBase extends ConditionRecordBase {
  mode?: ModeName;
  op?: string;
}
