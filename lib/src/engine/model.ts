/**
 * Model: a checkpoint plus its architecture, and the engine's public API:
 *   model.runWithHooks(items, plan)    run a plan (plan.ts) over items, batched by length
 *   model.runWithCache(items, names)   capture hooks into an ActivationCache
 *   model.hookNames() / hookInfo(name) what the architecture offers
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import type { Architecture } from '../models/architecture';
import { architectureFor, parseConfig } from '../models/registry';
import { Checkpoint, WEIGHT_INPUT_PREFIX, type WeightMode } from '../models/weights';
import { DEFAULT_TOKENS_PER_BATCH, planBatches } from './batching';
import { ActivationCache } from './cache';
import { compile } from './compile';
import { deviceOutputOptions, keepsOutputsOnDevice } from './device-buffers';
import { DeviceTensors } from './device-cache';
import { DevicePrefixes } from './device-prefix';
import { NonFiniteOutput, RunError } from './errors';
import { Feeds, deviceOutputNames, keptOnDevice, passFeeds, prepareFeeds, readItem } from './feeds';
import type { HookName } from './hooks';
import { hooks } from './hooks';
import { Plan, plan as newPlan } from './plan';
import { PrefixCache, chunksWithin, prefixStart, startAt } from './prefix';
import { Provider, parseProvider, requireProvider, sessionFailureHint, tokensPerBatchFor } from './providers';
import { Session, SessionCache } from './sessions';
import type { HookInfo, Item, ItemResult, ModelConfig, RunOptions, RunResult } from './types';

export { RunError } from './errors';

export type { Provider } from './providers';

export interface LoadOptions {
  provider?: Provider;
  /** intra-op threads (default: all cores) */
  threads?: number;
  /** where the checkpoint came from, recorded in results */
  revision?: string | null;
  /** short name used for results folders (default: the folder's name) */
  name?: string;
  /** padded tokens per forward pass of the default batching policy (planBatches) */
  tokensPerBatch?: number;
  /** ONNX Runtime session options merged over the runner's (benchmarks, tuning); `extra.session` entries are merged too */
  sessionOptions?: ort.InferenceSession.SessionOptions;
  /**
   * Most sessions (one per plan) alive at once (default DEFAULT_MAX_SESSIONS); the least recently
   * used is released beyond it. On the CPU all sessions share one float32 copy of the weights; on GPU
   * providers each holds its own.
   */
  maxSessions?: number;
  /**
   * Compute the unperturbed prefix (blocks before a plan's first intervention) once per item and start
   * later plans from it (default true; false runs every plan from the embeddings, for benchmarks).
   */
  reusePrefix?: boolean;
  /** most bytes the cached prefixes may hold (default defaultPrefixBytes); the least recently used are dropped beyond it */
  prefixCacheBytes?: number;
}

/**
 * Sessions kept alive by default on the CPU: a sweep condition uses four (plain baseline,
 * prefix capture, one started plan per operator), repairs a few more; every further plan kind of a
 * run (B2 alone issues hundreds) would otherwise keep its graph and kernels until the end. Not on
 * providers that keep outputs on the device: a released session's device outputs cannot be freed
 * safely afterwards (device-cache.ts), so there sessions live until `release`.
 */
export const DEFAULT_MAX_SESSIONS = 4;

/**
 * Default budget of the prefix cache: a sixteenth of the float32 weights, within 64–512 MiB. The
 * published E1 (281 WikiText sentences, 42.6 tokens on average) needs ≈ 49 MB at d = 1024, which fits
 * from 410M up, and on large models the cache adds at most 0.07 × the weights to a run's memory.
 */
export function defaultPrefixBytes(float32WeightBytes: number): number {
  return shareOf(float32WeightBytes, 16, 64, 512);
}

/**
 * Bytes of captured activations an experiment holds at once (its items are chunked to fit): a
 * thirty-second of the float32 weights, within 16–256 MiB (at 410M ≈ 0.03 × the weights; per-item
 * captures are views of the pass's output, engine/layout.ts).
 */
export function defaultCaptureBytes(float32WeightBytes: number): number {
  return shareOf(float32WeightBytes, 32, 16, 256);
}

/** bytes / divisor, clamped to [minMiB, maxMiB] */
function shareOf(bytes: number, divisor: number, minMiB: number, maxMiB: number): number {
  return Math.min(maxMiB * 2 ** 20, Math.max(minMiB * 2 ** 20, Math.floor(bytes / divisor)));
}

/** The feeds the session's graph has inputs for (pruned graphs drop unused ones, e.g. the token ids). */
function onlyInputs(s: Session, feeds: Feeds['feeds']): Feeds['feeds'] {
  const names = s.session.inputNames;
  if (names.length === Object.keys(feeds).length) return feeds;
  return Object.fromEntries(names.filter((n) => n in feeds).map((n) => [n, feeds[n]]));
}

export class Model {
  /** padded tokens per forward pass of the default batching policy */
  tokensPerBatch = DEFAULT_TOKENS_PER_BATCH;
  /** start plans from cached unperturbed prefixes (engine/prefix.ts) */
  reusePrefix = true;
  /** the cached prefixes (blocks.k.hook_resid_pre per item) */
  readonly prefixes: PrefixCache;
  /** bytes of captures an experiment holds at once (default defaultCaptureBytes; its items are chunked to fit) */
  captureBudgetBytes: number;
  /** the same on providers that keep outputs on the device (engine/device-prefix.ts), within prefixes.budgetBytes */
  readonly devicePrefixes = new DevicePrefixes();
  /** the captures this model left on the device (freed by release, before the sessions) */
  private readonly deviceTensors = new DeviceTensors();
  /**
   * How graphs carry the weights: on the CPU as inputs fed from one float32 copy shared by every
   * session; on GPU providers as initializers (an input would be uploaded on every pass).
   */
  readonly weightMode: WeightMode;
  private readonly weightTensors = new Map<string, ort.Tensor>();
  private readonly sessions: SessionCache;

  private constructor(
    readonly dir: string,
    readonly cfg: ModelConfig,
    readonly ckpt: Checkpoint,
    readonly arch: Architecture,
    readonly provider: Provider,
    readonly threads: number,
    readonly revision: string | null,
    readonly name: string,
    readonly sessionOptions: ort.InferenceSession.SessionOptions = {},
  ) {
    this.weightMode = provider === 'cpu' ? 'inputs' : 'initializers';
    this.sessions = new SessionCache(
      (p) => compile(cfg, ckpt, arch, p, this.weightMode),
      (bytes, plan) => ort.InferenceSession.create(bytes, this.sessionOptionsFor(plan)),
      (e) => {
        return new RunError(
          `cannot create an ONNX Runtime session on ${provider}${sessionFailureHint(provider)}: ${e.message}`,
        );
      },
    );
    if (!keepsOutputsOnDevice(provider)) this.sessions.maxSessions = DEFAULT_MAX_SESSIONS;
    const weightBytes = ckpt.float32Bytes;
    this.prefixes = new PrefixCache(defaultPrefixBytes(weightBytes));
    this.captureBudgetBytes = defaultCaptureBytes(weightBytes);
  }

  /** Loads a model from a local checkpoint folder (config.json + safetensors). */
  static async fromDir(dir: string, opts: LoadOptions = {}): Promise<Model> {
    const provider = parseProvider(opts.provider ?? 'cpu');
    requireProvider(provider);
    const cfgPath = path.join(dir, 'config.json');
    if (!fs.existsSync(cfgPath)) throw new RunError(`${dir}: no config.json (not a Hugging Face model folder)`);
    let raw: Record<string, unknown>;
    try {
      raw = JSON.parse(fs.readFileSync(cfgPath, 'utf8'));
    } catch (e) {
      throw new RunError(`${cfgPath}: invalid JSON (${(e as Error).message})`);
    }
    const cfg = parseConfig(raw, cfgPath);
    const ckpt = Checkpoint.open(dir);
    const threads = opts.threads ?? Math.max(1, os.availableParallelism());
    const name = opts.name ?? path.basename(path.resolve(dir));
    const m = new Model(
      dir,
      cfg,
      ckpt,
      architectureFor(cfg.modelType),
      provider,
      threads,
      opts.revision ?? null,
      name,
      opts.sessionOptions,
    );
    // a GPU has the memory and the parallelism for bigger passes (the [R, vocab] logits dominate memory)
    m.tokensPerBatch = tokensPerBatchFor(provider);
    if (opts.maxSessions !== undefined) {
      if (!(opts.maxSessions >= 1)) throw new RunError(`maxSessions must be at least 1, got ${opts.maxSessions}`);
      m.maxSessions = opts.maxSessions;
    }
    if (opts.reusePrefix !== undefined) m.reusePrefix = opts.reusePrefix;
    if (opts.prefixCacheBytes !== undefined) {
      if (!(opts.prefixCacheBytes >= 0))
        throw new RunError(`prefixCacheBytes must be ≥ 0, got ${opts.prefixCacheBytes}`);
      m.prefixes.budgetBytes = opts.prefixCacheBytes;
    }
    if (opts.tokensPerBatch !== undefined) {
      if (!(Number.isInteger(opts.tokensPerBatch) && opts.tokensPerBatch > 0))
        throw new RunError(`tokensPerBatch must be a positive integer, got ${opts.tokensPerBatch}`);
      m.tokensPerBatch = opts.tokensPerBatch;
    }
    return m;
  }

  /** most sessions alive at once (LRU release beyond it); see LoadOptions.maxSessions */
  get maxSessions(): number {
    return this.sessions.maxSessions;
  }
  set maxSessions(n: number) {
    this.sessions.maxSessions = n;
  }

  /** ONNX Runtime sessions alive now (one per plan signature) */
  get liveSessions(): number {
    return this.sessions.size;
  }

  /** seconds spent building graphs and creating sessions */
  get compileSeconds(): number {
    return this.sessions.compileSeconds;
  }

  /** Every hook this model offers, in forward order. */
  hookNames(): HookName[] {
    return this.hooks().map((h) => h.name);
  }

  hookInfo(name: HookName): HookInfo {
    const h = this.hooks().find((x) => x.name === name);
    if (!h) throw new RunError(`unknown hook '${name}'`);
    return h;
  }

  private hooks(): HookInfo[] {
    return this.sessions.compile(newPlan('logprobs')).hooks;
  }

  /** The options every session of this model is created with (and `plan`'s outputs kept on the device). */
  sessionOptionsFor(plan?: Plan): ort.InferenceSession.SessionOptions {
    const extra = (this.sessionOptions.extra ?? {}) as { session?: Record<string, string> };
    return {
      executionProviders: [this.provider],
      graphOptimizationLevel: 'all',
      intraOpNumThreads: this.threads,
      interOpNumThreads: 1,
      // no per-session arena on the CPU: an arena keeps its peak for the session's life, and a run
      // has one session per plan, so arenas would add up to a copy of the activations per plan
      enableCpuMemArena: this.provider !== 'cpu',
      ...this.sessionOptions,
      extra: {
        ...extra,
        session: { model_external_initializers_file_folder_path: this.ckpt.dataDir, ...extra.session },
      },
      ...(plan ? deviceOutputOptions(this.provider, deviceOutputNames(plan)) : {}),
    } as ort.InferenceSession.SessionOptions;
  }

  /**
   * Reads every weight a plain pass uses into the shared float32 copy now, instead of on first use
   * (the CPU's 'inputs' mode; nothing to do where sessions hold the weights). Returns the seconds taken.
   */
  loadWeights(): number {
    const t0 = performance.now();
    if (this.weightMode === 'inputs')
      for (const w of this.sessions.compile(newPlan('logprobs')).weightInputs) this.ckpt.float32(w);
    return (performance.now() - t0) / 1000;
  }

  /**
   * Drops the cached prefixes (in memory and on the device). They serve the conditions of one sweep;
   * runConditions drops them when an experiment ends, so they are not held through the next ones.
   */
  dropPrefixes(): void {
    this.devicePrefixes.clear();
    this.prefixes.clear();
  }

  /** Releases the sessions (and what they left on the device); the weights and the cached prefixes stay. */
  async releaseSessions(): Promise<void> {
    // device tensors first: freeing them after the last session has gone crashes (device-cache.ts)
    this.devicePrefixes.clear();
    this.deviceTensors.disposeAll();
    await this.sessions.releaseAll();
  }

  /** Releases the sessions, the shared weights and the cached prefixes. */
  async release(): Promise<void> {
    await this.releaseSessions();
    this.weightTensors.clear();
    this.ckpt.releaseWeights();
    this.dropPrefixes();
  }

  /** Runs `plan` over `items` and returns one result per item, in the items' order. */
  async runWithHooks(items: Item[], plan: Plan, opts: RunOptions = {}): Promise<RunResult> {
    this.checkItems(items, plan);
    const k = this.reusePrefix ? prefixStart(plan, this.cfg.nLayers) : 0;
    if (k === 0 || this.prefixes.budgetBytes === 0)
      return this.sessions.with(plan, (s) => this.runOn(s, plan, items, opts));
    const t0 = performance.now();
    const out: RunResult['items'] = [];
    const kept: NonNullable<RunResult['onDevice']> = [];
    for (const chunk of chunksWithin(items, this.cfg.dModel, this.prefixes.budgetBytes)) {
      const values = await this.prefixValues(k, chunk, opts);
      const started = startAt(plan, k, values);
      const r = await this.sessions.with(started, (s) => this.runOn(s, started, chunk, opts));
      out.push(...r.items);
      if (r.onDevice) kept.push(...r.onDevice);
    }
    const seconds = (performance.now() - t0) / 1000;
    return { items: out, provider: this.provider, seconds, ...(kept.length ? { onDevice: kept } : {}) };
  }

  /**
   * blocks.k.hook_resid_pre of `items`: from the prefix cache, or computed (blocks 0..k-1 only) and cached;
   * where the provider keeps outputs on the device, kept there per chunk (engine/device-prefix.ts).
   */
  private async prefixValues(k: number, items: Item[], opts: RunOptions): Promise<ActivationCache> {
    const hook = hooks.residPre(k);
    if (keepsOutputsOnDevice(this.provider))
      return this.devicePrefixes.values(
        k,
        items,
        `${opts.batchSize ?? 'auto'}/${this.tokensPerBatch}`,
        this.cfg.dModel,
        this.prefixes.budgetBytes,
        (names) => this.runWithCache(items, names, { batchSize: opts.batchSize, onDevice: true }),
      );
    const values = new ActivationCache();
    const missing: Item[] = [];
    for (const it of items) {
      const t = this.prefixes.get(k, it);
      if (t) values.set(hook, it.id, t);
      else missing.push(it);
    }
    if (missing.length) {
      const capture = newPlan().capture(hook);
      const r = await this.sessions.with(capture, (s) =>
        this.runOn(s, capture, missing, { batchSize: opts.batchSize }),
      );
      r.items.forEach((res, i) => {
        const t = res.captures[hook]!;
        this.prefixes.set(k, missing[i], t);
        values.set(hook, missing[i].id, t);
      });
    }
    return values;
  }

  /** The graph inputs that carry weights ('inputs' mode), as tensors over the checkpoint's one float32 copy. */
  private feedWeights(s: Session, feeds: Feeds['feeds']): void {
    for (const name of s.session.inputNames) {
      if (!name.startsWith(WEIGHT_INPUT_PREFIX)) continue;
      let t = this.weightTensors.get(name);
      if (!t) {
        const w = name.slice(WEIGHT_INPUT_PREFIX.length);
        t = new ort.Tensor('float32', this.ckpt.float32(w), this.ckpt.shape(w));
        this.weightTensors.set(name, t);
      }
      feeds[name] = t;
    }
  }

  /**
   * Captures `names` (on top of `opts.plan`, e.g. a perturbation, whose captures see its effect)
   * and returns them as an ActivationCache beside the run's result. With `onDevice`, on a provider
   * that can (webgpu), the values stay on the device for patching (ActivationCache.toHost reads them).
   */
  async runWithCache(
    items: Item[],
    names: readonly HookName[],
    opts: RunOptions & { plan?: Plan; onDevice?: boolean } = {},
  ): Promise<{ cache: ActivationCache; result: RunResult }> {
    const { plan: base = newPlan(), onDevice = false, ...runOpts } = opts;
    const keep = onDevice && keepsOutputsOnDevice(this.provider);
    const result = await this.runWithHooks(items, base.capture(names, { onDevice: keep }), runOpts);
    return { cache: ActivationCache.fromResult(result, names), result };
  }

  private async runOn(s: Session, plan: Plan, items: Item[], opts: RunOptions): Promise<RunResult> {
    const t0 = performance.now();
    const results: ItemResult[] = new Array(items.length);
    const kept: NonNullable<RunResult['onDevice']> = [];
    const batches = planBatches(
      items.map((it) => it.ids.length),
      opts.batchSize,
      this.tokensPerBatch,
    );
    const batchItems = batches.map((idx) => idx.map((i) => items[i]));
    await prepareFeeds(plan, batchItems);
    // Feeds of pass k+1 (noise draws, packing) are built in JS while ONNX Runtime computes pass k
    // on its own threads. A feed error of pass k+1 is raised only after pass k has finished and
    // been checked, so errors come in the same order as without the overlap.
    const prepare = (k: number): { feeds?: Feeds; error?: unknown } => {
      try {
        return {
          feeds: passFeeds(
            this.cfg,
            this.arch,
            s.compiled,
            plan,
            batches[k].map((i) => items[i]),
            opts,
          ),
        };
      } catch (error) {
        return { error };
      }
    };
    let next = batches.length ? prepare(0) : null;
    for (let k = 0; k < batches.length; k++) {
      const idx = batches[k];
      const cur = next!;
      if (cur.error !== undefined) throw cur.error;
      this.feedWeights(s, cur.feeds!.feeds);
      const pending = s.session.run(onlyInputs(s, cur.feeds!.feeds));
      pending.catch(() => {}); // awaited below; avoids an unhandled rejection while the next feeds are built
      next = k + 1 < batches.length ? prepare(k + 1) : null;
      try {
        const res = await pending;
        const onDevice = keptOnDevice(s.compiled, plan, this.provider, res, batchItems[k], cur.feeds!.T);
        this.deviceTensors.track(onDevice); // before readItem can throw
        kept.push(...onDevice);
        idx.forEach((i, b) => (results[i] = readItem(this.cfg, s.compiled, plan, res, items[i], b, cur.feeds!)));
      } catch (e) {
        if (!(e instanceof NonFiniteOutput)) throw e;
        throw new RunError(`${e.message}; ${await this.diagnoseNonFinite(plan, items, idx[e.batchIndex], opts)}`);
      }
    }
    const seconds = (performance.now() - t0) / 1000;
    return { items: results, provider: this.provider, seconds, ...(kept.length ? { onDevice: kept } : {}) };
  }

  /** Re-runs item i alone with every hook captured (engine/diagnose.ts) and says where the first NaN/Inf appears. */
  private async diagnoseNonFinite(plan: Plan, items: Item[], i: number, opts: RunOptions): Promise<string> {
    const { locateNonFinite } = await import('./diagnose');
    try {
      const loc = await locateNonFinite(this, plan, [items[i]], { ...opts, batchSize: 1 });
      return loc ? loc.message : 'the re-run with captures was finite (non-deterministic fault?)';
    } catch (e) {
      return `locating it failed: ${(e as Error).message}`;
    }
  }

  private checkItems(items: Item[], plan: Plan): void {
    const V = this.cfg.vocabSize;
    for (const it of items) {
      if (!it.ids.length) throw new RunError(`item ${it.id}: empty token sequence`);
      if (plan.outputs.includes('logprobs') && it.ids.length < 2)
        throw new RunError(`item ${it.id}: needs at least 2 tokens for next-token log-probs`);
      if (it.ids.length > this.cfg.maxPositions)
        throw new RunError(
          `item ${it.id}: ${it.ids.length} tokens exceed max_position_embeddings=${this.cfg.maxPositions}`,
        );
      for (const t of it.ids)
        if (!Number.isInteger(t) || t < 0 || t >= V)
          throw new RunError(`item ${it.id}: token id ${t} outside the vocabulary 0..${V - 1}`);
    }
  }
}
