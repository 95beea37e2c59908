/**
 * Crash-safe append-only results store, one file per (model, experiment):
 * results/<model>/<experiment>.jsonl. Each append is one complete line written by a single
 * write(2) on an O_APPEND descriptor and fsync'ed, so a crash can at worst tear the last line;
 * opening the store detects such a line, reports it and truncates it away.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseResultsFile, serializeRecord, type ResultRecord } from './jsonl';

export interface ResultStoreOptions {
  /** called with a one-line message when a torn last line is removed; default: write to stderr */
  onRepair?: (message: string) => void;
}

/** results/<model>/<experiment>.jsonl under `root` (default "results"). */
export function resultsPath(model: string, experiment: string, root = 'results'): string {
  for (const [what, v] of [['model', model], ['experiment', experiment]]) {
    if (!v || /[\\/]|^\.\.?$/.test(v)) throw new Error(`results path: invalid ${what} name '${v}'`);
  }
  return path.join(root, model, `${experiment}.jsonl`);
}

export class ResultStore {
  readonly file: string;
  /** the repair message when a torn last line was removed on open, else null */
  readonly repaired: string | null = null;
  private readonly byKey = new Map<string, ResultRecord>();
  private fd: number | null = null;

  constructor(file: string, opts: ResultStoreOptions = {}) {
    this.file = file;
    fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    const parsed = parseResultsFile(file);
    if (parsed.torn) {
      this.repaired = `${file}: removed torn last line ${parsed.torn.line} (${parsed.torn.bytes} bytes) left by an interrupted append`;
      fs.truncateSync(file, parsed.goodBytes);
      const fd = fs.openSync(file, 'r+');
      try {
        fs.fsyncSync(fd);
      } finally {
        fs.closeSync(fd);
      }
      (opts.onRepair ?? ((m: string) => process.stderr.write(`results: ${m}\n`)))(this.repaired);
    }
    for (const r of parsed.records) this.byKey.set(r.key, r);
  }

  get size(): number {
    return this.byKey.size;
  }

  has(key: string): boolean {
    return this.byKey.has(key);
  }

  get(key: string): ResultRecord | undefined {
    return this.byKey.get(key);
  }

  keys(): string[] {
    return [...this.byKey.keys()];
  }

  /** All records in file order. */
  records(): ResultRecord[] {
    return [...this.byKey.values()];
  }

  /** Durably append one record; its key must be new. */
  append(record: ResultRecord): void {
    const line = serializeRecord(record);
    if (this.byKey.has(record.key)) throw new Error(`${this.file}: key '${record.key}' is already stored`);
    if (this.fd === null) this.fd = fs.openSync(this.file, 'a');
    const bytes = Buffer.from(line, 'utf8');
    const n = fs.writeSync(this.fd, bytes);
    if (n !== bytes.length) throw new Error(`${this.file}: short write (${n} of ${bytes.length} bytes) for key '${record.key}'`);
    fs.fsyncSync(this.fd);
    this.byKey.set(record.key, JSON.parse(line) as ResultRecord);
  }

  close(): void {
    if (this.fd !== null) fs.closeSync(this.fd);
    this.fd = null;
  }
}
