/**
 * Tensors kept on disk while an experiment reads them again and again: the clean values every
 * condition compares with (B1's captures of every layer, B2's attention patterns of every layer).
 * They grow with sentences × layers — 0.5 × the weights for B1 at the published 100 sentences on
 * 410M — and a run's memory must not (issue 18). One file per key in a private folder under the
 * system's temporary directory (`TMPDIR`), removed by `close()` or when the process exits; reads come
 * from the page cache, which the kernel gives back under pressure. A folder left by a process that
 * died without its exit handler (killed) is removed by the next spill.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Tensor } from '../engine/types';

/** a spill folder's name begins with this, then its process id and "-" */
export function spillPrefix(): string {
  return `dirmag-spill-${os.hostname()}-`;
}

/** Removes the spill folders of this host's processes that no longer run. */
function removeStale(): void {
  const prefix = spillPrefix();
  for (const name of fs.readdirSync(os.tmpdir())) {
    const pid = name.startsWith(prefix) ? Number(name.slice(prefix.length).split('-')[0]) : 0;
    if (!pid || pid === process.pid) continue;
    try {
      process.kill(pid, 0);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ESRCH')
        fs.rmSync(path.join(os.tmpdir(), name), { recursive: true, force: true });
    }
  }
}

export class TensorSpill {
  /** the folder of this spill's files */
  readonly dir: string;
  private readonly files = new Map<string, string>();
  private written = 0;
  private readonly onExit = () => fs.rmSync(this.dir, { recursive: true, force: true });

  constructor() {
    removeStale();
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), `${spillPrefix()}${process.pid}-`));
    process.once('exit', this.onExit);
  }

  has(key: string): boolean {
    return this.files.has(key);
  }

  /** Writes `tensors` under `key` (replacing what it held). */
  put(key: string, tensors: readonly Tensor[]): void {
    // [header bytes: u32][header: JSON dims][each tensor's float32 data] (get reads the data into its own array)
    const header = Buffer.from(JSON.stringify(tensors.map((t) => t.dims)));
    const lead = Buffer.alloc(4 + header.length);
    lead.writeUInt32LE(header.length, 0);
    header.copy(lead, 4);
    const file = this.files.get(key) ?? path.join(this.dir, `${this.written++}.f32`);
    const fd = fs.openSync(file, 'w');
    try {
      fs.writeSync(fd, lead);
      for (const t of tensors) fs.writeSync(fd, new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
    } finally {
      fs.closeSync(fd);
    }
    this.files.set(key, file);
  }

  /** The tensors written under `key`, as views of one fresh array. */
  get(key: string): Tensor[] {
    const file = this.files.get(key);
    if (!file) throw new Error(`spill: nothing written under '${key}'`);
    const fd = fs.openSync(file, 'r');
    try {
      const size = fs.fstatSync(fd).size;
      const lead = Buffer.alloc(4);
      fs.readSync(fd, lead, 0, 4, 0);
      const headerBytes = lead.readUInt32LE(0);
      const header = Buffer.alloc(headerBytes);
      fs.readSync(fd, header, 0, headerBytes, 4);
      const dims = JSON.parse(header.toString()) as number[][];
      // read straight into the float32 array (no second copy of the data)
      const all = new Float32Array((size - 4 - headerBytes) / 4);
      const bytes = new Uint8Array(all.buffer);
      for (let at = 0; at < bytes.length; ) {
        const n = fs.readSync(fd, bytes, at, bytes.length - at, 4 + headerBytes + at);
        if (n <= 0) throw new Error(`spill: ${file} is shorter than written`);
        at += n;
      }
      let at = 0;
      return dims.map((d) => {
        const n = d.reduce((a, b) => a * b, 1);
        const data = all.subarray(at, at + n);
        at += n;
        return { dims: d, data };
      });
    } finally {
      fs.closeSync(fd);
    }
  }

  /** Removes what `key` held. */
  delete(key: string): void {
    const file = this.files.get(key);
    if (file) fs.rmSync(file, { force: true });
    this.files.delete(key);
  }

  /** Removes the files. */
  close(): void {
    this.files.clear();
    process.removeListener('exit', this.onExit);
    this.onExit();
  }
}
