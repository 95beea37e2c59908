/** Building blocks shared by the experiments: datasets as items, losses, perturbed passes. */
import { hooks } from '../engine/hooks';
import { Plan, plan } from '../engine/plan';
import type { Item, RunResult } from '../engine/types';
import { blimpPool, loadWikitext } from '../data';
import { downloadDatasetFile, WIKITEXT } from '../hub';
import { streamId } from '../engine/rng';
import { Progress } from '../util/progress';
import { canonicalJson } from '../results';
import { Study } from './study';
import { settingsFingerprint } from './store-settings';
import { Mode, PUBLISHED, keyParts } from './settings';

/** Per-sentence loss: mean next-token cross-entropy over the T−1 positions (EXPERIMENTS.md §1.5.2). */
export function sentenceLoss(logprobs: Float32Array): number {
  let s = 0;
  for (const x of logprobs) s -= x;
  return s / logprobs.length;
}

export function meanOf(xs: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += xs[i];
  return s / xs.length;
}

/** The env var naming a local WikiText file (raw text or parquet) to use instead of the hub. */
export const WIKITEXT_ENV = 'DIRMAG_WIKITEXT';

/** Where the WikiText text comes from: an explicit file, else $DIRMAG_WIKITEXT, else the hub's parquet (cached). */
export async function wikitextSentences(file?: string): Promise<{ sentences: string[]; source: string }> {
  file ??= process.env[WIKITEXT_ENV] || undefined;
  if (file)
    return { sentences: await loadWikitext(file.endsWith('.parquet') ? { parquet: file } : { file }), source: file };
  const d = await downloadDatasetFile(WIKITEXT.repo, WIKITEXT.file);
  return {
    sentences: await loadWikitext({ parquet: d.path }),
    source: `${WIKITEXT.repo}@${d.commit}/${WIKITEXT.file}`,
  };
}

/** Tokenised WikiText items (ids = position in the filtered list), first `n`. */
export async function wikitextItems(
  study: Study,
  n: number,
  file?: string,
): Promise<{ items: Item[]; source: string }> {
  const { sentences, source } = await wikitextSentences(file);
  const items = sentences
    .slice(0, n)
    .map((s, id) => ({ id, ids: study.tokenizer.encode(s, { maxLength: PUBLISHED.maxLength }) }));
  return { items, source };
}

export interface BlimpPairs {
  /** items 2i (good) and 2i+1 (bad) of pair i */
  items: Item[];
  pairs: number;
  paradigms: string[];
}

export async function blimpItems(
  study: Study,
  paradigms: string[],
  total: number,
  opts: { perParadigm?: number; dir?: string } = {},
): Promise<BlimpPairs> {
  const pool = await blimpPool(paradigms, { mode: 'concat', perParadigm: opts.perParadigm, total, dir: opts.dir });
  const items: Item[] = [];
  pool.forEach((p, i) => {
    items.push({ id: 2 * i, ids: study.tokenizer.encode(p.good, { maxLength: PUBLISHED.maxLength }) });
    items.push({ id: 2 * i + 1, ids: study.tokenizer.encode(p.bad, { maxLength: PUBLISHED.maxLength }) });
  });
  return { items, pairs: pool.length, paradigms };
}

/** The study's perturbation: one operator at hook_resid_post of each target layer. */
export interface PerturbAt {
  mode: Mode;
  layers: number[];
  delta: number;
  /**
   * Under the legacy noise policy, what the original's shape-keyed noise cache spans: every
   * sentence of one token count (`length`, the cells that cleared the cache once per condition) or
   * one sentence (`item`, the cells that cleared it per sentence).
   */
  noiseScope?: 'length' | 'item';
  legacyIters?: number;
}

/** The perturbation at its layers, then the steps of `rest` (outputs: `rest`'s, log-probs by default). */
export function perturbedPlan(p: PerturbAt, rest: Plan = plan('logprobs')): Plan {
  return plan()
    .perturb(p.layers.map(hooks.residPost), {
      op: p.mode.op,
      delta: p.delta,
      legacyIters: p.legacyIters ?? PUBLISHED.legacyIters,
      ...keyParts(p.mode.noise, p.noiseScope ?? 'length'),
    })
    .merge(rest);
}

export interface PassSummary {
  losses: number[];
  /** per perturbed layer: mean over sentences of the mean achieved ‖h'−h‖ over real tokens */
  disp: number[];
  /** per perturbed layer: mean ‖h‖ before the perturbation */
  norm: number[];
  /** per perturbed layer: smallest ‖h‖ met */
  minNorm: number[];
}

export function summarizePass(res: RunResult): PassSummary {
  const losses = res.items.map((it) => sentenceLoss(it.logprobs!));
  const layers = res.items[0]?.perturbation?.length ?? 0;
  const disp: number[] = [],
    norm: number[] = [],
    minNorm: number[] = [];
  for (let l = 0; l < layers; l++) {
    disp.push(meanOf(res.items.map((it) => meanOf(it.perturbation![l].disp))));
    norm.push(meanOf(res.items.map((it) => meanOf(it.perturbation![l].norms))));
    minNorm.push(Math.min(...res.items.map((it) => Math.min(...it.perturbation![l].norms))));
  }
  return { losses, disp, norm, minNorm };
}

/** Clear error for layers the model does not have (before any work starts). */
export function checkLayers(study: Study, layers: number[]): void {
  const n = study.model.cfg.nLayers;
  if (!layers.length) throw new Error('no layers to perturb');
  for (const l of layers)
    if (!Number.isInteger(l) || l < 0 || l >= n)
      throw new Error(`layer ${l} does not exist: this model has layers 0..${n - 1}`);
}

/** Clean residual norms at the given layers (hook_resid_post), over all real tokens. */
export async function cleanNorms(
  study: Study,
  items: Item[],
  layers: number[],
): Promise<{ min: number; median: number; perLayerMin: number[] }> {
  checkLayers(study, layers);
  const { cache } = await study.model.runWithCache(items, layers.map(hooks.residPost));
  const all: number[] = [];
  const perLayerMin = layers.map((l) => {
    let m = Infinity;
    for (const it of items) {
      const t = cache.get(hooks.residPost(l), it.id);
      const D = t.dims[1];
      for (let i = 0; i < t.dims[0]; i++) {
        let s = 0;
        for (let j = 0; j < D; j++) s += t.data[i * D + j] ** 2;
        const n = Math.sqrt(s);
        all.push(n);
        m = Math.min(m, n);
      }
    }
    return m;
  });
  all.sort((a, b) => a - b);
  return { min: all[0], median: all[all.length >> 1], perLayerMin };
}

/**
 * Before any work: the layers exist, and (only when an exact-angle mode runs: it needs a clean pass)
 * the smallest clean residual norm at them. With `refuse`, exact-angle δ beyond 2·min‖h‖ is an error.
 */
export async function preflight(
  study: Study,
  items: Item[],
  layers: number[],
  modes: Mode[],
  deltas: number[],
  unreachable: 'refuse' | 'skip' = 'refuse',
): Promise<{ minNorm: number }> {
  checkLayers(study, layers);
  if (!modes.some((m) => m.op === 'angle_exact')) return { minNorm: Infinity };
  const minNorm = (await cleanNorms(study, items, layers)).min;
  const bad = deltas.filter((d) => d > 2 * minNorm);
  if (unreachable === 'refuse' && bad.length)
    throw new Error(
      `exact angle: δ = ${bad.join(', ')} exceed 2·min‖h‖ = ${(2 * minNorm).toFixed(4)} at the target layers (clean run); a rotation cannot move those vectors that far — use smaller δ or the legacy/magnitude operators`,
    );
  return { minNorm };
}

export function conditionStream(
  experiment: string,
  delta: number,
  mode: Mode,
  extra: (string | number)[] = [],
): number {
  return streamId(experiment, delta, mode.op, mode.noise, ...extra);
}

/** What every baseline/condition record of a sweep carries (plus its own measurements). */
export interface ConditionRecordBase {
  key: string;
  /** 'skipped': a condition that cannot run (e.g. exact-angle δ out of reach), stored with its reason */
  kind: 'baseline' | 'condition' | 'skipped';
  /** RNG seed (42 + offset + seedIndex); absent on the baseline */
  seed?: number;
  seedIndex?: number;
}

/** What runConditions found stored and what it ran, per call in this process (notebooks print it). */
export const conditionLog: Array<{ file: string; experiment: string; resumed: number; ran: number }> = [];

export interface Condition<R> {
  key: string;
  run: () => Promise<R>;
}

/**
 * The one loop every experiment uses: writes the manifest of all condition keys (so `dirmag merge`
 * can find gaps), then runs this shard's conditions that are not yet stored, appending each
 * finished one atomically with the fields in `common`. Returns all stored records.
 */
export async function runConditions<R extends { key: string }>(
  study: Study,
  experiment: string,
  conds: Condition<R>[],
  common: Record<string, unknown>,
): Promise<R[]> {
  // every record carries the settings fingerprint; other settings go to their own store, never mixed
  const fingerprint = settingsFingerprint(common);
  const store = study.store(experiment, fingerprint);
  const prior = store.records()[0] as Record<string, unknown> | undefined;
  if (prior && prior.fingerprint !== fingerprint)
    throw new Error(
      `${store.file} holds results of other settings (${describeDiff(prior, common)}); another run took this store while this one started: rerun`,
    );
  common = { ...common, fingerprint };
  study.writeManifest(
    experiment,
    conds.map((c) => c.key),
  );
  const todo = conds.filter((c, i) => study.mine(i) && !store.has(c.key));
  const mine = conds.filter((_c, i) => study.mine(i)).length;
  conditionLog.push({ file: study.resultsFile(experiment), experiment, resumed: mine - todo.length, ran: todo.length });
  const bar = new Progress(`${experiment} ${study.name}`, todo.length);
  try {
    for (const c of todo) {
      const rec = await c.run();
      store.append({ ...rec, ...common });
      bar.tick(1, c.key);
    }
  } finally {
    store.close(); // releases the write lock; the records stay readable
    study.model.dropPrefixes(); // they served this experiment's conditions
  }
  return store.records() as unknown as R[];
}

function describeDiff(prior: Record<string, unknown>, common: Record<string, unknown>): string {
  const { env, ...now } = common;
  const diffs = Object.keys(now).filter(
    (k) => canonicalJson({ v: prior[k] ?? null }) !== canonicalJson({ v: now[k] ?? null }),
  );
  return diffs.length
    ? diffs
        .map((k) => `${k}: ${JSON.stringify(prior[k])} → ${JSON.stringify(now[k])}`)
        .join('; ')
        .slice(0, 300)
    : 'fingerprint differs';
}
