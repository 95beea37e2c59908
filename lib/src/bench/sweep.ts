/**
 * The sweep benchmark (`dirmag bench --sweep`, issue 18): every condition of the published E1 grid
 * (baseline + seeds × δ × modes at the middle third of the layers, the experiment's own plans, seeds
 * and streams) on a length-stratified subset of sentences, run twice per condition, interleaved:
 * once on a model with prefix reuse (the default) and once on one that runs every plan from the
 * embeddings (`reusePrefix: false`). Both models read their weights before the clock starts (the
 * same one-time cost on both sides, reported on its own). Reports the wall-time ratio of the two
 * sweeps (session creation + every pass), the ratio of their perturbed passes alone, the largest
 * per-sentence loss difference between them, tokens/s of perturbed work, and the projected wall
 * time of the full published E1 and E2 on the measured model and (by FLOP ratio) on other sizes.
 */
import { Model, Provider } from '../engine/model';
import { plan } from '../engine/plan';
import type { Item, RunResult } from '../engine/types';
import { E1_MODES } from '../experiments/e1-sweep';
import { conditionStream, perturbedPlan, sentenceLoss } from '../experiments/runs';
import { Mode, PUBLISHED, middleLayers, modeName, seedFor } from '../experiments/settings';
import { paramCounts, PythiaSpec } from './pythia';
import { randomItems, stratified } from './measure';
import { peakRss } from '../util/rss';
import { Projection, projectExperiments, publishedWork, withTotals, WorkProfile } from './project';

export interface SweepBenchOptions {
  dir: string;
  spec: PythiaSpec;
  /** WikiText token lengths (the full profile: projections use all of it) */
  lengths: number[];
  /** sentences of the measured sweep (a length-stratified subset of `lengths`) */
  sentences: number;
  /** the experiments to project (default: publishedWork(lengths, null): the WikiText ones only) */
  work?: WorkProfile[];
  /** sizes to project to besides the measured one */
  projectTo?: PythiaSpec[];
  /** grid (default: the published E1 grid) */
  seeds?: number;
  deltas?: number[];
  modes?: Mode[];
  /** compare with `reusePrefix: false` in the same run (default true) */
  compare?: boolean;
  provider?: Provider;
  threads?: number;
  tokensPerBatch?: number;
  log?: (line: string) => void;
}

/** One side of the comparison: its passes' seconds, summed. */
export interface SweepSide {
  reusePrefix: boolean;
  /** session creation and graph building, seconds */
  compileSeconds: number;
  baselineSeconds: number;
  /** all perturbed conditions */
  perturbedSeconds: number;
  /** session creation + every pass (passes exclude session creation) */
  wallSeconds: number;
  /** perturbed tokens / perturbedSeconds */
  perturbedTokensPerSec: number;
}

export interface SweepBenchResult {
  model: string;
  provider: string;
  threads: number;
  layers: number[];
  grid: { seeds: number; deltas: number[]; modes: string[]; conditions: number; perturbedConditions: number };
  sentences: number;
  tokensPerPass: number;
  /** how the conditions were ordered and timed */
  order: string;
  /** seconds to read the float32 weights, once per model before the sweep (not in wallSeconds) */
  weightLoadSeconds: number;
  reuse: SweepSide;
  full: SweepSide | null;
  /** full.wallSeconds / reuse.wallSeconds: the sweep's wall time without over with reuse (null without the comparison) */
  speedup: number | null;
  /** full.perturbedSeconds / reuse.perturbedSeconds */
  perturbedSpeedup: number | null;
  /** largest |loss(reuse) − loss(full)| over every sentence of every condition */
  maxAbsDeltaLoss: number | null;
  /** peak RSS of the whole process (both models) */
  peakRssBytes: number;
  weightBytes: number;
  projections: Projection[];
}

interface Cond {
  key: string;
  mode: Mode | null;
  run: (m: Model) => Promise<RunResult>;
}

/** The published E1 grid as the experiment builds it (e1-sweep.ts): baseline, then seed → δ → mode. */
export function e1Conditions(
  items: Item[],
  nLayers: number,
  grid: { seeds?: number; deltas?: number[]; modes?: Mode[] } = {},
): Cond[] {
  const layers = middleLayers(nLayers);
  const deltas = grid.deltas ?? PUBLISHED.e1.deltas;
  const modes = grid.modes ?? E1_MODES;
  const conds: Cond[] = [{ key: 'baseline', mode: null, run: (m) => m.runWithHooks(items, plan('logprobs')) }];
  for (let si = 0; si < (grid.seeds ?? PUBLISHED.e1.seeds); si++)
    for (const delta of deltas)
      for (const mode of modes) {
        const p = perturbedPlan({ mode, layers, delta, legacyIters: PUBLISHED.legacyIters });
        const opts = { seed: seedFor(PUBLISHED.e1.seedOffset, si), stream: conditionStream('E1', delta, mode) };
        conds.push({ key: `s${si}|d${delta}|${modeName(mode)}`, mode, run: (m) => m.runWithHooks(items, p, opts) });
      }
  return conds;
}

export async function benchSweep(o: SweepBenchOptions): Promise<SweepBenchResult> {
  const log = o.log ?? (() => {});
  const compare = o.compare ?? true;
  const spec = o.spec;
  const threads = o.threads ?? (await import('node:os')).availableParallelism();
  const provider = o.provider ?? 'cpu';
  const load = (reusePrefix: boolean) =>
    Model.fromDir(o.dir, { provider, threads, name: spec.name, tokensPerBatch: o.tokensPerBatch, reusePrefix });
  const models = [await load(true), ...(compare ? [await load(false)] : [])];
  // both models read their weights now; the reuse model's time is reported (the other's is the same work)
  const weightLoadSeconds = models.map((m) => m.loadWeights())[0];
  const items = randomItems(stratified(o.lengths, o.sentences), spec.vocab, 11);
  const tokens = items.reduce((s, it) => s + it.ids.length, 0);
  const conds = e1Conditions(items, spec.nLayers, o);
  const modes = o.modes ?? E1_MODES;
  log(
    `${spec.name}: E1 sweep, ${conds.length} conditions × ${items.length} sentences (${tokens} tokens)${compare ? ', prefix reuse on and off interleaved' : ''}`,
  );

  // the published order (seed → δ → mode); each model keeps its sessions (plain, prefix capture, one
  // per operator) for the whole sweep, as a run does
  const sides = models.map(() => ({ baseline: 0, perturbed: 0 }));
  let maxAbs = 0,
    done = 0,
    turn = 0;
  const t0 = performance.now();
  for (const cond of conds) {
    const order = turn++ % 2 === 0 ? models.map((_, i) => i) : models.map((_, i) => models.length - 1 - i);
    const losses: number[][] = [];
    for (const i of order) {
      const c0 = models[i].compileSeconds;
      const t = performance.now();
      const res = await cond.run(models[i]);
      // session creation is reported on its own (compileSeconds), not as pass time
      const s = (performance.now() - t) / 1000 - (models[i].compileSeconds - c0);
      if (cond.mode) sides[i].perturbed += s;
      else sides[i].baseline += s;
      losses[i] = res.items.map((it) => sentenceLoss(it.logprobs!));
    }
    if (losses.length === 2)
      for (let j = 0; j < losses[0].length; j++) maxAbs = Math.max(maxAbs, Math.abs(losses[0][j] - losses[1][j]));
    if (++done % 10 === 0 || done === conds.length)
      log(`  ${done}/${conds.length} conditions, ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  }
  for (const m of models) await m.release();
  const perturbedConds = conds.length - 1;
  const side = (i: number): SweepSide => {
    const s = sides[i];
    return {
      reusePrefix: i === 0,
      compileSeconds: models[i].compileSeconds,
      baselineSeconds: s.baseline,
      perturbedSeconds: s.perturbed,
      wallSeconds: models[i].compileSeconds + s.baseline + s.perturbed,
      perturbedTokensPerSec: (perturbedConds * tokens) / s.perturbed,
    };
  };
  const reuse = side(0);
  const full = compare ? side(1) : null;
  const peakRssBytes = peakRss();
  const lengths = items.map((it) => it.ids.length);
  const layers = middleLayers(spec.nLayers);
  return {
    model: spec.name,
    provider,
    threads,
    layers,
    grid: {
      seeds: o.seeds ?? PUBLISHED.e1.seeds,
      deltas: o.deltas ?? PUBLISHED.e1.deltas,
      modes: modes.map(modeName),
      conditions: conds.length,
      perturbedConditions: perturbedConds,
    },
    sentences: items.length,
    tokensPerPass: tokens,
    order: 'published order (seed → δ → mode); each condition on both models back to back, which one first alternating',
    weightLoadSeconds,
    reuse,
    full,
    speedup: full ? full.wallSeconds / reuse.wallSeconds : null,
    perturbedSpeedup: full ? full.perturbedSeconds / reuse.perturbedSeconds : null,
    maxAbsDeltaLoss: compare ? maxAbs : null,
    peakRssBytes,
    weightBytes: paramCounts(spec).total * 4,
    projections: withTotals(
      projectExperiments({
        measured: spec,
        measuredLengths: lengths,
        // seconds per pass of the measured subset; the per-token cost is scaled to each experiment's items
        plainSecondsPerPass: reuse.baselineSeconds,
        perturbedSecondsPerPass: reuse.perturbedSeconds / perturbedConds,
        sessionSeconds: reuse.compileSeconds,
        provider,
        work: o.work ?? publishedWork(o.lengths, null),
        targets: [spec, ...(o.projectTo ?? []).filter((t) => t.name !== spec.name)],
      }),
    ),
  };
}
