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
import { ResultStore, resultsPath } from '../results';
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

  private constructor(
    readonly model: Model,
    readonly tokenizer: Tokenizer,
    readonly opts: StudyOptions,
  ) {}

  static async open(opts: StudyOptions): Promise<Study> {
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

  /** results folder name: the model's, with -quick for quick-mode runs */
  private get folder(): string {
    return this.quick ? `${this.name}-quick` : this.name;
  }

  /** The crash-safe JSONL store of one experiment (per shard when sharded). */
  store(experiment: string): ResultStore {
    const s = this.opts.shard;
    const file = resultsPath(
      this.folder,
      s ? `${experiment}.shard-${s.k}-of-${s.n}` : experiment,
      this.opts.resultsDir ?? resultsDir(),
    );
    let st = this.stores.get(file);
    if (!st) {
      st = new ResultStore(file);
      this.stores.set(file, st);
    }
    return st;
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

  resultsFile(experiment: string): string {
    return path.resolve(resultsPath(this.folder, experiment, this.opts.resultsDir ?? resultsDir()));
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
