/**
 * Runners of the cross-model cells: loss sweeps (runSweep for WikiText sets, runItemSweep for the
 * hand-written E12 set, same record format), E8's attention entropy, E10's attention repair, and the
 * memory check in front of them. `runCrossModel(name, study, {quick})` runs one cell alone (also
 * the entry point of `dirmag reproduce`).
 *
 * E3 entropy / E4 repair of lib/src/experiments/mechanism were not committed when this was written:
 * the minimal versions needed here (mean row entropy over all layers; attn_out patch at the
 * perturbed layers) are implemented below directly on the engine.
 */
import { Item, Plan } from '../../engine/types';
import { RunError } from '../../engine/model';
import { e12Sentences } from '../../data';
import { mean, recoveryPooledBaseline, ttestPaired } from '../../stats';
import { Study } from '../study';
import { Mode, PUBLISHED, PUBLISHED_SCALE, SEED, Scale, modeName, quickScale } from '../settings';
import { Condition, cleanNorms, conditionStream, meanOf, perturbPlan, runConditions, sentenceLoss, summarizePass, wikitextItems } from '../runs';
import { E1_MODES, SweepRecord, SweepSettings, conditionKey, runSweep } from '../e1-sweep';
import { E1Summary, summarizeE1 } from '../e1-stats';
import { BosCheck, CrossModelEntry, SentenceSet, archFactsOf, checkBos, registryEntry, scaledLayers } from './registry';
import { Available, MemoryPlan, limitSessions, planMemory, requireMemory } from './memory';

/** Quick mode sizes (tiny CI checkpoints): sentences per section and seeds. */
export const CROSSMODEL_QUICK = { lossSentences: 12, sectionSentences: 8, seeds: 2 };

export interface CrossModelRunOptions {
  quick?: boolean;
  /** sections to run (default: all the cell has) */
  sections?: ('loss' | 'entropy' | 'repair')[];
  wikitextFile?: string;
  /** memory check: inject the available memory (tests), the user's --gpu-memory, or skip it */
  memory?: { available?: Available; gpuMemoryGiB?: number; skip?: boolean };
}

/** Model facts recorded with a cell's results (the summary reads them instead of loading the model). */
export interface ModelInfo {
  key: string;
  entry: string;
  hfId: string;
  modelType: string;
  norm: 'layernorm' | 'rmsnorm';
  parallelResidual: boolean;
  checkpointDtype: string;
  originalDtype: string;
  computeDtype: 'float32';
  nLayers: number;
  dModel: number;
  layers: number[];
  bos: BosCheck;
  scale: string;
  memory: string;
  [k: string]: unknown;
}

export interface EntropyRecord {
  key: string;
  kind: 'baseline' | 'condition';
  seed?: number;
  seedIndex?: number;
  mode?: string;
  delta?: number;
  publishedDelta?: number;
  /** per sentence: mean over layers of the mean row entropy (heads × query positions) */
  perSentence: number[];
  /** per layer: mean over sentences */
  perLayer: number[];
  entropy: number;
  seconds: number;
  [k: string]: unknown;
}

export interface RepairRecord {
  key: string;
  kind: 'baseline' | 'condition';
  seed?: number;
  seedIndex?: number;
  mode?: string;
  repaired?: boolean;
  delta?: number;
  publishedDelta?: number;
  losses: number[];
  loss: number;
  seconds: number;
  [k: string]: unknown;
}

export interface CrossModelResult {
  entry: CrossModelEntry;
  info: ModelInfo;
  memory: MemoryPlan | null;
  loss: SweepRecord[];
  lossSummary: E1Summary;
  entropy?: EntropyRecord[];
  repair?: RepairRecord[];
}

/** The cell's layers on this model: published ones when the depth matches, else scaled (tiny checkpoints). */
export function layersFor(entry: CrossModelEntry, study: Study): number[] {
  return scaledLayers(entry, study.model.cfg.nLayers);
}

/** Items of a sentence set, tokenised with the model's tokenizer (BOS from the tokenizer), truncated to 64. */
export async function sentenceItems(study: Study, set: SentenceSet, n: number, wikitextFile?: string): Promise<{ items: Item[]; source: string }> {
  if (set.source === 'wikitext') return wikitextItems(study, n, wikitextFile);
  const items = e12Sentences()
    .slice(0, n)
    .map((s, id) => ({ id, ids: study.tokenizer.encode(s, { maxLength: PUBLISHED.maxLength }) }));
  return { items, source: 'E12 hand-written sentences ×8 (lib/src/data/sentences.ts)' };
}

async function scaleFor(study: Study, items: Item[], layers: number[], deltas: number[], quick: boolean): Promise<Scale> {
  if (!quick) return PUBLISHED_SCALE;
  const norms = await cleanNorms(study, items, layers);
  return quickScale(norms.min, Math.max(...deltas));
}

/** The loss-sweep settings of a cell (published, or quick on small checkpoints). */
export async function crossModelSweepSettings(study: Study, entry: CrossModelEntry, o: { quick?: boolean; modes?: Mode[]; wikitextFile?: string; store?: string } = {}): Promise<SweepSettings> {
  const quick = o.quick ?? study.quick;
  const layers = layersFor(entry, study);
  const n = quick ? Math.min(entry.loss.sentences.n, CROSSMODEL_QUICK.lossSentences) : entry.loss.sentences.n;
  const { items } = await sentenceItems(study, entry.loss.sentences, n, o.wikitextFile);
  const scale = await scaleFor(study, items, layers, entry.loss.deltas, quick);
  return {
    experiment: o.store ?? entry.loss.store,
    layers,
    deltas: entry.loss.deltas.map((d) => d * scale.deltaScale),
    publishedDeltas: [...entry.loss.deltas],
    seeds: quick ? CROSSMODEL_QUICK.seeds : entry.loss.seeds,
    seedOffset: entry.loss.seedOffset,
    modes: o.modes ?? E1_MODES,
    sentences: n,
    legacyIters: entry.legacyIters,
    scale,
    wikitextFile: o.wikitextFile,
  };
}

/**
 * runSweep over given items (the hand-written sets): same condition keys, streams, seeds and
 * record fields as runSweep. Exact-angle conditions that no rotation can reach are stored as
 * kind 'skipped' with the reason instead of failing the sweep.
 */
export async function runItemSweep(study: Study, s: SweepSettings, items: Item[], source: string): Promise<SweepRecord[]> {
  if (!items.length) throw new Error('the sentence set is empty');
  const norms = await cleanNorms(study, items, s.layers);
  const env = study.environment();
  const common = { experiment: s.experiment, layers: s.layers, sentences: items.length, dataSource: source, scale: s.scale.note, legacyIters: s.legacyIters, env };
  const conds: Condition<SweepRecord>[] = [
    {
      key: 'baseline',
      run: async () => {
        const res = await study.model.run({ outputs: ['logprobs'] }, items);
        const losses = res.items.map((it) => sentenceLoss(it.logprobs!));
        return { key: 'baseline', kind: 'baseline', losses, loss: meanOf(losses), seconds: res.seconds };
      },
    },
  ];
  for (let si = 0; si < s.seeds; si++)
    s.deltas.forEach((delta, di) => {
      const pd = s.publishedDeltas[di];
      for (const mode of s.modes) {
        const key = conditionKey(si, pd, mode);
        conds.push({
          key,
          run: async () => {
            const seed = SEED + s.seedOffset + si;
            const base = { key, seed, seedIndex: si, delta, publishedDelta: pd, op: mode.op, noise: mode.noise, mode: modeName(mode) };
            if (mode.op === 'angle_exact' && delta > 2 * norms.min)
              return { ...base, kind: 'skipped', reason: `δ=${delta.toPrecision(4)} > 2·min‖h‖=${(2 * norms.min).toPrecision(4)} (clean)`, losses: [], loss: NaN, seconds: 0 } as unknown as SweepRecord;
            try {
              const res = await study.model.run(perturbPlan(mode, s.layers, {}, 'length', s.legacyIters), items, { seed, stream: conditionStream(s.experiment, pd, mode), delta });
              const p = summarizePass(res);
              return { ...base, kind: 'condition', losses: p.losses, loss: meanOf(p.losses), disp: p.disp, norm: p.norm, minNorm: p.minNorm, seconds: res.seconds };
            } catch (e) {
              if (mode.op === 'angle_exact' && e instanceof RunError && /exact angle/.test(e.message))
                return { ...base, kind: 'skipped', reason: e.message, losses: [], loss: NaN, seconds: 0 } as unknown as SweepRecord;
              throw e;
            }
          },
        });
      }
    });
  return runConditions(study, s.experiment, conds, common);
}

/** The loss sweep of a cell: runSweep for WikiText, runItemSweep for the hand-written set. */
export async function runCrossModelLoss(study: Study, entry: CrossModelEntry, s: SweepSettings): Promise<SweepRecord[]> {
  if (entry.loss.sentences.source === 'wikitext' && !s.modes.some((m) => m.op === 'angle_exact')) return runSweep(study, s);
  const { items, source } = await sentenceItems(study, entry.loss.sentences, s.sentences, s.wikitextFile);
  return runItemSweep(study, s, items, source);
}

// ---------------------------------------------------------------------------------------------
// attention entropy (E8 test 2; E3's definition)

/** Mean row entropy −Σ(p+1e-10)ln(p+1e-10) over heads and query positions of one [H, L, L] pattern (causal zeros included). */
export function patternEntropy(data: Float32Array, H: number, L: number): number {
  let s = 0;
  for (let r = 0; r < H * L; r++) {
    let h = 0;
    for (let k = 0; k < L; k++) {
      const p = data[r * L + k] + 1e-10;
      h -= p * Math.log(p);
    }
    s += h;
  }
  return s / (H * L);
}

export async function runCrossModelEntropy(study: Study, entry: CrossModelEntry, o: { quick: boolean; scale: Scale; wikitextFile?: string }): Promise<EntropyRecord[]> {
  const spec = entry.entropy!;
  const layers = layersFor(entry, study);
  const n = o.quick ? Math.min(spec.sentences.n, CROSSMODEL_QUICK.sectionSentences) : spec.sentences.n;
  const seeds = o.quick ? CROSSMODEL_QUICK.seeds : spec.seeds;
  const { items, source } = await sentenceItems(study, spec.sentences, n, o.wikitextFile);
  const nL = study.model.cfg.nLayers;
  const hooks = Object.fromEntries(Array.from({ length: nL }, (_, l) => [`blocks.${l}.attn.hook_pattern`, { kind: 'capture' as const }]));
  const delta = spec.delta * o.scale.deltaScale;
  const measure = (res: Awaited<ReturnType<typeof study.model.run>>) => {
    const perLayerSum = new Array(nL).fill(0);
    const perSentence = res.items.map((it) => {
      let s = 0;
      for (let l = 0; l < nL; l++) {
        const t = it.captures[`blocks.${l}.attn.hook_pattern`];
        const e = patternEntropy(t.data, t.dims[0], t.dims[1]);
        perLayerSum[l] += e;
        s += e;
      }
      return s / nL;
    });
    return { perSentence, perLayer: perLayerSum.map((x) => x / res.items.length), entropy: meanOf(perSentence) };
  };
  const conds: Condition<EntropyRecord>[] = [
    {
      key: 'baseline',
      run: async () => {
        const res = await study.model.run({ outputs: [], hooks }, items);
        return { key: 'baseline', kind: 'baseline', ...measure(res), seconds: res.seconds };
      },
    },
  ];
  for (let si = 0; si < seeds; si++)
    for (const mode of E1_MODES) {
      const key = `s${si}|d${spec.delta}|${modeName(mode)}`;
      conds.push({
        key,
        run: async () => {
          const seed = SEED + spec.seedOffset + si;
          const plan: Plan = perturbPlan(mode, layers, { outputs: [], hooks }, 'length', entry.legacyIters);
          const res = await study.model.run(plan, items, { seed, stream: conditionStream(spec.store, spec.delta, mode), delta });
          return { key, kind: 'condition', seed, seedIndex: si, mode: modeName(mode), delta, publishedDelta: spec.delta, ...measure(res), seconds: res.seconds };
        },
      });
    }
  return runConditions(study, spec.store, conds, { experiment: spec.store, layers, sentences: items.length, dataSource: source, scale: o.scale.note, legacyIters: entry.legacyIters, env: study.environment() });
}

export interface EntropySummary {
  base: number;
  deltaAngle: { perSeed: number[]; mean: number; std: number };
  deltaMagnitude: { perSeed: number[]; mean: number; std: number };
  ratio: number;
  t: number;
  /** one-sided p, H1: ΔH angle > ΔH magnitude */
  pOneSided: number;
  perLayer: { layer: number; angle: number; magnitude: number }[];
}

export function summarizeEntropy(records: EntropyRecord[], angleMode = 'angle_legacy/legacy'): EntropySummary {
  const base = records.find((r) => r.kind === 'baseline');
  if (!base) throw new Error('entropy: no baseline record');
  const pick = (m: string) => records.filter((r) => r.kind === 'condition' && r.mode === m).sort((a, b) => a.seedIndex! - b.seedIndex!);
  const a = pick(angleMode), m = pick('magnitude');
  const da = a.map((r) => r.entropy - base.entropy), dm = m.map((r) => r.entropy - base.entropy);
  const sd = (xs: number[]) => Math.sqrt(mean(xs.map((x) => (x - mean(xs)) ** 2)));
  const t = da.length > 1 ? ttestPaired(da, dm) : null;
  return {
    base: base.entropy,
    deltaAngle: { perSeed: da, mean: mean(da), std: sd(da) },
    deltaMagnitude: { perSeed: dm, mean: mean(dm), std: sd(dm) },
    ratio: mean(da) / (mean(dm) + 1e-8),
    t: t?.t ?? NaN,
    pOneSided: t?.pGreater ?? NaN,
    perLayer: base.perLayer.map((b, l) => ({ layer: l, angle: mean(a.map((r) => r.perLayer[l])) - b, magnitude: mean(m.map((r) => r.perLayer[l])) - b })),
  };
}

// ---------------------------------------------------------------------------------------------
// attention repair (E10 test 2; E4's procedure)

export async function runCrossModelRepair(study: Study, entry: CrossModelEntry, o: { quick: boolean; scale: Scale; wikitextFile?: string }): Promise<RepairRecord[]> {
  const spec = entry.repair!;
  const layers = layersFor(entry, study);
  const n = o.quick ? Math.min(spec.sentences.n, CROSSMODEL_QUICK.sectionSentences) : spec.sentences.n;
  const seeds = o.quick ? CROSSMODEL_QUICK.seeds : spec.seeds;
  const { items, source } = await sentenceItems(study, spec.sentences, n, o.wikitextFile);
  const delta = spec.delta * o.scale.deltaScale;
  const names = layers.map((l) => `blocks.${l}.hook_attn_out`);
  // the clean pass: baseline losses and the attention outputs to patch in (recomputed on resume: deterministic)
  let clean: { losses: number[]; patches: Record<string, import('../../engine/types').Tensor[]>; seconds: number } | null = null;
  const cleanPass = async () => {
    if (clean) return clean;
    const res = await study.model.run({ outputs: ['logprobs'], hooks: Object.fromEntries(names.map((h) => [h, { kind: 'capture' as const }])) }, items);
    clean = { losses: res.items.map((it) => sentenceLoss(it.logprobs!)), patches: Object.fromEntries(names.map((h) => [h, res.items.map((it) => it.captures[h])])), seconds: res.seconds };
    return clean;
  };
  const conds: Condition<RepairRecord>[] = [
    { key: 'baseline', run: async () => { const c = await cleanPass(); return { key: 'baseline', kind: 'baseline', losses: c.losses, loss: meanOf(c.losses), seconds: c.seconds }; } },
  ];
  for (let si = 0; si < seeds; si++)
    for (const mode of E1_MODES)
      for (const repaired of [false, true]) {
        const key = `s${si}|d${spec.delta}|${modeName(mode)}|${repaired ? 'repaired' : 'unrepaired'}`;
        conds.push({
          key,
          run: async () => {
            const seed = SEED + spec.seedOffset + si;
            const patchHooks = repaired ? Object.fromEntries(names.map((h) => [h, { kind: 'patch' as const }])) : {};
            // noise fresh per sentence (E4: cache cleared per sentence) and identical for U and R; magnitude signs redrawn (pass)
            const plan = perturbPlan(mode, layers, { hooks: patchHooks }, 'item', entry.legacyIters);
            const res = await study.model.run(plan, items, { seed, stream: conditionStream(spec.store, spec.delta, mode), delta, pass: repaired ? 1 : 0, patches: repaired ? (await cleanPass()).patches : undefined });
            const losses = res.items.map((it) => sentenceLoss(it.logprobs!));
            return { key, kind: 'condition', seed, seedIndex: si, mode: modeName(mode), repaired, delta, publishedDelta: spec.delta, losses, loss: meanOf(losses), seconds: res.seconds };
          },
        });
      }
  return runConditions(study, spec.store, conds, { experiment: spec.store, layers, patched: names, sentences: items.length, dataSource: source, scale: o.scale.note, legacyIters: entry.legacyIters, env: study.environment() });
}

export interface RepairSummary {
  baseline: number;
  angular: { unrepaired: number[]; repaired: number[]; recovery: number[]; mean: number; std: number };
  magnitude: { unrepaired: number[]; repaired: number[]; recovery: number[]; mean: number; std: number };
  t: number;
  /** one-sided p, H1: angular recovery > magnitude recovery */
  pOneSided: number;
}

/** R-pooled-baseline recovery per seed (EXPERIMENTS.md §1.5.5), angle vs magnitude paired over seeds. */
export function summarizeRepair(records: RepairRecord[], angleMode = 'angle_legacy/legacy'): RepairSummary {
  const base = records.find((r) => r.kind === 'baseline');
  if (!base) throw new Error('repair: no baseline record');
  const side = (mode: string) => {
    const get = (rep: boolean) => records.filter((r) => r.kind === 'condition' && r.mode === mode && r.repaired === rep).sort((a, b) => a.seedIndex! - b.seedIndex!).map((r) => r.loss);
    const U = get(false), R = get(true);
    const rec = recoveryPooledBaseline({ baseline: U.map(() => base.loss), unrepaired: U, repaired: R });
    return { unrepaired: U, repaired: R, recovery: rec.perSeed, mean: rec.mean, std: rec.std };
  };
  const angular = side(angleMode), magnitude = side('magnitude');
  const t = angular.recovery.length > 1 ? ttestPaired(angular.recovery, magnitude.recovery) : null;
  return { baseline: base.loss, angular, magnitude, t: t?.t ?? NaN, pOneSided: t?.pGreater ?? NaN };
}

// ---------------------------------------------------------------------------------------------

/** Memory check for a cell on this study's model and provider (4 plan sessions wanted). */
export function crossModelMemory(study: Study, entry: CrossModelEntry, o: CrossModelRunOptions['memory'] = {}): MemoryPlan {
  return planMemory(archFactsOf(study.model.cfg), {
    provider: study.model.provider,
    checkpointDtype: study.model.cfg.dtype,
    sessions: 4,
    available: o.available,
    gpuMemoryGiB: o.gpuMemoryGiB,
    label: `${entry.label} (${study.name})`,
  });
}

/**
 * Runs one cross-model cell (E8, E10, E12, E13, Zephyr — by runner name or registry key) on
 * `study`: memory check, BOS check, loss sweep and the cell's extra section. Resumable: finished
 * conditions are read back from results/<model>/<store>.jsonl.
 */
export async function runCrossModel(name: string, study: Study, opts: CrossModelRunOptions = {}): Promise<CrossModelResult> {
  const entry = registryEntry(name);
  if (!entry.runner) throw new Error(`${entry.label}'s loss sweep is E1: run it with \`dirmag sweep\` (notebook 04); the cross-model summary reads its results`);
  const quick = opts.quick ?? study.quick;
  const sections = opts.sections ?? ['loss', 'entropy', 'repair'];
  let memory: MemoryPlan | null = null;
  let undo = () => {};
  if (!opts.memory?.skip) {
    memory = requireMemory(crossModelMemory(study, entry, opts.memory));
    if (memory.maxSessions < 4) undo = limitSessions(study.model, memory.maxSessions);
  }
  try {
    const bos = checkBos(entry, study.tokenizer);
    if (!bos.ok && process.env.DIRMAG_PROGRESS !== '0') process.stderr.write(`note: ${bos.message}\n`);
    const settings = await crossModelSweepSettings(study, entry, { quick, wikitextFile: opts.wikitextFile });
    const cfg = study.model.cfg;
    const info: ModelInfo = {
      key: entry.key, entry: entry.key, hfId: entry.hfId, modelType: cfg.modelType, norm: cfg.norm, parallelResidual: cfg.parallelResidual,
      checkpointDtype: cfg.dtype, originalDtype: entry.originalDtype, computeDtype: 'float32', nLayers: cfg.nLayers, dModel: cfg.dModel,
      layers: settings.layers, bos, scale: settings.scale.note, memory: memory?.message ?? 'not checked',
    };
    const infoStore = study.store('crossmodel-info');
    if (!infoStore.has(entry.key)) infoStore.append(info);
    const loss = sections.includes('loss') ? await runCrossModelLoss(study, entry, settings) : [];
    const result: CrossModelResult = { entry, info, memory, loss, lossSummary: loss.length ? summarizeE1(loss) : (null as unknown as E1Summary) };
    if (entry.entropy && sections.includes('entropy')) result.entropy = await runCrossModelEntropy(study, entry, { quick, scale: settings.scale, wikitextFile: opts.wikitextFile });
    if (entry.repair && sections.includes('repair')) result.repair = await runCrossModelRepair(study, entry, { quick, scale: settings.scale, wikitextFile: opts.wikitextFile });
    return result;
  } finally {
    undo();
  }
}

