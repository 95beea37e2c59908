/**
 * One writer per results store: an advisory lock file `<store>.lock` created exclusively
 * (open with O_CREAT|O_EXCL) and carrying the holder's pid, host and start time. A lock whose
 * process is dead on this host is recovered (and says so); one from another host is reported,
 * never stolen. Readers never take it.
 *
 * "Dead" includes a pid the kernel has since given to another process: on Linux the lock also
 * records the holder's boot id and its start time in clock ticks since boot (/proc/<pid>/stat), and
 * a live pid with another start time (or a lock from before a reboot) is not the holder.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';

export interface LockHolder {
  pid: number;
  host: string;
  started: string;
  command: string;
  /** Linux: /proc/sys/kernel/random/boot_id and field 22 of /proc/<pid>/stat when the lock was taken */
  boot?: string;
  ticks?: number;
}

export interface LockOptions {
  /** wait for the holder to finish instead of failing (polls); a number is the longest wait in ms */
  wait?: boolean | number;
  /** one-line notes (a recovered lock, waiting); default stderr */
  onNote?: (message: string) => void;
  /** poll interval while waiting, ms (default 500) */
  pollMs?: number;
}

export class StoreLockedError extends Error {}

const held = new Set<string>();
process.on('exit', () => {
  for (const f of held) {
    try {
      fs.unlinkSync(f);
    } catch {
      /* already gone */
    }
  }
});

/** This machine's boot id, or undefined where /proc has none. */
function bootId(): string | undefined {
  try {
    return fs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** When `pid` started, in clock ticks since boot (field 22 of /proc/<pid>/stat), or undefined. */
export function processStartTicks(pid: number): number | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // the command name (field 2) is in parentheses and may hold spaces: count from after its ')'
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[22 - 3]);
    return Number.isFinite(ticks) ? ticks : undefined;
  } catch {
    return undefined;
  }
}

/** Whether the process that wrote `h` (on this host) still runs. */
function alive(h: LockHolder): boolean {
  if (h.boot !== undefined && h.boot !== bootId()) return false; // taken before a reboot
  try {
    process.kill(h.pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  if (h.ticks === undefined) return true;
  const now = processStartTicks(h.pid);
  return now === undefined || now === h.ticks; // another start time: the pid was reused
}

function readHolder(lockFile: string): LockHolder | null {
  try {
    const v = JSON.parse(fs.readFileSync(lockFile, 'utf8'));
    return typeof v?.pid === 'number' && typeof v?.host === 'string' ? (v as LockHolder) : null;
  } catch {
    return null;
  }
}

const sleep = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

/** Try once: true when the lock file was created by us. */
function tryCreate(lockFile: string): boolean {
  let fd: number;
  try {
    fd = fs.openSync(lockFile, 'wx');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  }
  const me: LockHolder = {
    pid: process.pid,
    host: os.hostname(),
    started: new Date().toISOString(),
    command: process.argv.slice(1).join(' ').slice(0, 200),
    boot: bootId(),
    ticks: processStartTicks(process.pid),
  };
  try {
    fs.writeSync(fd, JSON.stringify(me) + '\n');
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  return true;
}

const reused = (h: LockHolder) =>
  h.boot !== undefined && h.boot !== bootId()
    ? ' (taken before this machine rebooted)'
    : processStartTicks(h.pid) !== undefined
      ? ` (pid ${h.pid} now belongs to another process)`
      : '';

const describe = (h: LockHolder) => `pid ${h.pid} on ${h.host} since ${h.started}${h.command ? ` (${h.command})` : ''}`;

/** Take the write lock of `store` (a results file); returns the function that releases it. */
export function lockStore(store: string, opts: LockOptions = {}): () => void {
  const lockFile = `${store}.lock`;
  const note = opts.onNote ?? ((m: string) => process.stderr.write(`results: ${m}\n`));
  const deadline =
    opts.wait === true ? Infinity : typeof opts.wait === 'number' ? Date.now() + opts.wait : -Infinity;
  const host = os.hostname();
  let waitingSaid = false;
  let unreadableSince: number | null = null;
  for (;;) {
    if (tryCreate(lockFile)) break;
    const h = readHolder(lockFile);
    if (h === null) {
      // being written by its creator right now, or left empty by a crash between create and write
      unreadableSince ??= Date.now();
      if (Date.now() - unreadableSince < 2000) {
        sleep(50);
        continue;
      }
      throw new StoreLockedError(
        `${store} is locked by ${lockFile}, which names no process; if no dirmag is writing this store, delete that file`,
      );
    }
    unreadableSince = null;
    if (h.pid === process.pid && h.host === host)
      throw new StoreLockedError(`${store} is already open for writing in this process (close that store first)`);
    if (h.host === host && !alive(h)) {
      // remove only if it is still the same dead holder's file
      if (readHolder(lockFile)?.started === h.started) {
        fs.rmSync(lockFile, { force: true });
        note(`${store}: recovered the lock left by ${describe(h)}, which is no longer running${reused(h)}`);
      }
      continue;
    }
    const who =
      h.host === host
        ? describe(h)
        : `${describe(h)} — another machine; if it no longer runs dirmag, delete ${lockFile}`;
    if (Date.now() >= deadline)
      throw new StoreLockedError(
        opts.wait
          ? `${store}: gave up waiting for the writer ${who}`
          : `${store} is being written by ${who}; wait for it (add --wait) or use another --results folder`,
      );
    if (!waitingSaid) note(`${store}: waiting for the writer ${who} to finish`);
    waitingSaid = true;
    sleep(opts.pollMs ?? 500);
  }
  held.add(lockFile);
  return () => {
    if (!held.delete(lockFile)) return;
    const h = readHolder(lockFile);
    if (h && h.pid === process.pid && h.host === host) fs.rmSync(lockFile, { force: true });
  };
}
