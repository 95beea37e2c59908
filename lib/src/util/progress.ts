/**
 * Progress for long loops, in a terminal and in notebooks alike: one line per update, at most
 * every `everySec` seconds (and at the end), with rate and ETA. Silenced by DIRMAG_PROGRESS=0.
 */
export class Progress {
  private done = 0;
  private last = 0;
  private readonly t0 = performance.now();

  constructor(
    private readonly label: string,
    private readonly total: number,
    private readonly everySec = 5,
    private readonly write: (line: string) => void = (l) => process.stderr.write(l + '\n'),
  ) {}

  tick(n = 1, note = ''): void {
    this.done += n;
    const now = performance.now();
    if (process.env.DIRMAG_PROGRESS === '0') return;
    if (this.done < this.total && (now - this.last) / 1000 < this.everySec) return;
    this.last = now;
    const sec = (now - this.t0) / 1000;
    const eta = this.done ? (sec / this.done) * (this.total - this.done) : NaN;
    const pct = this.total ? Math.floor((100 * this.done) / this.total) : 100;
    const width = 24;
    const bar = '#'.repeat(Math.round((width * pct) / 100)).padEnd(width, '.');
    this.write(
      `${this.label} [${bar}] ${this.done}/${this.total} ${pct}% ${fmt(sec)} elapsed${this.done < this.total ? `, eta ${fmt(eta)}` : ''}${note ? ` ${note}` : ''}`,
    );
  }
}

function fmt(sec: number): string {
  if (!Number.isFinite(sec)) return '?';
  if (sec < 60) return `${sec.toFixed(1)}s`;
  const m = Math.floor(sec / 60);
  return m < 60 ? `${m}m${Math.round(sec % 60)}s` : `${Math.floor(m / 60)}h${m % 60}m`;
}
