/**
 * Model: a checkpoint plus its architecture; `run(plan, items, options)` compiles the plan once
 * (sessions cached by plan signature), batches items by length, feeds δ/noise/signs/patches as
 * inputs and returns per-item results with padding removed.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import { Architecture, architectureFor } from '../models/architecture';
import { parseConfig } from '../models/config';
import { Checkpoint } from '../models/weights';
import { Compiled, compile } from './compile';
import { HookInfo, Layout } from './hookpoints';
import { DrawKey, PURPOSE, normals, signs } from './rng';
import { HookName, Item, ItemResult, KeyPart, ModelConfig, Plan, RunOptions, RunResult, Tensor } from './types';

export type Provider = 'cpu' | 'cuda';

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
   * Most sessions (one per plan) alive at once; the least recently used is released beyond it.
   * Each session holds its own float32 copy of the weights (onnxruntime-node cannot share them).
   */
  maxSessions?: number;
}

export class RunError extends Error {}

/** A non-finite output value; `run` turns it into a RunError naming the first non-finite hook. */
class NonFiniteOutput extends RunError {
  constructor(
    message: string,
    readonly batchIndex: number,
  ) {
    super(message);
  }
}

/** The inputs of one forward pass and its padded length. */
interface Feeds {
  feeds: Record<string, ort.Tensor>;
  T: number;
}

interface Session {
  compiled: Compiled;
  session: ort.InferenceSession;
}

export class Model {
  private sessions = new Map<string, Promise<Session>>();
  /** seconds spent building graphs and creating sessions */
  compileSeconds = 0;
  /** padded tokens per forward pass of the default batching policy */
  tokensPerBatch = DEFAULT_TOKENS_PER_BATCH;
  /** most sessions alive at once (LRU release beyond it); see LoadOptions.maxSessions */
  maxSessions = Infinity;
  /** sessions with a run in flight (never released) */
  private busy = new Map<string, number>();

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
  ) {}

  /** Loads a model from a local checkpoint folder (config.json + safetensors). */
  static async fromDir(dir: string, opts: LoadOptions = {}): Promise<Model> {
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
    const arch = await architectureFor(cfg.modelType);
    const provider = opts.provider ?? 'cpu';
    if (provider !== 'cpu' && provider !== 'cuda') throw new RunError(`unknown provider '${provider}' (cpu, cuda)`);
    const threads = opts.threads ?? Math.max(1, (await import('node:os')).availableParallelism());
    const m = new Model(
      dir,
      cfg,
      ckpt,
      arch,
      provider,
      threads,
      opts.revision ?? null,
      opts.name ?? path.basename(path.resolve(dir)),
      opts.sessionOptions,
    );
    // a GPU has the memory and the parallelism for bigger passes (the [N, vocab] logits dominate memory)
    if (provider === 'cuda') m.tokensPerBatch = CUDA_TOKENS_PER_BATCH;
    if (opts.maxSessions !== undefined) {
      if (!(opts.maxSessions >= 1)) throw new RunError(`maxSessions must be at least 1, got ${opts.maxSessions}`);
      m.maxSessions = opts.maxSessions;
    }
    if (opts.tokensPerBatch !== undefined) {
      if (!(Number.isInteger(opts.tokensPerBatch) && opts.tokensPerBatch > 0))
        throw new RunError(`tokensPerBatch must be a positive integer, got ${opts.tokensPerBatch}`);
      m.tokensPerBatch = opts.tokensPerBatch;
    }
    return m;
  }

  /** Every hook name this model offers. */
  hookNames(): HookName[] {
    return this.compiled({ outputs: ['logprobs'] }).hooks.map((h) => h.name);
  }

  hookInfo(name: HookName): HookInfo {
    const h = this.compiled({ outputs: ['logprobs'] }).hooks.find((x) => x.name === name);
    if (!h) throw new RunError(`unknown hook '${name}'`);
    return h;
  }

  private compileCache = new Map<string, Compiled>();
  private compiled(plan: Plan): Compiled {
    const key = JSON.stringify(plan);
    let c = this.compileCache.get(key);
    if (!c) {
      c = compile(this.cfg, this.ckpt, this.arch, plan);
      this.compileCache.set(key, c);
    }
    return c;
  }

  private async session(plan: Plan): Promise<Session> {
    const compiled = this.compiled(plan);
    let s = this.sessions.get(compiled.signature);
    if (s) {
      // most recently used last
      this.sessions.delete(compiled.signature);
      this.sessions.set(compiled.signature, s);
    } else {
      for (const [sig, old] of this.sessions) {
        if (this.sessions.size < this.maxSessions) break;
        if (this.busy.get(sig)) continue;
        this.sessions.delete(sig);
        await (await old).session.release();
      }
      const t0 = performance.now();
      s = ort.InferenceSession.create(compiled.bytes, this.sessionOptionsFor()).then(
        (session) => {
          this.compileSeconds += (performance.now() - t0) / 1000;
          return { compiled, session };
        },
        (e: Error) => {
          this.sessions.delete(compiled.signature);
          const hint = this.provider === 'cuda' ? ' (is the CUDA provider installed? see README "Using CUDA")' : '';
          throw new RunError(`cannot create an ONNX Runtime session on ${this.provider}${hint}: ${e.message}`);
        },
      );
      this.sessions.set(compiled.signature, s);
    }
    return s;
  }

  /** The options every session of this model is created with. */
  sessionOptionsFor(): ort.InferenceSession.SessionOptions {
    const extra = (this.sessionOptions.extra ?? {}) as { session?: Record<string, string> };
    return {
      executionProviders: [this.provider],
      graphOptimizationLevel: 'all',
      intraOpNumThreads: this.threads,
      interOpNumThreads: 1,
      ...this.sessionOptions,
      extra: {
        ...extra,
        session: { model_external_initializers_file_folder_path: this.ckpt.dataDir, ...extra.session },
      },
    } as ort.InferenceSession.SessionOptions;
  }

  async release(): Promise<void> {
    for (const s of this.sessions.values()) await (await s).session.release();
    this.sessions.clear();
  }

  /** Position ids as HF computes them by default for right-padded batches. */
  private positions(len: number, T: number, out: BigInt64Array, offset: number): void {
    for (let t = 0; t < T; t++) {
      const real = t < len;
      out[offset + t] = BigInt(this.cfg.modelType === 'opt' ? (real ? t + 2 : 1) : t);
    }
  }

  async run(plan: Plan, items: Item[], opts: RunOptions = {}): Promise<RunResult> {
    const s = await this.session(plan);
    const sig = s.compiled.signature;
    this.busy.set(sig, (this.busy.get(sig) ?? 0) + 1);
    try {
      return await this.runOn(s, plan, items, opts);
    } finally {
      this.busy.set(sig, this.busy.get(sig)! - 1);
    }
  }

  private async runOn(s: Session, plan: Plan, items: Item[], opts: RunOptions): Promise<RunResult> {
    const t0 = performance.now();
    this.checkItems(items, plan, opts);
    const results: ItemResult[] = new Array(items.length);
    const batches = planBatches(
      items.map((it) => it.ids.length),
      opts.batchSize,
      this.tokensPerBatch,
    );
    // Feeds of pass k+1 (noise draws, packing) are built in JS while ONNX Runtime computes pass k
    // on its own threads. A feed error of pass k+1 is raised only after pass k has finished and
    // been checked, so errors come in the same order as without the overlap.
    const prepare = (k: number): { feeds?: Feeds; error?: unknown } => {
      try {
        return {
          feeds: this.feedsFor(
            s,
            plan,
            batches[k].map((i) => items[i]),
            batches[k],
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
      const batch = idx.map((i) => items[i]);
      const cur = next!;
      if (cur.error !== undefined) throw cur.error;
      const pending = s.session.run(cur.feeds!.feeds);
      pending.catch(() => {}); // awaited below; avoids an unhandled rejection while the next feeds are built
      next = k + 1 < batches.length ? prepare(k + 1) : null;
      let out: ItemResult[];
      try {
        const res = await pending;
        out = batch.map((it, b) =>
          this.unpack(res, plan, s.compiled.io.captures, s.compiled.io.perturbLayers, it, b, cur.feeds!.T, opts),
        );
      } catch (e) {
        if (!(e instanceof NonFiniteOutput)) throw e;
        throw new RunError(`${e.message}; ${await this.diagnoseNonFinite(plan, items, idx[e.batchIndex], opts)}`);
      }
      idx.forEach((i, j) => (results[i] = out[j]));
    }
    return { items: results, provider: this.provider, seconds: (performance.now() - t0) / 1000 };
  }

  /** Re-runs item i alone with every hook captured (engine/diagnose.ts) and says where the first NaN/Inf appears. */
  private async diagnoseNonFinite(plan: Plan, items: Item[], i: number, opts: RunOptions): Promise<string> {
    const { locateNonFinite } = await import('./diagnose');
    const one = <T>(per: T[] | undefined) => (per ? [per[i]] : undefined);
    const sub: RunOptions = {
      ...opts,
      batchSize: 1,
      patches: opts.patches && Object.fromEntries(Object.entries(opts.patches).map(([k, v]) => [k, [v[i]]])),
      draws: opts.draws && { noise: one(opts.draws.noise), signs: one(opts.draws.signs) },
    };
    try {
      const loc = await locateNonFinite(this, plan, [items[i]], sub);
      return loc ? loc.message : 'the re-run with captures was finite (non-deterministic fault?)';
    } catch (e) {
      return `locating it failed: ${(e as Error).message}`;
    }
  }

  private checkItems(items: Item[], plan: Plan, opts: RunOptions): void {
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
    if (plan.perturb) {
      const d = opts.delta;
      if (typeof d !== 'number' || !Number.isFinite(d) || d <= 0)
        throw new RunError(`delta must be a positive number, got ${d}`);
    }
  }

  /** `idx`: the batch items' positions in the run's item list (patches are aligned with it). */
  private feedsFor(s: Session, plan: Plan, batch: Item[], idx: number[], opts: RunOptions): Feeds {
    const { io } = s.compiled;
    const B = batch.length;
    const T = Math.max(...batch.map((b) => b.ids.length));
    const D = this.cfg.dModel;
    const ids = new BigInt64Array(B * T);
    const pos = new BigInt64Array(B * T);
    const mask = new BigInt64Array(B * T);
    const targets = new BigInt64Array(B * T);
    batch.forEach((it, b) => {
      const L = it.ids.length;
      for (let t = 0; t < T; t++) {
        ids[b * T + t] = BigInt(t < L ? it.ids[t] : 0);
        mask[b * T + t] = t < L ? 1n : 0n;
        targets[b * T + t] = BigInt(t + 1 < L ? it.ids[t + 1] : 0);
      }
      this.positions(L, T, pos, b * T);
    });
    const feeds: Record<string, ort.Tensor> = {
      input_ids: new ort.Tensor('int64', ids, [B, T]),
      position_ids: new ort.Tensor('int64', pos, [B, T]),
      attention_mask: new ort.Tensor('int64', mask, [B, T]),
    };
    if (plan.outputs.includes('logprobs')) feeds.targets = new ort.Tensor('int64', targets, [B, T]);
    const pert = plan.perturb;
    if (pert) {
      feeds.delta = new ort.Tensor('float32', Float32Array.of(opts.delta!), [1]);
      const key = (purpose: number, parts: KeyPart[], it: Item, layer: number): DrawKey => ({
        seed: opts.seed ?? 0,
        stream: opts.stream ?? 0,
        purpose,
        parts,
        item: it.id,
        length: it.ids.length,
        layer,
        pass: opts.pass ?? 0,
      });
      const layerOf = (name: string) => (name.includes(':') ? Number(name.split(':')[1]) : 0);
      const given = (arr: Float32Array[] | undefined, what: string, width: number, out: Float32Array) =>
        idx.forEach((i, b) => {
          const v = arr![i];
          if (!v || v.length !== batch[b].ids.length * width)
            throw new RunError(`draws.${what} for item ${batch[b].id}: expected ${batch[b].ids.length * width} values`);
          out.set(v, b * T * width);
        });
      for (const name of io.noiseInputs) {
        const data = new Float32Array(B * T * D);
        if (opts.draws?.noise) given(opts.draws.noise, 'noise', D, data);
        else {
          // identical keys give identical draws (e.g. the original's noise per sentence length):
          // draw once per pass and copy
          const drawn = new Map<string, number>();
          batch.forEach((it, b) => {
            const k = key(PURPOSE.noise, pert.noiseKey ?? ['item', 'layer'], it, layerOf(name));
            const L = it.ids.length;
            const id = drawId(k, L);
            const at = drawn.get(id);
            if (at !== undefined) data.copyWithin(b * T * D, at, at + L * D);
            else {
              normals(k, L, D, data, b * T * D);
              drawn.set(id, b * T * D);
            }
          });
        }
        feeds[name] = new ort.Tensor('float32', data, [B, T, D]);
      }
      for (const name of io.signInputs) {
        const data = new Float32Array(B * T);
        if (opts.draws?.signs) given(opts.draws.signs, 'signs', 1, data);
        else
          batch.forEach((it, b) =>
            signs(
              key(PURPOSE.signs, pert.signKey ?? ['item', 'layer', 'pass'], it, layerOf(name)),
              it.ids.length,
              data,
              b * T,
            ),
          );
        feeds[name] = new ort.Tensor('float32', data, [B, T]);
      }
    }
    for (const h of io.patches) {
      const per = opts.patches?.[h.name];
      if (!per) throw new RunError(`plan patches '${h.name}' but no patch values were given`);
      feeds[`patch:${h.name}`] = packBatch(
        h,
        idx.map((i) => per[i]),
        batch,
        T,
      );
    }
    for (const h of io.scales) {
      const v = opts.scales?.[h.name];
      if (typeof v !== 'number') throw new RunError(`plan scales '${h.name}' but no factor was given`);
      feeds[`scale:${h.name}`] = new ort.Tensor('float32', Float32Array.of(v), [1]);
    }
    for (const h of io.means) {
      const v = opts.means?.[h.name];
      if (!v) throw new RunError(`plan mean-ablates '${h.name}' but no mean was given`);
      feeds[`mean:${h.name}`] = new ort.Tensor('float32', v, meanDims(h.layout, T));
    }
    return { feeds, T };
  }

  private unpack(
    out: ort.InferenceSession.ReturnType,
    plan: Plan,
    captures: HookInfo[],
    layers: number[],
    it: Item,
    b: number,
    T: number,
    opts: RunOptions,
  ): ItemResult {
    const L = it.ids.length;
    const row = (name: string, n: number) => (out[name].data as Float32Array).slice(b * T, b * T + n);
    const r: ItemResult = { id: it.id, captures: {} };
    if (plan.outputs.includes('logprobs')) r.logprobs = row('logprobs', L - 1);
    if (plan.outputs.includes('entropy')) r.entropy = row('entropy', L);
    if (plan.outputs.includes('logits')) {
      const V = this.cfg.vocabSize;
      r.logits = { dims: [L, V], data: (out.logits.data as Float32Array).slice(b * T * V, (b * T + L) * V) };
    }
    for (const h of captures) r.captures[h.name] = unpackItem(h.layout, out[`cap:${h.name}`], b, T, L);
    if (layers.length) {
      r.perturbation = layers.map((layer) => {
        const norms = row(`pnorm:${layer}`, L);
        const disp = row(`disp:${layer}`, L);
        return { layer, norms, disp };
      });
      if (plan.perturb!.op === 'angle_exact') {
        for (const p of r.perturbation) {
          const t = p.norms.findIndex((n) => 2 * n < opts.delta!);
          if (t >= 0)
            throw new RunError(
              `exact angle: δ=${opts.delta} exceeds 2‖h‖=${(2 * p.norms[t]).toFixed(4)} at blocks.${p.layer}.${plan.perturb!.hook ?? 'hook_resid_post'}, item ${it.id}, position ${t}; no rotation moves that vector by δ (choose δ ≤ 2·min‖h‖ or the magnitude operator)`,
            );
        }
      }
    }
    for (const [name, v] of Object.entries({ logprobs: r.logprobs, entropy: r.entropy, logits: r.logits?.data })) {
      if (v && v.some((x) => !Number.isFinite(x)))
        throw new NonFiniteOutput(
          `non-finite value in output '${name}' for item ${it.id}${r.perturbation ? ` (δ=${opts.delta})` : ''}`,
          b,
        );
    }
    return r;
  }
}

/** Padded tokens per forward pass of the default policy (see planBatches). */
export const DEFAULT_TOKENS_PER_BATCH = 512;
/** The default budget on CUDA (set by Model.fromDir; the batch policy is the same). */
export const CUDA_TOKENS_PER_BATCH = 4096;
/** Everything a draw depends on (the key parts it uses, and its length). */
function drawId(k: DrawKey, length: number): string {
  const part: Record<KeyPart, number> = { item: k.item, length: k.length, layer: k.layer, pass: k.pass };
  return `${k.seed}|${k.stream}|${k.purpose}|${k.parts.map((p) => `${p}=${part[p]}`).join(',')}|${length}`;
}

/** Items per forward pass at most. */
const MAX_BATCH_ITEMS = 64;

/**
 * The batching policy: which items (indices into `lengths`) go into each forward pass. Items are
 * sorted by length (ties by index). With `batchSize` every pass has that many items; otherwise
 * passes are filled greedily in length order while items × (longest item) stays within
 * `tokensPerBatch` padded tokens (and ≤ 64 items), so short sentences travel in bigger batches
 * and each batch spans a narrow length range. Exported for the benchmark's padding-waste figure.
 */
export function planBatches(
  lengths: number[],
  batchSize?: number,
  tokensPerBatch = DEFAULT_TOKENS_PER_BATCH,
): number[][] {
  const order = lengths.map((_, i) => i).sort((a, b) => lengths[a] - lengths[b] || a - b);
  const out: number[][] = [];
  if (batchSize) {
    for (let start = 0; start < order.length; start += batchSize) out.push(order.slice(start, start + batchSize));
    return out;
  }
  let cur: number[] = [];
  for (const i of order) {
    // lengths ascend, so the candidate is the batch's longest item
    if (cur.length && ((cur.length + 1) * lengths[i] > tokensPerBatch || cur.length >= MAX_BATCH_ITEMS)) {
      out.push(cur);
      cur = [];
    }
    cur.push(i);
  }
  if (cur.length) out.push(cur);
  return out;
}

function meanDims(layout: Layout, T: number): number[] {
  if (layout.kind === 'flat') return [layout.width];
  if (layout.kind === 'heads') return [layout.heads, layout.headDim];
  return [T, T];
}

/** One item's slice of a [B, ...] hook tensor with padding removed. */
function unpackItem(layout: Layout, t: ort.Tensor, b: number, T: number, L: number): Tensor {
  const data = t.data as Float32Array;
  if (layout.kind === 'flat' || layout.kind === 'heads') {
    const inner = layout.kind === 'flat' ? [layout.width] : [layout.heads, layout.headDim];
    const w = inner.reduce((x, y) => x * y, 1);
    return { dims: [L, ...inner], data: data.slice(b * T * w, (b * T + L) * w) };
  }
  const H = layout.heads;
  const outData = new Float32Array(H * L * L);
  for (let h = 0; h < H; h++)
    for (let q = 0; q < L; q++) {
      const src = ((b * H + h) * T + q) * T;
      outData.set(data.subarray(src, src + L), (h * L + q) * L);
    }
  return { dims: [H, L, L], data: outData };
}

/** Packs per-item unpadded hook tensors into the padded [B, ...] layout of the graph input. */
function packBatch(h: HookInfo, per: Tensor[], batch: Item[], T: number): ort.Tensor {
  const B = batch.length;
  const layout = h.layout;
  if (layout.kind === 'flat' || layout.kind === 'heads') {
    const inner = layout.kind === 'flat' ? [layout.width] : [layout.heads, layout.headDim];
    const w = inner.reduce((x, y) => x * y, 1);
    const data = new Float32Array(B * T * w);
    per.forEach((p, b) => {
      const L = batch[b].ids.length;
      if (!p) throw new RunError(`patch for '${h.name}': no value for item ${batch[b].id}`);
      if (p.data.length !== L * w)
        throw new RunError(
          `patch for '${h.name}', item ${batch[b].id}: expected ${L}×${inner.join('×')} values, got ${p.data.length}`,
        );
      data.set(p.data, b * T * w);
    });
    return new ort.Tensor('float32', data, [B, T, ...inner]);
  }
  const H = layout.heads;
  const data = new Float32Array(B * H * T * T);
  per.forEach((p, b) => {
    const L = batch[b].ids.length;
    if (p.data.length !== H * L * L)
      throw new RunError(
        `patch for '${h.name}', item ${batch[b].id}: expected ${H}×${L}×${L} values, got ${p.data.length}`,
      );
    for (let hh = 0; hh < H; hh++)
      for (let q = 0; q < L; q++)
        data.set(p.data.subarray((hh * L + q) * L, (hh * L + q + 1) * L), ((b * H + hh) * T + q) * T);
  });
  return new ort.Tensor('float32', data, [B, H, T, T]);
}
