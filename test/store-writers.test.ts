/**
 * Results stores under several processes (issue 17): one writer at a time, a dead writer's lock,
 * readers during appends, duplicate keys from before locking, and a write failure mid-append.
 * Every test runs real child processes and asserts the exact records that survive.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ResultStore, parseResultsFile } from '../lib/src/results';
import { processStartTicks } from '../lib/src/results/lock';

const ROOT = path.resolve(__dirname, '..');
const CLI = path.join(ROOT, 'lib/dist/cli/main.js');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'dirmag-writers-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** the record a worker writes for condition i (deterministic, so survivors can be predicted) */
const rec = (i: number) => ({ key: `c${i}`, seed: 42 + i, loss: Math.sqrt(i) / 7, note: 'é'.repeat(i % 7) });
const line = (i: number) => JSON.stringify(rec(i)) + '\n';

// worker FILE N PAUSE_MS: open the store (WAIT=1: --wait), append every missing c0..c(N-1), pausing between appends
const WORKER = path.join(tmp, 'worker.ts');
fs.writeFileSync(
  WORKER,
  `
import { ResultStore } from ${JSON.stringify(path.join(ROOT, 'lib/src/results'))};
const [file, n, pause] = process.argv.slice(2).map((x, i) => (i ? Number(x) : x)) as [string, number, number];
const rec = ${rec.toString()};
let store: ResultStore;
try {
  store = new ResultStore(file, { wait: process.env.WAIT === '1', onRepair: (m) => console.log('NOTE ' + m) });
} catch (e) {
  console.log('REFUSED ' + (e as Error).message);
  process.exit(3);
}
console.log('OPEN ' + store.size);
let added = 0;
try {
  for (let i = 0; i < n; i++) {
    if (store.has('c' + i)) continue;
    store.append(rec(i));
    added++;
    if (pause) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, pause);
  }
} catch (e) {
  console.log('FAILED ' + (e as Error).message);
  process.exit(4);
}
store.close();
console.log('ADDED ' + added);
`,
);

function worker(file: string, n: number, pause: number, env: Record<string, string> = {}, shell?: string) {
  const argv = ['--import', 'tsx', WORKER, file, String(n), String(pause)];
  const child = shell
    ? spawn('bash', ['-c', `${shell}; exec "$0" "$@"`, process.execPath, ...argv], {
        cwd: ROOT,
        env: { ...process.env, ...env },
      })
    : spawn(process.execPath, argv, { cwd: ROOT, env: { ...process.env, ...env } });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const done = new Promise<{ code: number | null; out: string }>((resolve) =>
    child.on('close', (code) => resolve({ code, out })),
  );
  return { child, done, out: () => out };
}

const until = async (cond: () => boolean, what: string, ms = 60_000) => {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
};
const lines = (f: string) => (fs.existsSync(f) ? fs.readFileSync(f, 'utf8').split('\n').length - 1 : 0);
const expected = (n: number) => Array.from({ length: n }, (_, i) => line(i)).join('');

test('two writer processes on one store: the second is refused naming the first, or waits; no duplicate reaches the file', async () => {
  const f = path.join(tmp, 'two', 'E1.jsonl');
  const a = worker(f, 60, 40);
  await until(() => lines(f) >= 3, 'the first writer to append');
  const [b, c] = [worker(f, 60, 0), worker(f, 60, 0, { WAIT: '1' })];
  const rb = await b.done;
  assert.equal(rb.code, 3, rb.out);
  assert.match(
    rb.out,
    new RegExp(`REFUSED .*E1\\.jsonl is being written by pid ${a.child.pid} on ${os.hostname()} since .*add --wait`),
  );
  const ra = await a.done;
  const rc = await c.done;
  assert.equal(ra.code, 0, ra.out);
  assert.match(ra.out, /ADDED 60/);
  assert.equal(rc.code, 0, rc.out);
  assert.match(rc.out, new RegExp(`waiting for the writer pid ${a.child.pid} `));
  assert.match(rc.out, /OPEN 60\nADDED 0/, 'the waiting writer found every condition done');
  assert.equal(fs.readFileSync(f, 'utf8'), expected(60));
  assert.equal(fs.existsSync(`${f}.lock`), false);

  // both started together with --wait: whoever wins runs everything, the other nothing
  const g = path.join(tmp, 'two', 'E2.jsonl');
  const both = await Promise.all([worker(g, 25, 5, { WAIT: '1' }).done, worker(g, 25, 5, { WAIT: '1' }).done]);
  assert.deepEqual(
    both.map((r) => r.code),
    [0, 0],
  );
  assert.deepEqual(both.map((r) => /ADDED (\d+)/.exec(r.out)![1]).sort(), ['0', '25']);
  assert.equal(fs.readFileSync(g, 'utf8'), expected(25));
});

test("a dead process's lock is recovered and says so; another host's lock is reported, not stolen", async () => {
  const f = path.join(tmp, 'dead', 'E1.jsonl');
  fs.mkdirSync(path.dirname(f), { recursive: true });
  fs.writeFileSync(f, expected(4));
  const child = spawnSync(process.execPath, ['-e', 'console.log(process.pid)']);
  const pid = Number(child.stdout.toString());
  assert.ok(pid > 0);
  const lock = { pid, host: os.hostname(), started: '2026-01-01T00:00:00.000Z', command: 'dirmag sweep' };
  fs.writeFileSync(`${f}.lock`, JSON.stringify(lock));
  const r = await worker(f, 6, 0).done;
  assert.equal(r.code, 0, r.out);
  assert.match(
    r.out,
    new RegExp(`recovered the lock left by pid ${pid} on ${os.hostname()} since 2026-01-01.*no longer running`),
  );
  assert.match(r.out, /OPEN 4\nADDED 2/);
  assert.equal(fs.readFileSync(f, 'utf8'), expected(6));
  assert.equal(fs.existsSync(`${f}.lock`), false);

  // a pid the kernel gave to another process since: alive, but not started when the lock says
  const sleeper = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)']);
  try {
    const ticks = processStartTicks(sleeper.pid!);
    assert.ok(ticks !== undefined, 'this test needs /proc');
    const boot = fs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    const reusedLock = { ...lock, pid: sleeper.pid!, boot, ticks: ticks - 1 };
    fs.writeFileSync(`${f}.lock`, JSON.stringify(reusedLock));
    const rr = await worker(f, 6, 0).done;
    assert.equal(rr.code, 0, rr.out);
    assert.match(rr.out, new RegExp(`recovered the lock left by pid ${sleeper.pid}.*now belongs to another process`));
    // the same live process with its real start time holds the store
    fs.writeFileSync(`${f}.lock`, JSON.stringify({ ...reusedLock, ticks }));
    const rl = await worker(f, 6, 0).done;
    assert.equal(rl.code, 3, rl.out);
    assert.match(rl.out, new RegExp(`being written by pid ${sleeper.pid} on `));
    fs.rmSync(`${f}.lock`);
  } finally {
    sleeper.kill();
  }

  const remote = JSON.stringify({ ...lock, host: 'node17.cluster.example' });
  fs.writeFileSync(`${f}.lock`, remote);
  const r2 = await worker(f, 8, 0).done;
  assert.equal(r2.code, 3);
  assert.match(
    r2.out,
    /being written by pid \d+ on node17\.cluster\.example .*another machine; if it no longer runs dirmag, delete .*E1\.jsonl\.lock/,
  );
  assert.equal(fs.readFileSync(`${f}.lock`, 'utf8'), remote, 'not stolen');
  assert.equal(fs.readFileSync(f, 'utf8'), expected(6));
});

test('a reader opening the store while a writer appends: no error, no truncation, a prefix every time', async () => {
  const f = path.join(tmp, 'reader', 'E1.jsonl');
  const w = worker(f, 300, 0);
  let exited = false;
  void w.done.then(() => (exited = true));
  let reads = 0;
  let lastSize = 0;
  while (!exited) {
    const size = fs.existsSync(f) ? fs.statSync(f).size : 0;
    assert.ok(size >= lastSize, 'the file never shrinks');
    lastSize = size;
    const p = parseResultsFile(f);
    assert.deepEqual(
      p.records,
      Array.from({ length: p.records.length }, (_, i) => rec(i)),
    );
    reads++;
    await new Promise((r) => setImmediate(r));
  }
  assert.equal((await w.done).code, 0);
  assert.ok(reads > 1);
  assert.equal(fs.readFileSync(f, 'utf8'), expected(300));
  // a torn last line (a writer mid-append) is ignored by readers and left in place for the writer
  fs.appendFileSync(f, line(300).slice(0, 20));
  const size = fs.statSync(f).size;
  assert.equal(parseResultsFile(f).records.length, 300);
  assert.equal(fs.statSync(f).size, size);
});

test('a store with identical and with conflicting duplicate lines: deduplicated with a note; check and repair', () => {
  const f = path.join(tmp, 'dups', 'E1.jsonl');
  fs.mkdirSync(path.dirname(f), { recursive: true });
  const twice =
    line(0) +
    line(1) +
    line(2) +
    line(0) +
    JSON.stringify({ note: rec(1).note, loss: rec(1).loss, seed: rec(1).seed, key: 'c1' }) +
    '\n';
  fs.writeFileSync(f, twice);
  const notes: string[] = [];
  const s = new ResultStore(f, { onRepair: (m) => notes.push(m) });
  assert.deepEqual(s.records(), [rec(0), rec(1), rec(2)]);
  assert.equal(notes.length, 1);
  assert.match(
    notes[0],
    /2 key\(s\) stored more than once with identical content, kept once \('c0' lines 1,4; 'c1' lines 2,5\)/,
  );
  s.append(rec(3));
  s.close();
  assert.equal(fs.readFileSync(f, 'utf8'), twice + line(3));

  const conflicting = twice + line(3) + JSON.stringify({ ...rec(2), loss: 9 }) + '\n';
  fs.writeFileSync(f, conflicting);
  assert.throws(
    () => new ResultStore(f, { onRepair: () => {} }),
    /E1\.jsonl:7: key 'c2' conflicts with line 3 \(different content\); see them with `dirmag results check .*E1\.jsonl`, resolve with `dirmag results repair .*E1\.jsonl --keep first\|last\|none`/,
  );
  assert.equal(fs.existsSync(`${f}.lock`), false);
  const check = spawnSync(process.execPath, [CLI, 'results', 'check', f]);
  assert.equal(check.status, 1);
  assert.match(
    check.stdout.toString(),
    /7 line\(s\), 4 key\(s\); 2 identical duplicate\(s\) \(harmless\); 1 CONFLICTING key\(s\)\n  'c2' differs at lines 3, 7/,
  );

  const results: Record<string, string> = {
    first: line(0) + line(1) + line(2) + line(3),
    last: line(0) + line(1) + line(3) + JSON.stringify({ ...rec(2), loss: 9 }) + '\n',
    none: line(0) + line(1) + line(3),
  };
  for (const [keep, want] of Object.entries(results)) {
    fs.writeFileSync(f, conflicting);
    for (const b of fs.readdirSync(path.dirname(f)).filter((x) => x.includes('.bak-')))
      fs.rmSync(path.join(path.dirname(f), b));
    const r = spawnSync(process.execPath, [CLI, 'results', 'repair', f, '--keep', keep]);
    assert.equal(r.status, 0, r.stderr.toString());
    assert.equal(fs.readFileSync(f, 'utf8'), want, keep);
    const backups = fs.readdirSync(path.dirname(f)).filter((x) => x.startsWith('E1.jsonl.bak-'));
    assert.equal(backups.length, 1);
    assert.equal(fs.readFileSync(path.join(path.dirname(f), backups[0]), 'utf8'), conflicting, 'the old file is kept');
    assert.match(
      r.stdout.toString(),
      keep === 'none' ? /dropped \(rerun to recompute\): c2/ : /4 record\(s\) kept, 3 line\(s\) removed/,
    );
  }
  assert.deepEqual(
    fs.readdirSync(path.dirname(f)).filter((x) => x.endsWith('.tmp') || x.endsWith('.lock')),
    [],
  );
});

test('a write failure mid-append (file-size limit): clear error with the file and free space, stored records intact', async () => {
  const f = path.join(tmp, 'full', 'E1.jsonl');
  const limit = 4 * 1024; // ulimit -f 4 (1024-byte blocks in bash)
  let fit = 0;
  while (Buffer.byteLength(expected(fit + 1)) <= limit) fit++;
  assert.ok(fit > 5 && fit < 200, `${fit} records fit`);
  // SIGXFSZ ignored in the shell too; the store ignores it itself, so the write returns EFBIG
  const r = await worker(f, 400, 0, {}, "trap '' XFSZ; ulimit -f 4").done;
  assert.equal(r.code, 4, r.out);
  assert.match(
    r.out,
    new RegExp(
      `FAILED .*E1\\.jsonl: could not store 'c${fit}' \\(EFBIG.*\\); [\\d.]+ [kMGT]?B free there; the ${fit} record\\(s\\) stored before are intact`,
    ),
  );
  assert.equal(fs.readFileSync(f, 'utf8'), expected(fit), 'exactly the records written before the failure');
  assert.equal(fs.existsSync(`${f}.lock`), false);
  // without the limit the next run resumes and completes
  const again = await worker(f, fit + 3, 0).done;
  assert.match(again.out, new RegExp(`OPEN ${fit}\\nADDED 3`));
  assert.equal(fs.readFileSync(f, 'utf8'), expected(fit + 3));
});
