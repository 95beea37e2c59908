/**
 * Crash-safe append-only results store, one file per (model, experiment):
 * results/<model>/<experiment>.jsonl. One writer at a time (the lock in ./lock); each append is
 * one complete line written by a single write(2) on an O_APPEND descriptor and fsync'ed, so a
 * crash can at worst tear the last line; the next writer's open removes such a line and says so.
 * Readers (parseResultsFile, mergeResults) take no lock and never modify the file.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseResultsFile, serializeRecord, type ResultRecord } from './jsonl';
import { lockStore, type LockOptions } from './lock';

export interface ResultStoreOptions {
  /** called with a one-line message when a torn last line is removed or duplicates are merged; default stderr */
  onRepair?: (message: string) => void;
  /** another process holds the store: wait for it (true, or at most this many ms) instead of failing */
  wait?: LockOptions['wait'];
  /** lock notes (recovered lock, waiting); default: onRepair */
  onNote?: (message: string) => void;
}

/** results/<model>/<experiment>.jsonl under `root` (default "results"). */
export function resultsPath(model: string, experiment: string, root = 'results'): string {
  for (const [what, v] of [
    ['model', model],
    ['experiment', experiment],
  ]) {
    if (!v || /[\\/]|^\.\.?$/.test(v)) throw new Error(`results path: invalid ${what} name '${v}'`);
  }
  return path.join(root, model, `${experiment}.jsonl`);
}

/** "1.2 GB free" for the filesystem holding `file` (or why it is unknown). */
export function freeSpace(file: string): string {
  try {
    const st = fs.statfsSync(path.dirname(path.resolve(file)));
    const bytes = st.bavail * st.bsize;
    const units = ['B', 'kB', 'MB', 'GB', 'TB'];
    let v = bytes;
    let u = 0;
    while (v >= 1000 && u < units.length - 1) (v /= 1000), u++;
    return `${u ? v.toFixed(1) : v} ${units[u]} free`;
  } catch (e) {
    return `free space unknown (${(e as Error).message})`;
  }
}

let xfszIgnored = false;
/** A file-size limit (ulimit -f) must surface as an EFBIG write error we can report, not kill the process. */
function ignoreSigxfsz(): void {
  if (xfszIgnored || process.platform === 'win32') return;
  xfszIgnored = true;
  process.on('SIGXFSZ', () => {});
}

export class ResultStore {
  readonly file: string;
  /** the repair message when a torn last line was removed on open, else null */
  readonly repaired: string | null = null;
  private readonly byKey = new Map<string, ResultRecord>();
  private fd: number | null = null;
  private release: (() => void) | null;
  private failed: Error | null = null;

  constructor(file: string, opts: ResultStoreOptions = {}) {
    this.file = file;
    const say = opts.onRepair ?? ((m: string) => process.stderr.write(`results: ${m}\n`));
    fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    ignoreSigxfsz();
    this.release = lockStore(file, { wait: opts.wait, onNote: opts.onNote ?? say });
    try {
      const parsed = parseResultsFile(file);
      if (parsed.torn) {
        this.repaired = `${file}: removed torn last line ${parsed.torn.line} (${parsed.torn.bytes} bytes) left by an interrupted append`;
        const fd = fs.openSync(file, 'r+');
        try {
          fs.ftruncateSync(fd, parsed.goodBytes);
          fs.fsyncSync(fd);
        } finally {
          fs.closeSync(fd);
        }
        say(this.repaired);
      }
      if (parsed.duplicates.length) {
        const d = parsed.duplicates;
        say(
          `${file}: ${d.length} key(s) stored more than once with identical content, kept once (${d
            .slice(0, 3)
            .map((x) => `'${x.key}' lines ${x.lines.join(',')}`)
            .join('; ')}${d.length > 3 ? ' …' : ''}); \`dirmag results repair ${file}\` rewrites the file without them`,
        );
      }
      for (const r of parsed.records) this.byKey.set(r.key, r);
    } catch (e) {
      this.close();
      throw e;
    }
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

  /** Durably append one record; its key must be new. A failed write stops the store (see `writeFailed`). */
  append(record: ResultRecord): void {
    if (this.failed) throw this.failed;
    if (!this.release) throw new Error(`${this.file}: store is closed`);
    const line = serializeRecord(record);
    if (this.byKey.has(record.key)) throw new Error(`${this.file}: key '${record.key}' is already stored`);
    const bytes = Buffer.from(line, 'utf8');
    let before = -1;
    try {
      if (this.fd === null) this.fd = fs.openSync(this.file, 'a');
      before = fs.fstatSync(this.fd).size;
      // a short write (e.g. at a file-size limit) is retried, so the real error (EFBIG, ENOSPC) surfaces
      for (let done = 0; done < bytes.length; ) {
        const n = fs.writeSync(this.fd, bytes, done);
        if (n <= 0) throw Object.assign(new Error(`short write (${done} of ${bytes.length} bytes)`), { code: 'EIO' });
        done += n;
      }
      fs.fsyncSync(this.fd);
    } catch (e) {
      throw this.writeFailed(record.key, e as NodeJS.ErrnoException, before);
    }
    this.byKey.set(record.key, JSON.parse(line) as ResultRecord);
  }

  /** Remove what the failed append left (we hold the lock), and say what happened. */
  private writeFailed(key: string, e: NodeJS.ErrnoException, before: number): Error {
    let tail = 'nothing of it remains in the file';
    if (before >= 0 && this.fd !== null) {
      try {
        fs.ftruncateSync(this.fd, before);
      } catch {
        tail = 'its partial line is removed by the next writer that opens the store';
      }
    }
    this.failed = new Error(
      `${this.file}: could not store '${key}' (${e.code ?? e.message}${e.code && e.message && !e.message.startsWith(e.code) ? `: ${e.message}` : ''}); ${freeSpace(this.file)} there; the ${this.byKey.size} record(s) stored before are intact and ${tail} — free space (or raise the file-size limit) and rerun to resume`,
    );
    return this.failed;
  }

  /** whether close() was called (records stay readable; appends need a new ResultStore) */
  get closed(): boolean {
    return this.release === null;
  }

  /** Release the file and the write lock; records() and get() keep working. */
  close(): void {
    if (this.fd !== null) fs.closeSync(this.fd);
    this.fd = null;
    this.release?.();
    this.release = null;
  }
}
