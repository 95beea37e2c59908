/**
 * Download progress: bytes, rate and ETA of every hub download (models and datasets). By default it
 * goes to stderr: in a terminal one line rewritten in place, otherwise (logs, CI, notebooks' stderr)
 * one line per 5% of the file. `onDownloadProgress(listener)` sends the updates elsewhere instead
 * (notebooks: `onDownloadProgress(progressLines(console.log))`); DIRMAG_PROGRESS=0 silences stderr.
 */

export interface DownloadUpdate {
  /** what is downloaded, e.g. `EleutherAI/pythia-410m/model.safetensors@main` */
  file: string;
  /** bytes of the file on disk now (resumed bytes included) */
  done: number;
  /** the file's size, null when the hub did not say */
  total: number | null;
  /** bytes that were already there from an interrupted download (0 for a fresh one) */
  resumedFrom: number;
  /** bytes per second over this download (resumed bytes excluded) */
  rate: number;
  /** seconds left at that rate, null when unknown */
  etaSec: number | null;
  finished: boolean;
}

export type DownloadListener = (u: DownloadUpdate) => void;

let listener: DownloadListener | null = null;

/** Sends every download's updates to `fn` (null: back to stderr); returns the previous listener. */
export function onDownloadProgress(fn: DownloadListener | null): DownloadListener | null {
  const prev = listener;
  listener = fn;
  return prev;
}

/** `file: 412.3 MB / 911.0 MB (45%), 38.2 MB/s, eta 13s (resumed at 200.0 MB)` */
export function formatDownload(u: DownloadUpdate): string {
  const size = u.total === null ? bytes(u.done) : `${bytes(u.done)} / ${bytes(u.total)}`;
  const pct = u.total ? ` (${Math.floor((100 * u.done) / u.total)}%)` : '';
  const speed = `${bytes(u.rate)}/s`;
  const tail = u.finished ? 'done' : `eta ${u.etaSec === null ? '?' : duration(u.etaSec)}`;
  const resumed = u.resumedFrom > 0 ? ` (resumed at ${bytes(u.resumedFrom)})` : '';
  return `${u.file}: ${size}${pct}, ${speed}, ${tail}${resumed}`;
}

/** A listener writing one line when a download starts, at every `stepPct` percent, and when it ends. */
export function progressLines(write: (line: string) => void, stepPct = 5): DownloadListener {
  const lastStep = new Map<string, number>();
  return (u) => {
    if (!u.finished && u.total !== null && u.done >= u.total) return; // the final line says it
    const step = u.total ? Math.floor((100 * u.done) / u.total / stepPct) : Math.floor(u.done / 2 ** 26);
    const prev = lastStep.get(u.file);
    if (prev !== undefined && step === prev && !u.finished) return;
    lastStep.set(u.file, step);
    if (u.finished) lastStep.delete(u.file);
    write(formatDownload(u));
  };
}

/** The default: a line rewritten in place on a terminal, else progressLines on stderr. */
function stderrListener(): DownloadListener {
  if (!process.stderr.isTTY) return progressLines((l) => process.stderr.write(l + '\n'));
  let last = 0;
  return (u) => {
    const now = performance.now();
    if (!u.finished && now - last < 250) return;
    last = now;
    process.stderr.write(`\r\x1b[K${formatDownload(u)}${u.finished ? '\n' : ''}`);
  };
}

let defaultListener: DownloadListener | null = null;

/** Reports one download: `update(done)` as bytes arrive, `finish()` at the end. */
export class DownloadReporter {
  private readonly t0 = performance.now();
  private readonly send: DownloadListener | null;

  constructor(
    private readonly file: string,
    private readonly total: number | null,
    private readonly resumedFrom: number,
  ) {
    this.send = listener ?? (process.env.DIRMAG_PROGRESS === '0' ? null : (defaultListener ??= stderrListener()));
    this.update(resumedFrom);
  }

  update(done: number, finished = false): void {
    if (!this.send) return;
    const sec = Math.max((performance.now() - this.t0) / 1000, 1e-3);
    const rate = (done - this.resumedFrom) / sec;
    const etaSec = this.total !== null && rate > 0 ? (this.total - done) / rate : null;
    this.send({ file: this.file, done, total: this.total, resumedFrom: this.resumedFrom, rate, etaSec, finished });
  }

  finish(done: number): void {
    this.update(done, true);
  }
}

function bytes(n: number): string {
  if (n < 1e3) return `${Math.round(n)} B`;
  if (n < 1e6) return `${(n / 1e3).toFixed(1)} kB`;
  if (n < 1e9) return `${(n / 1e6).toFixed(1)} MB`;
  return `${(n / 1e9).toFixed(2)} GB`;
}

function duration(sec: number): string {
  if (sec < 60) return `${Math.ceil(sec)}s`;
  const m = Math.floor(sec / 60);
  return m < 60 ? `${m}m${Math.round(sec % 60)}s` : `${Math.floor(m / 60)}h${m % 60}m`;
}
