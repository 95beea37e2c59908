/**
 * Whole-run memory of a study-like run (issue 18): one model loaded as `reproduce` loads it, then
 * every kind of plan the study issues (plain, clean captures for norms, each perturbation operator,
 * capture → patch repair, head ablation, scaling, entropy output) on a few sentences; peak RSS of
 * the process as a multiple of the fp32 weight bytes. Run in its own child process per checkpoint
 * (fp32 and fp16) so the peak is that run's own. Also the legacy-angle pass against a plain pass on
 * the same items, interleaved.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import { Model, Provider } from '../engine/model';
import { hooks } from '../engine/hooks';
import { Plan, plan } from '../engine/plan';
import type { Item, RunOptions } from '../engine/types';
import { perturbedPlan } from '../experiments/runs';
import { middleLayers } from '../experiments/settings';
import { paramCounts, PythiaSpec } from './pythia';
import { peakRss, randomItems, stratified } from './measure';

export interface MemoryBenchOptions {
  dir: string;
  spec: PythiaSpec;
  dtype: 'F32' | 'F16';
  lengths: number[];
  /** sentences per pass (few: memory, not speed) */
  sentences: number;
  /**
   * before each new plan kind, stop when less than this much memory is available (default: 1.5 ×
   * fp32 weight bytes + 6 GiB: one more session's copy of the weights, and room for the machine's
   * other users)
   */
  reserveBytes?: number;
  /**
   * stop adding plan kinds once this process's peak RSS passes this many fp32 weight bytes
   * (default 3: far beyond the 1.3 target, so the verdict is known and more only costs memory)
   */
  maxRatio?: number;
  /** interleaved plain / legacy-angle pass pairs, best counts (default 3) */
  repeats?: number;
  provider?: Provider;
  threads?: number;
  log?: (line: string) => void;
}

export interface MemoryBenchResult {
  model: string;
  dtype: 'F32' | 'F16';
  checkpointBytes: number;
  weightBytes: number;
  /** RSS before the model was loaded (node + onnxruntime) */
  baseRssBytes: number;
  /** the plans run, in order */
  plans: string[];
  sessionsAlive: number;
  peakRssBytes: number;
  /** peakRssBytes / fp32 weight bytes */
  ratio: number;
  /** (peak − RSS before loading) / fp32 weight bytes */
  ratioAboveBase: number;
  /**
   * on the run's own model (prefix reuse on, as `reproduce` runs): the legacy-angle pass starts from the
   * cached clean prefix, so this is the study's cost per pass, not the operator's (that is the per-model
   * section (b), which runs every pass from the embeddings)
   */
  legacyVsPlain: { sentences: number; tokens: number; plainSeconds: number; legacySeconds: number; ratio: number };
  /** set when plans were left out because the machine's available memory ran low (shared machine guard) */
  stoppedEarly?: string;
}

/** MemAvailable of /proc/meminfo in bytes (os.freemem() elsewhere). */
export function availableMemory(): number {
  try {
    const m = /MemAvailable:\s+(\d+) kB/.exec(fs.readFileSync('/proc/meminfo', 'utf8'));
    if (m) return Number(m[1]) * 1024;
  } catch {
    /* not Linux */
  }
  return os.freemem();
}

/** The plan kinds a study run issues, each with the options it runs with. */
export function studyPlans(nLayers: number, delta: number): { name: string; plan: Plan; opts: RunOptions }[] {
  const layers = middleLayers(nLayers);
  const seed = { seed: 1 };
  const pert = (op: 'magnitude' | 'angle_legacy' | 'angle_exact') =>
    perturbedPlan({ mode: { op, noise: 'legacy' }, layers, delta });
  return [
    { name: 'plain log-probs (baselines)', plan: plan('logprobs'), opts: {} },
    {
      name: 'clean capture hook_resid_post (norms, preflight)',
      plan: plan().capture(layers.map(hooks.residPost)),
      opts: {},
    },
    { name: 'perturb magnitude (E1, E2)', plan: pert('magnitude'), opts: seed },
    { name: 'perturb angle_legacy (E1, E2)', plan: pert('angle_legacy'), opts: seed },
    { name: 'perturb angle_exact (robustness)', plan: pert('angle_exact'), opts: seed },
    {
      name: 'perturbed entropy (E3)',
      plan: perturbedPlan({ mode: { op: 'magnitude', noise: 'legacy' }, layers, delta }, plan('entropy')),
      opts: seed,
    },
    { name: 'scale hook_attn_out (E9-like)', plan: plan('logprobs').scale(layers.map(hooks.attnOut), 0.5), opts: {} },
    { name: 'ablate hook_mlp_out (E9-like)', plan: plan('logprobs').ablate(layers.map(hooks.mlpOut)), opts: {} },
  ];
}

export async function benchMemory(o: MemoryBenchOptions): Promise<MemoryBenchResult> {
  const log = o.log ?? (() => {});
  const spec = o.spec;
  const baseRssBytes = peakRss();
  const model = await Model.fromDir(o.dir, { provider: o.provider, threads: o.threads, name: spec.name });
  const items: Item[] = randomItems(stratified(o.lengths, o.sentences), spec.vocab, 5);
  // δ within every operator's reach: half the smallest clean norm at the target layers (the exact
  // rotation needs δ ≤ 2‖h‖); memory does not depend on δ
  const resid = middleLayers(spec.nLayers).map(hooks.residPost);
  await model.runWithHooks(items, plan('logprobs'));
  const { cache: clean } = await model.runWithCache(items, resid);
  let minNorm = Infinity;
  for (const h of resid)
    for (const it of items) {
      const t = clean.get(h, it.id);
      const D = t.dims[1];
      for (let i = 0; i < t.dims[0]; i++) {
        let q = 0;
        for (let j = 0; j < D; j++) q += t.data[i * D + j] ** 2;
        minNorm = Math.min(minNorm, Math.sqrt(q));
      }
    }
  const delta = 0.5 * minNorm;
  const plans = studyPlans(spec.nLayers, delta);
  const names: string[] = [plans[0].name, plans[1].name];
  const weightBytes = paramCounts(spec).total * 4;
  const reserve = o.reserveBytes ?? 1.5 * weightBytes + 6 * 2 ** 30;
  const maxRatio = o.maxRatio ?? 3;
  let stoppedEarly: string | undefined;
  const lowMemory = (): boolean => {
    const avail = availableMemory();
    const ratio = peakRss() / weightBytes;
    if (avail >= reserve && ratio <= maxRatio) return false;
    stoppedEarly =
      avail < reserve
        ? `stopped after ${names.length} plan kinds: ${(avail / 2 ** 30).toFixed(1)} GiB available < ${(reserve / 2 ** 30).toFixed(1)} GiB reserve`
        : `stopped after ${names.length} plan kinds: peak RSS already ${ratio.toFixed(2)}× fp32 weights (> ${maxRatio}; the whole run would be higher)`;
    log(`${spec.name} ${o.dtype}: ${stoppedEarly}`);
    return true;
  };
  for (const p of plans.slice(2)) {
    if (lowMemory()) break;
    log(`${spec.name} ${o.dtype}: ${p.name}`);
    await model.runWithHooks(items, p.plan, p.opts);
    names.push(p.name);
  }
  // repair (E4–E6): clean capture of hook_attn_out, patched into a perturbed run
  if (!stoppedEarly && !lowMemory()) {
    const attn = middleLayers(spec.nLayers).map(hooks.attnOut);
    log(`${spec.name} ${o.dtype}: capture → patch repair`);
    const { cache } = await model.runWithCache(items, attn);
    await model.runWithHooks(
      items,
      perturbedPlan({ mode: { op: 'angle_legacy', noise: 'legacy' }, layers: middleLayers(spec.nLayers), delta }).patch(
        attn,
        cache,
      ),
      { seed: 1 },
    );
    names.push('capture hook_attn_out → patch into angle_legacy (E4–E6)');
  }

  log(`${spec.name} ${o.dtype}: legacy-angle vs plain, interleaved`);
  const plainPlan = plans[0].plan,
    legacy = plans[3];
  let bestPlain = Infinity,
    bestLegacy = Infinity;
  for (let r = 0; r < (o.repeats ?? 3); r++) {
    let t = performance.now();
    await model.runWithHooks(items, plainPlan);
    bestPlain = Math.min(bestPlain, (performance.now() - t) / 1000);
    t = performance.now();
    await model.runWithHooks(items, legacy.plan, legacy.opts);
    bestLegacy = Math.min(bestLegacy, (performance.now() - t) / 1000);
  }
  const sessionsAlive = model.liveSessions;
  const peakRssBytes = peakRss();
  await model.release();
  const checkpointBytes = fs
    .readdirSync(o.dir)
    .filter((f) => f.endsWith('.safetensors'))
    .reduce((s, f) => s + fs.statSync(`${o.dir}/${f}`).size, 0);
  return {
    model: spec.name,
    dtype: o.dtype,
    checkpointBytes,
    weightBytes,
    baseRssBytes,
    plans: names,
    sessionsAlive,
    peakRssBytes,
    ratio: peakRssBytes / weightBytes,
    ratioAboveBase: (peakRssBytes - baseRssBytes) / weightBytes,
    legacyVsPlain: {
      sentences: items.length,
      tokens: items.reduce((s, it) => s + it.ids.length, 0),
      plainSeconds: bestPlain,
      legacySeconds: bestLegacy,
      ratio: bestPlain / bestLegacy,
    },
    ...(stoppedEarly ? { stoppedEarly } : {}),
  };
}
