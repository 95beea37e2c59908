/**
 * Runners of the cross-model cells: loss sweeps (runSweep over the cell's sentence set: WikiText or the
 * hand-written E12 set, same record format), E8's attention entropy, E9's attention / MLP pathway
 * repairs on Pythia-1.4B and E10's attention repair (E3's, E9's and E4's procedures of
 * lib/src/experiments/mechanism, run under the cells' own stores and seeds), and the memory check in
 * front of them. `runCrossModel(name, study, {quick})` runs one cell alone (also the entry point of
 * `dirmag reproduce`).
 */
import { Item } from '../../engine/types';
import { e12Sentences } from '../../data';
import { mean, recoveryPooledBaseline, ttestPaired } from '../../stats';
import { Study } from '../study';
import { Mode, PUBLISHED, PUBLISHED_SCALE, Scale, quickScale } from '../settings';
import { cleanNorms, wikitextItems } from '../runs';
import { E1_MODES, SweepRecord, SweepSettings, runSweep } from '../e1-sweep';
import { E1Summary, summarizeE1 } from '../e1-stats';
import {
  E3Record,
  MechanismSettings,
  MeanStd,
  RepairRecord,
  pairedSeeds,
  runE3,
  runE4,
  runE9,
  summarizeE3,
} from '../mechanism';
import { BosCheck, CrossModelEntry, SentenceSet, archFactsOf, checkBos, registryEntry, scaledLayers } from './registry';
import { Available, MemoryPlan, planMemory, requireMemory } from './memory';

/** What a cell can run: its loss sweep and the sections its registry entry has. */
export type CrossModelSection = 'loss' | 'entropy' | 'repair' | 'pathways';

/** Quick mode sizes (tiny CI checkpoints): sentences per section and seeds. */
export const CROSSMODEL_QUICK = { lossSentences: 12, sectionSentences: 8, seeds: 2 };

export interface CrossModelRunOptions {
  quick?: boolean;
  /** sections to run (default: all the cell has) */
  sections?: CrossModelSection[];
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

export interface CrossModelResult {
  entry: CrossModelEntry;
  info: ModelInfo;
  memory: MemoryPlan | null;
  loss: SweepRecord[];
  lossSummary: E1Summary;
  entropy?: E3Record[];
  repair?: RepairRecord[];
  /** E9's records (attn / mlp / both repaired), where the cell has a pathways section */
  pathways?: RepairRecord[];
}

/** The cell's layers on this model: published ones when the depth matches, else scaled (tiny checkpoints). */
export function layersFor(entry: CrossModelEntry, study: Study): number[] {
  return scaledLayers(entry, study.model.cfg.nLayers);
}

/** Items of a sentence set, tokenised with the model's tokenizer (BOS from the tokenizer), truncated to 64. */
export async function sentenceItems(
  study: Study,
  set: SentenceSet,
  n: number,
  wikitextFile?: string,
): Promise<{ items: Item[]; source: string }> {
  if (set.source === 'wikitext') return wikitextItems(study, n, wikitextFile);
  const items = e12Sentences()
    .slice(0, n)
    .map((s, id) => ({ id, ids: study.tokenizer.encode(s, { maxLength: PUBLISHED.maxLength }) }));
  return { items, source: 'E12 hand-written sentences ×8 (lib/src/data/sentences.ts)' };
}

async function scaleFor(
  study: Study,
  items: Item[],
  layers: number[],
  deltas: number[],
  quick: boolean,
): Promise<Scale> {
  if (!quick) return PUBLISHED_SCALE;
  const norms = await cleanNorms(study, items, layers);
  return quickScale(norms.min, Math.max(...deltas));
}

/** The loss-sweep settings of a cell (published, or quick on small checkpoints). */
export async function crossModelSweepSettings(
  study: Study,
  entry: CrossModelEntry,
  o: { quick?: boolean; modes?: Mode[]; wikitextFile?: string; store?: string } = {},
): Promise<SweepSettings> {
  const quick = o.quick ?? study.quick;
  const layers = layersFor(entry, study);
  const n = study.cap(
    'sentences',
    quick ? Math.min(entry.loss.sentences.n, CROSSMODEL_QUICK.lossSentences) : entry.loss.sentences.n,
  );
  const { items } = await sentenceItems(study, entry.loss.sentences, n, o.wikitextFile);
  const scale = await scaleFor(study, items, layers, entry.loss.deltas, quick);
  return {
    experiment: o.store ?? entry.loss.store,
    layers,
    deltas: entry.loss.deltas.map((d) => d * scale.deltaScale),
    publishedDeltas: [...entry.loss.deltas],
    seeds: study.cap('seeds', quick ? CROSSMODEL_QUICK.seeds : entry.loss.seeds),
    seedOffset: entry.loss.seedOffset,
    modes: o.modes ?? E1_MODES,
    sentences: n,
    legacyIters: entry.legacyIters,
    scale,
    wikitextFile: o.wikitextFile,
  };
}

/**
 * The loss sweep of a cell over its sentence set (WikiText or the hand-written one). Exact-angle
 * conditions that no rotation can reach are stored as 'skipped' with the reason (the reversal
 * investigation runs them at every published δ) instead of failing the sweep.
 */
export async function runCrossModelLoss(
  study: Study,
  entry: CrossModelEntry,
  s: SweepSettings,
): Promise<SweepRecord[]> {
  const input = await sentenceItems(study, entry.loss.sentences, s.sentences, s.wikitextFile);
  return runSweep(study, s, { input, unreachable: 'skip' });
}

// ---------------------------------------------------------------------------------------------
// attention entropy (E8 test 2 = E3's procedure), pathway repairs (E9 = idx 17) and attention
// repair (E10 test 2 = E4's)

/**
 * The mechanism settings of a cell's entropy, pathways or repair section: E3's / E9's / E4's
 * procedure under the section's own store ('E8-entropy', 'E9', 'E10-repair'), seed offset,
 * sentences, seeds and δ, with the cell's layers, bisection iterations and the scale of its loss
 * sweep. Quick mode caps sentences and seeds at CROSSMODEL_QUICK.
 */
export function crossModelSectionSettings(
  study: Study,
  entry: CrossModelEntry,
  section: 'entropy' | 'repair' | 'pathways',
  o: { quick: boolean; scale: Scale; wikitextFile?: string },
): MechanismSettings {
  const spec = entry[section];
  if (!spec) throw new Error(`${entry.label} has no ${section} section`);
  if (spec.sentences.source !== 'wikitext')
    throw new Error(`${spec.store}: E3/E4's procedure reads WikiText sentences, not '${spec.sentences.source}'`);
  return {
    experiment: spec.store,
    layers: layersFor(entry, study),
    delta: spec.delta * o.scale.deltaScale,
    publishedDelta: spec.delta,
    sentences: study.cap(
      'sentences',
      o.quick ? Math.min(spec.sentences.n, CROSSMODEL_QUICK.sectionSentences) : spec.sentences.n,
    ),
    seeds: study.cap('seeds', o.quick ? CROSSMODEL_QUICK.seeds : spec.seeds),
    seedOffset: spec.seedOffset,
    legacyIters: entry.legacyIters,
    scale: o.scale,
    wikitextFile: o.wikitextFile,
  };
}

/** E8 test 2: E3's attention entropy (mean row entropy over all layers) under the cell's settings. */
export function runCrossModelEntropy(
  study: Study,
  entry: CrossModelEntry,
  o: { quick: boolean; scale: Scale; wikitextFile?: string },
): Promise<E3Record[]> {
  return runE3(study, crossModelSectionSettings(study, entry, 'entropy', o));
}

/** E10 test 2: E4's per-sentence attention repair (clean hook_attn_out patched at the perturbed layers) under the cell's settings. */
export function runCrossModelRepair(
  study: Study,
  entry: CrossModelEntry,
  o: { quick: boolean; scale: Scale; wikitextFile?: string },
): Promise<RepairRecord[]> {
  return runE4(study, crossModelSectionSettings(study, entry, 'repair', o));
}

/** E9 (idx 17): clean attention, MLP or both outputs patched at the perturbed layers, under the cell's settings. */
export function runCrossModelPathways(
  study: Study,
  entry: CrossModelEntry,
  o: { quick: boolean; scale: Scale; wikitextFile?: string },
): Promise<RepairRecord[]> {
  return runE9(study, crossModelSectionSettings(study, entry, 'pathways', o));
}

/** Seeds with both an angle and a magnitude record (the summaries need two for a t-test). */
export function pairedSeedCount(records: { kind: string; mode?: string; seedIndex?: number }[]): number {
  const seeds = (m: string) =>
    new Set(records.filter((r) => r.kind === 'condition' && r.mode === m).map((r) => r.seedIndex));
  const a = seeds('angle'),
    m = seeds('magnitude');
  return [...a].filter((i) => m.has(i)).length;
}

export interface EntropySummary {
  base: number;
  deltaAngle: MeanStd;
  deltaMagnitude: MeanStd;
  ratio: number;
  t: number;
  /** one-sided p, H1: ΔH angle > ΔH magnitude */
  pOneSided: number;
  perLayer: { layer: number; perturbed: boolean; angle: number; magnitude: number }[];
}

/** The cross-model view of summarizeE3 (needs ≥ 2 paired seeds). */
export function summarizeEntropy(records: E3Record[]): EntropySummary {
  const e = summarizeE3(records);
  return {
    base: e.baseline,
    deltaAngle: e.dAngle,
    deltaMagnitude: e.dMagnitude,
    ratio: e.ratio,
    t: e.test.t,
    pOneSided: e.test.pGreater,
    perLayer: e.layers.map((l) => ({
      layer: l.layer,
      perturbed: l.perturbed,
      angle: l.dAngle,
      magnitude: l.dMagnitude,
    })),
  };
}

export interface RepairSide {
  /** mean loss per seed */
  unrepaired: number[];
  repaired: number[];
  /** R-pooled-baseline recovery % per seed */
  recovery: number[];
  mean: number;
  std: number;
}

export interface RepairSummary {
  baseline: number;
  angular: RepairSide;
  magnitude: RepairSide;
  t: number;
  /** one-sided p, H1: angular recovery > magnitude recovery */
  pOneSided: number;
}

/** E10's statistics of E4 records: R-pooled-baseline recovery per seed (EXPERIMENTS.md §1.5.5), angle vs magnitude paired over seeds. */
export function summarizeRepair(records: RepairRecord[]): RepairSummary {
  const base = records.find((r) => r.kind === 'baseline');
  if (!base) throw new Error('repair: no baseline record');
  const B = mean(base.losses!);
  const [A, M] = pairedSeeds(records, 'angle', 'magnitude');
  const side = (rs: RepairRecord[]): RepairSide => {
    const U = rs.map((r) => mean(r.unrepaired!)),
      R = rs.map((r) => mean(r.repaired!.attn));
    const rec = recoveryPooledBaseline({ baseline: U.map(() => B), unrepaired: U, repaired: R });
    return { unrepaired: U, repaired: R, recovery: rec.perSeed, mean: rec.mean, std: rec.std };
  };
  const angular = side(A),
    magnitude = side(M);
  const t = angular.recovery.length > 1 ? ttestPaired(angular.recovery, magnitude.recovery) : null;
  return { baseline: B, angular, magnitude, t: t?.t ?? NaN, pOneSided: t?.pGreater ?? NaN };
}

// ---------------------------------------------------------------------------------------------

/** Memory check for a cell on this study's model and provider (4 plan sessions wanted). */
export function crossModelMemory(
  study: Study,
  entry: CrossModelEntry,
  o: CrossModelRunOptions['memory'] = {},
): MemoryPlan {
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
 * Runs one cross-model cell (E8 with E9, E10, E12, E13, Zephyr — by runner name, registry key or
 * the entry itself) on `study`: memory check, BOS check, loss sweep and the cell's sections.
 * Resumable: finished conditions are read back from results/<model>/<store>.jsonl.
 */
export async function runCrossModel(
  name: string | CrossModelEntry,
  study: Study,
  opts: CrossModelRunOptions = {},
): Promise<CrossModelResult> {
  const entry = typeof name === 'string' ? registryEntry(name) : name;
  if (!entry.runner)
    throw new Error(
      `${entry.label}'s loss sweep is E1: run it with \`dirmag sweep\` (notebook 04); the cross-model summary reads its results`,
    );
  const quick = opts.quick ?? study.quick;
  const sections = opts.sections ?? ['loss', 'entropy', 'pathways', 'repair'];
  let memory: MemoryPlan | null = null;
  let undo = () => {};
  if (!opts.memory?.skip) {
    memory = requireMemory(crossModelMemory(study, entry, opts.memory));
    if (memory.maxSessions < study.model.maxSessions) {
      const prev = study.model.maxSessions;
      study.model.maxSessions = memory.maxSessions;
      undo = () => (study.model.maxSessions = prev);
    }
  }
  try {
    const bos = checkBos(entry, study.tokenizer);
    if (!bos.ok && process.env.DIRMAG_PROGRESS !== '0') process.stderr.write(`note: ${bos.message}\n`);
    const settings = await crossModelSweepSettings(study, entry, { quick, wikitextFile: opts.wikitextFile });
    const cfg = study.model.cfg;
    const info: ModelInfo = {
      key: entry.key,
      entry: entry.key,
      hfId: entry.hfId,
      modelType: cfg.modelType,
      norm: cfg.norm,
      parallelResidual: cfg.parallelResidual,
      checkpointDtype: cfg.dtype,
      originalDtype: entry.originalDtype,
      computeDtype: 'float32',
      nLayers: cfg.nLayers,
      dModel: cfg.dModel,
      layers: settings.layers,
      bos,
      scale: settings.scale.note,
      memory: memory?.message ?? 'not checked',
    };
    const infoStore = study.store('crossmodel-info');
    if (!infoStore.has(entry.key)) infoStore.append(info);
    infoStore.close();
    const loss = sections.includes('loss') ? await runCrossModelLoss(study, entry, settings) : [];
    const result: CrossModelResult = {
      entry,
      info,
      memory,
      loss,
      lossSummary: loss.length ? summarizeE1(loss) : (null as unknown as E1Summary),
    };
    if (entry.entropy && sections.includes('entropy'))
      result.entropy = await runCrossModelEntropy(study, entry, {
        quick,
        scale: settings.scale,
        wikitextFile: opts.wikitextFile,
      });
    if (entry.pathways && sections.includes('pathways'))
      result.pathways = await runCrossModelPathways(study, entry, {
        quick,
        scale: settings.scale,
        wikitextFile: opts.wikitextFile,
      });
    if (entry.repair && sections.includes('repair'))
      result.repair = await runCrossModelRepair(study, entry, {
        quick,
        scale: settings.scale,
        wikitextFile: opts.wikitextFile,
      });
    return result;
  } finally {
    undo();
  }
}
