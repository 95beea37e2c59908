/**
 * E1 (original Cells 4–6): loss damage of magnitude vs angle perturbations over δ and seeds.
 * Every finished condition is one JSONL record with per-sentence losses, so a rerun resumes and
 * sentence-level statistics stay possible.
 */
import { UnreachableDelta } from '../engine/errors';
import { plan } from '../engine/plan';
import type { Item } from '../engine/types';
import { Study } from './study';
import {
  GridSettings,
  Mode,
  PUBLISHED,
  PUBLISHED_SCALE,
  QUICK,
  checkGridOptions,
  middleLayers,
  modeName,
  quickScale,
  seedFor,
} from './settings';
import {
  Condition,
  ConditionRecordBase,
  cleanNorms,
  conditionStream,
  meanOf,
  perturbedPlan,
  preflight,
  runConditions,
  sentenceLoss,
  summarizePass,
  wikitextItems,
} from './runs';

export interface SweepSettings extends GridSettings {
  sentences: number;
  legacyIters: number;
  wikitextFile?: string;
}

export const E1_MODES: Mode[] = [
  { op: 'magnitude', noise: 'legacy' },
  { op: 'angle_legacy', noise: 'legacy' },
];

export interface SweepRecord extends ConditionRecordBase {
  delta?: number;
  publishedDelta?: number;
  op?: string;
  noise?: string;
  mode?: string;
  losses: number[];
  loss: number;
  disp?: number[];
  norm?: number[];
  minNorm?: number[];
  seconds: number;
  [k: string]: unknown;
}

/** The published E1 settings, or their quick scaling measured on this model. */
export async function sweepSettings(
  study: Study,
  opts: {
    quick?: boolean;
    modes?: Mode[];
    deltas?: number[];
    seeds?: number;
    sentences?: number;
    layers?: number[];
    wikitextFile?: string;
    experiment?: string;
  } = {},
): Promise<SweepSettings> {
  checkGridOptions(opts);
  const layers = opts.layers ?? middleLayers(study.model.cfg.nLayers);
  const published = opts.deltas ?? PUBLISHED.e1.deltas;
  const quick = opts.quick ?? study.quick;
  let scale = PUBLISHED_SCALE;
  if (quick)
    scale = await study.once(`quick-scale|${layers}|${opts.wikitextFile ?? ''}`, async () => {
      const { items } = await wikitextItems(study, QUICK.sentences, opts.wikitextFile);
      return quickScale((await cleanNorms(study, items, layers)).min, Math.max(...PUBLISHED.e1.deltas));
    });
  return {
    experiment: opts.experiment ?? 'E1',
    layers,
    deltas: published.map((d) => d * scale.deltaScale),
    publishedDeltas: published,
    seeds: opts.seeds ?? study.cap('seeds', quick ? QUICK.seeds : PUBLISHED.e1.seeds),
    seedOffset: PUBLISHED.e1.seedOffset,
    modes: opts.modes ?? E1_MODES,
    sentences: opts.sentences ?? study.cap('sentences', quick ? QUICK.sentences : PUBLISHED.wikitextCap),
    legacyIters: PUBLISHED.legacyIters,
    scale,
    wikitextFile: opts.wikitextFile,
  };
}

export function conditionKey(seedIndex: number, publishedDelta: number, mode: Mode): string {
  return `s${seedIndex}|d${publishedDelta}|${modeName(mode)}`;
}

export interface SweepOptions {
  /** the sentences (default: the first s.sentences filtered WikiText lines) */
  input?: { items: Item[]; source: string };
  /** exact-angle δ out of reach: an error before any work (default), or a 'skipped' record with the reason */
  unreachable?: 'refuse' | 'skip';
}

/** Runs every condition not yet in the results file (this shard's share) and returns all records. */
export async function runSweep(study: Study, s: SweepSettings, o: SweepOptions = {}): Promise<SweepRecord[]> {
  const { items, source } = o.input ?? (await wikitextItems(study, s.sentences, s.wikitextFile));
  if (!items.length) throw new Error('the sentence set is empty after filtering');
  const { minNorm } = await preflight(study, items, s.layers, s.modes, s.deltas, o.unreachable);
  const env = study.environment();
  const common = {
    experiment: s.experiment,
    layers: s.layers,
    sentences: items.length,
    dataSource: source,
    scale: s.scale.note,
    legacyIters: s.legacyIters,
    env,
  };

  const skip = o.unreachable === 'skip' ? minNorm : null;
  const conds: Condition<SweepRecord>[] = [{ key: 'baseline', run: () => baselineRecord(study, items) }];
  for (let si = 0; si < s.seeds; si++)
    s.deltas.forEach((delta, di) => {
      for (const mode of s.modes) {
        const pd = s.publishedDeltas[di];
        conds.push({
          key: conditionKey(si, pd, mode),
          run: () => conditionRecord(study, s, items, si, delta, pd, mode, skip),
        });
      }
    });
  return runConditions(study, s.experiment, conds, common);
}

async function baselineRecord(study: Study, items: Item[]): Promise<SweepRecord> {
  const res = await study.model.runWithHooks(items, plan('logprobs'));
  const losses = res.items.map((it) => sentenceLoss(it.logprobs!));
  return { key: 'baseline', kind: 'baseline', losses, loss: meanOf(losses), seconds: res.seconds };
}

/** `skipBelow`: with the 'skip' policy, the clean min‖h‖ (exact-angle conditions out of reach become 'skipped'). */
async function conditionRecord(
  study: Study,
  s: SweepSettings,
  items: Item[],
  seedIndex: number,
  delta: number,
  publishedDelta: number,
  mode: Mode,
  skipBelow: number | null,
): Promise<SweepRecord> {
  const seed = seedFor(s.seedOffset, seedIndex);
  const head = {
    key: conditionKey(seedIndex, publishedDelta, mode),
    seed,
    seedIndex,
    delta,
    publishedDelta,
    op: mode.op,
    noise: mode.noise,
    mode: modeName(mode),
  };
  // a skipped record has no loss (JSON cannot hold NaN); summaries read kind 'condition' only
  const skipped = (reason: string) =>
    ({ ...head, kind: 'skipped', reason, losses: [], seconds: 0 }) as unknown as SweepRecord;
  const exact = skipBelow !== null && mode.op === 'angle_exact';
  if (exact && delta > 2 * skipBelow!)
    return skipped(`δ=${delta.toPrecision(4)} > 2·min‖h‖=${(2 * skipBelow!).toPrecision(4)} (clean)`);
  const p = perturbedPlan({ mode, layers: s.layers, delta, legacyIters: s.legacyIters });
  let res;
  try {
    res = await study.model.runWithHooks(items, p, {
      seed,
      stream: conditionStream(s.experiment, publishedDelta, mode),
    });
  } catch (e) {
    // perturbations compound: a later layer's norm can still be out of reach
    if (exact && e instanceof UnreachableDelta) return skipped(e.message);
    throw e;
  }
  const sum = summarizePass(res);
  return {
    ...head,
    kind: 'condition',
    losses: sum.losses,
    loss: meanOf(sum.losses),
    disp: sum.disp,
    norm: sum.norm,
    minNorm: sum.minNorm,
    seconds: res.seconds,
  };
}
