/**
 * Study: what every experiment needs — the model and its tokenizer, the results store, and the
 * environment recorded with every result.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as os from 'node:os';
import { loadModel } from '../engine/load';
import { resolveTokenizer } from '../hub';
import { checkTokenizerFits } from '../engine/diagnose';
import { Model, Provider } from '../engine/model';
import { Tokenizer, loadTokenizer } from '../data';
import { ResultStore, parseResultsFile, resultsPath } from '../results';
import { settingsStem } from './store-settings';
import { checkGridOptions } from './settings';
import { resultsDir } from '../util/paths';

export interface StudyOptions {
  /** hub id or local checkpoint folder */
  model: string;
  /** tokenizer folder or id (default: the model's own folder) */
  tokenizer?: string;
  provider?: Provider;
  /** root of results/ (default: $DIRMAG_RESULTS, else results/ at the repo root) */
  resultsDir?: string;
  /** small-model settings (scaled δ, fewer sentences and seeds); results go to results/<model>-quick/ */
  quick?: boolean;
  /** `k/n`: run only the k-th of n disjoint parts of every sweep */
  shard?: { k: number; n: number };
  /** a results store held by another process: wait for it (true, or at most this many ms) instead of failing */
  wait?: boolean | number;
  /** caps on every experiment's default counts (e.g. `reproduce --sentences 4`): a reduced, not comparable run */
  reduced?: Reduced;
}

/** Caps on the counts every experiment defaults to; explicit per-experiment settings are not capped. */
export interface Reduced {
  sentences?: number;
  seeds?: number;
  /** BLiMP pairs per paradigm */
  perParadigm?: number;
}

export interface Environment {
  dirmag: string;
  node: string;
  onnxruntime: string;
  provider: Provider;
  platform: string;
  cpus: string;
  model: string;
  modelDir: string;
  revision: string | null;
}

export class Study {
  private stores = new Map<string, ResultStore>();
  private memo = new Map<string, Promise<unknown>>();
  /** experiment → the store name this study uses for it (`E1`, or `E1@id` for other settings) */
  private stems = new Map<string, string>();

  private constructor(
    readonly model: Model,
    readonly tokenizer: Tokenizer,
    readonly opts: StudyOptions,
  ) {}

  static async open(opts: StudyOptions): Promise<Study> {
    checkGridOptions(opts.reduced ?? {});
    const model = await loadModel(opts.model, { provider: opts.provider });
    const tokenizer = await loadTokenizer(opts.tokenizer ? await resolveTokenizer(opts.tokenizer) : model.dir);
    checkTokenizerFits(tokenizer.vocabSize, model.cfg.vocabSize, `tokenizer ${opts.tokenizer ?? model.dir}`);
    return new Study(model, tokenizer, opts);
  }

  /** A value computed once per study (e.g. the quick-mode δ scale, which needs a clean pass). */
  once<T>(key: string, make: () => Promise<T>): Promise<T> {
    if (!this.memo.has(key)) this.memo.set(key, make());
    return this.memo.get(key) as Promise<T>;
  }

  get name(): string {
    return this.model.name;
  }

  get quick(): boolean {
    return !!this.opts.quick;
  }

  /** An experiment's default count, capped by the reduced settings (`opts.reduced`). */
  cap(kind: keyof Reduced, n: number): number {
    const c = this.opts.reduced?.[kind];
    return c === undefined ? n : Math.min(n, c);
  }

  /** The reduced settings in words ("at most 4 sentences, 1 seed"), or null for a full run. */
  get reduced(): string | null {
    const r = this.opts.reduced ?? {};
    const parts = [
      r.sentences !== undefined ? `at most ${r.sentences} sentence(s)` : '',
      r.seeds !== undefined ? `at most ${r.seeds} seed(s)` : '',
      r.perParadigm !== undefined ? `at most ${r.perParadigm} BLiMP pair(s) per paradigm` : '',
    ].filter(Boolean);
    return parts.length ? parts.join(', ') : null;
  }

  /** One line for a notebook's first output: the model's shape, where it runs, quick mode. */
  describe(): string {
    const c = this.model.cfg;
    const heads = c.nKvHeads === c.nHeads ? `${c.nHeads} heads` : `${c.nHeads} heads (${c.nKvHeads} KV)`;
    const residual = c.parallelResidual ? 'parallel' : 'sequential';
    return (
      `model ${this.name}: ${c.modelType}, ${c.nLayers} layers, d=${c.dModel}, ${heads}, ${c.norm}, ` +
      `${residual} residual, checkpoint ${c.dtype} computed in float32, provider ${this.model.provider}` +
      (this.quick ? ' (quick mode)' : '') +
      (this.reduced ? ` (reduced: ${this.reduced})` : '')
    );
  }

  /** results folder name: the model's, with -quick for quick-mode runs */
  private get folder(): string {
    return this.quick ? `${this.name}-quick` : this.name;
  }

  /** tables/, figures/ and REPORT name of this run: the results folder's, with -reduced for a reduced run */
  get outputName(): string {
    return this.reduced ? `${this.folder}-reduced` : this.folder;
  }

  /**
   * The crash-safe JSONL store of one experiment (per shard when sharded), opened for writing.
   * With the run's settings fingerprint: the store holding those settings — `<experiment>.jsonl`
   * when it is free or holds them, else `<experiment>@<id>.jsonl` (never refused, never mixed).
   * Without: the store this study already uses for the experiment, else `<experiment>.jsonl`.
   * The write lock is held until the store is closed (runConditions closes it when its loop ends,
   * so a notebook kernel that keeps its Study does not block a terminal run).
   */
  store(experiment: string, fingerprint?: string): ResultStore {
    const stem = fingerprint ? this.stemFor(experiment, fingerprint) : (this.stems.get(experiment) ?? experiment);
    this.stems.set(experiment, stem);
    const file = this.file(stem, true);
    let st = this.stores.get(file);
    if (!st || st.closed) {
      st = new ResultStore(file, { wait: this.opts.wait });
      this.stores.set(file, st);
    }
    return st;
  }

  private file(stem: string, sharded: boolean): string {
    const s = sharded ? this.opts.shard : undefined;
    return path.resolve(
      resultsPath(this.folder, s ? `${stem}.shard-${s.k}-of-${s.n}` : stem, this.opts.resultsDir ?? resultsDir()),
    );
  }

  private stemFor(experiment: string, fingerprint: string): string {
    const other = settingsStem(experiment, fingerprint);
    if (fs.existsSync(this.file(other, true))) return other;
    // the default store (and, for a shard, the merged file it will join) must be free or hold these settings
    for (const f of new Set([this.file(experiment, true), this.file(experiment, false)])) {
      const first = parseResultsFile(f).records[0] as { fingerprint?: unknown } | undefined;
      if (first && first.fingerprint !== fingerprint) return other;
    }
    return experiment;
  }

  /** All condition keys of a sweep (every shard writes the same list), for `dirmag merge`. */
  writeManifest(experiment: string, keys: string[]): void {
    if (!this.opts.shard) return;
    const file = this.resultsFile(experiment).replace(/\.jsonl$/, '.manifest.json');
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify({ experiment, keys }, null, 1));
    fs.renameSync(tmp, file);
  }

  /** The (merged, unsharded) results file of an experiment: the store this study uses for it. */
  resultsFile(experiment: string): string {
    return this.file(this.stems.get(experiment) ?? experiment, false);
  }

  /** Every store this study used: experiment, file, record count and first record (for reports: which settings). */
  openedStores(): { experiment: string; file: string; records: number; first: Record<string, unknown> | undefined }[] {
    return [...this.stems].map(([experiment, stem]) => {
      const file = this.file(stem, !!this.opts.shard);
      const recs = parseResultsFile(file).records;
      return { experiment, file, records: recs.length, first: recs[0] as Record<string, unknown> | undefined };
    });
  }

  /** Whether condition number `index` (in a sweep's fixed order) belongs to this process's shard. */
  mine(index: number): boolean {
    const s = this.opts.shard;
    return !s || index % s.n === s.k - 1;
  }

  environment(): Environment {
    const ort = require('onnxruntime-node/package.json').version as string;
    return {
      dirmag: require('../../package.json').version,
      node: process.version,
      onnxruntime: ort,
      provider: this.model.provider,
      platform: `${os.platform()} ${os.arch()}`,
      cpus: `${os.cpus().length}× ${os.cpus()[0]?.model ?? '?'}`,
      model: this.opts.model,
      modelDir: this.model.dir,
      revision: this.model.revision,
    };
  }

  close(): void {
    for (const s of this.stores.values()) s.close();
    this.stores.clear();
  }
}
