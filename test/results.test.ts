import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ResultStore, resultsPath, shard, parseShard, mergeResults, parseResultsFile } from '../lib/src/results';

const ROOT = path.resolve(__dirname, '..');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'dirmag-results-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));
const quiet = { onRepair: () => {} };

// A "run": for each condition c0..c(N-1) not yet stored, compute a record and append it. Each
// append is followed by a short pause so that the parent can kill the process mid-run.
// With TEAR_AT=k it writes half of record k's line and SIGKILLs itself (a torn append).
const WORKER = path.join(tmp, 'worker.ts');
fs.writeFileSync(
  WORKER,
  `
import * as fs from 'node:fs';
import { ResultStore } from ${JSON.stringify(path.join(ROOT, 'lib/src/results'))};
const [file, nText] = process.argv.slice(2);
const tearAt = process.env.TEAR_AT === undefined ? -1 : Number(process.env.TEAR_AT);
const store = new ResultStore(file, { onRepair: (m) => console.log('REPAIRED ' + m) });
for (let i = 0; i < Number(nText); i++) {
  const key = 'c' + i;
  if (store.has(key)) continue;
  const rec = { key, seed: 42 + i, delta: [1, 2, 5][i % 3], loss: Math.sqrt(i) / 7, note: 'é ' + 'x'.repeat(i % 50) };
  if (i === tearAt) {
    const line = JSON.stringify(rec) + '\\n';
    fs.appendFileSync(file, line.slice(0, line.length >> 1));
    process.kill(process.pid, 'SIGKILL');
  }
  store.append(rec);
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 3);
}
store.close();
console.log('DONE ' + store.size);
`,
);

function runWorker(file: string, n: number, opts: { killAfterLines?: number; env?: Record<string, string> } = {}) {
  return new Promise<{ code: number | null; signal: string | null; out: string }>((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', WORKER, file, String(n)], {
      cwd: ROOT,
      env: { ...process.env, ...opts.env },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    let timer: NodeJS.Timeout | undefined;
    if (opts.killAfterLines !== undefined) {
      const want = opts.killAfterLines;
      timer = setInterval(() => {
        const lines = fs.existsSync(file) ? fs.readFileSync(file, 'utf8').split('\n').length - 1 : 0;
        if (lines >= want) {
          clearInterval(timer);
          child.kill('SIGKILL');
        }
      }, 2);
    }
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (timer) clearInterval(timer);
      resolve({ code, signal, out });
    });
  });
}

test('SIGKILL mid-run, then resume: the file equals an uninterrupted run', async () => {
  const N = 200;
  const clean = path.join(tmp, 'clean', 'e1.jsonl');
  const r0 = await runWorker(clean, N);
  assert.equal(r0.code, 0);
  assert.match(r0.out, /DONE 200/);

  const crashed = path.join(tmp, 'crashed', 'e1.jsonl');
  const r1 = await runWorker(crashed, N, { killAfterLines: 40 });
  assert.equal(r1.signal, 'SIGKILL');
  const partial = parseResultsFile(crashed).records.length;
  assert.ok(partial >= 40 && partial < N, `killed after ${partial} records`);

  const r2 = await runWorker(crashed, N);
  assert.equal(r2.code, 0);
  assert.equal(fs.readFileSync(crashed, 'utf8'), fs.readFileSync(clean, 'utf8'));
  const keys = parseResultsFile(crashed).records.map((r) => r.key);
  assert.equal(new Set(keys).size, N);
});

test('a crash that tears the last line: reported and truncated on the next open, then completed', async () => {
  const N = 30;
  const clean = path.join(tmp, 'clean2.jsonl');
  await runWorker(clean, N);
  const torn = path.join(tmp, 'torn2.jsonl');
  const r1 = await runWorker(torn, N, { env: { TEAR_AT: '17' } });
  assert.equal(r1.signal, 'SIGKILL');
  assert.equal(parseResultsFile(torn).torn?.line, 18);
  const r2 = await runWorker(torn, N);
  assert.equal(r2.code, 0);
  assert.match(r2.out, /REPAIRED .*torn2\.jsonl: removed torn last line 18 \(\d+ bytes\)/);
  assert.equal(fs.readFileSync(torn, 'utf8'), fs.readFileSync(clean, 'utf8'));
});

test('torn last line repaired on open: missing newline, invalid JSON, trailing garbage', () => {
  const good = '{"key":"a","v":1}\n{"key":"b","v":2}\n';
  for (const tail of ['{"key":"c","v"', '{"key":"c","v":3}', '\0\0\0\0\n', 'nonsense\n']) {
    const f = path.join(tmp, 'repair.jsonl');
    fs.writeFileSync(f, good + tail);
    const msgs: string[] = [];
    const s = new ResultStore(f, { onRepair: (m) => msgs.push(m) });
    assert.equal(msgs.length, 1, JSON.stringify(tail));
    assert.match(msgs[0], /removed torn last line 3/);
    assert.equal(s.repaired, msgs[0]);
    assert.equal(fs.readFileSync(f, 'utf8'), good);
    assert.deepEqual(s.keys(), ['a', 'b']);
    s.append({ key: 'c', v: 3 });
    s.close();
    assert.equal(fs.readFileSync(f, 'utf8'), good + '{"key":"c","v":3}\n');
    const again = new ResultStore(f, { onRepair: () => assert.fail('no repair expected') });
    assert.equal(again.size, 3);
    again.close();
  }
});

test('store: has/get/append, duplicates and damage before the last line are errors', () => {
  const f = resultsPath('pythia-410m', 'e1', path.join(tmp, 'results'));
  assert.equal(f, path.join(tmp, 'results', 'pythia-410m', 'e1.jsonl'));
  assert.throws(() => resultsPath('../x', 'e1'), /invalid model name/);
  const s = new ResultStore(f, quiet);
  assert.equal(s.has('k1'), false);
  s.append({ key: 'k1', damage: 0.5, modes: ['a', 'b'] });
  assert.deepEqual(s.get('k1'), { key: 'k1', damage: 0.5, modes: ['a', 'b'] });
  assert.throws(() => s.append({ key: 'k1', damage: 1 }), /key 'k1' is already stored/);
  assert.throws(() => s.append({ key: 'k2', damage: NaN }), /field 'damage' is NaN/);
  assert.throws(() => s.append({ key: '' }), /non-empty string "key"/);
  s.close();
  assert.equal(fs.readFileSync(f, 'utf8'), '{"key":"k1","damage":0.5,"modes":["a","b"]}\n');

  const dup = path.join(tmp, 'dup.jsonl');
  fs.writeFileSync(dup, '{"key":"a"}\n{"key":"b"}\n{"key":"a","v":1}\n');
  assert.throws(() => new ResultStore(dup, quiet), /dup\.jsonl:3: key 'a' conflicts with line 1/);
  const mid = path.join(tmp, 'mid.jsonl');
  fs.writeFileSync(mid, '{"key":"a"}\n{"key":\n{"key":"b"}\n');
  assert.throws(() => new ResultStore(mid, quiet), /mid\.jsonl:2: invalid JSON \(not the last line/);
  assert.equal(fs.existsSync(`${mid}.lock`), false, 'a store that fails to open releases its lock');
});

test('shard: --shard k/n parsing, disjoint round-robin split', () => {
  assert.deepEqual(parseShard('2/3'), { k: 2, n: 3 });
  for (const bad of ['0/3', '4/3', '3', 'a/b', '1/0']) assert.throws(() => parseShard(bad), /--shard/);
  const conds = Array.from({ length: 10 }, (_, i) => `c${i}`);
  assert.deepEqual(shard(conds, 1, 3), ['c0', 'c3', 'c6', 'c9']);
  assert.deepEqual(shard(conds, 3, 3), ['c2', 'c5', 'c8']);
  const all = [1, 2, 3].flatMap((k) => shard(conds, k, 3));
  assert.deepEqual([...all].sort(), [...conds].sort());
  assert.equal(new Set(all).size, conds.length);
  assert.deepEqual(shard(conds, 1, 1), conds);
  assert.throws(() => shard(conds, 0, 3), /1 <= k <= n/);
});

test('merge: 3 shards equal the unsharded run; gaps, harmless and conflicting duplicates', () => {
  const conds = Array.from({ length: 25 }, (_, i) => ({ key: `s${i % 5}-d${Math.floor(i / 5)}`, i }));
  const compute = (c: { key: string; i: number }) => ({
    key: c.key,
    damage: c.i / 3,
    mode: c.i % 2 ? 'angle' : 'magnitude',
  });
  const full = new ResultStore(path.join(tmp, 'merge', 'full.jsonl'), quiet);
  for (const c of conds) full.append(compute(c));
  full.close();
  const files = [1, 2, 3].map((k) => {
    const s = new ResultStore(path.join(tmp, 'merge', `shard${k}.jsonl`), quiet);
    for (const c of shard(conds, k, 3)) s.append(compute(c));
    s.close();
    return s.file;
  });
  const keys = conds.map((c) => c.key);
  const m = mergeResults(files, keys);
  assert.deepEqual(m.records, full.records());
  assert.deepEqual([m.missing, m.unexpected, m.duplicates, m.torn], [[], [], [], []]);
  // without expected keys: every record once, in first-seen order
  assert.deepEqual(
    mergeResults(files)
      .records.map((r) => r.key)
      .sort(),
    [...keys].sort(),
  );

  // gaps: shard 2 never ran
  const gap = mergeResults([files[0], files[2]], keys);
  assert.deepEqual(gap.missing, shard(keys, 2, 3));
  assert.equal(gap.records.length, 25 - gap.missing.length);

  // the same record twice (field order ignored) is harmless; different content is an error
  const same = path.join(tmp, 'merge', 'same.jsonl');
  const r = compute(conds[1]);
  fs.writeFileSync(
    same,
    JSON.stringify({ mode: r.mode, damage: r.damage, key: r.key }) + '\n{"key":"extra","v":1}\n{"key":"x","v":',
  );
  const m2 = mergeResults([...files, same], keys);
  assert.deepEqual([m2.duplicates, m2.unexpected, m2.torn], [[r.key], ['extra'], [same]]);
  const conflict = path.join(tmp, 'merge', 'conflict.jsonl');
  fs.writeFileSync(conflict, JSON.stringify({ ...r, damage: 99 }) + '\n');
  assert.throws(
    () => mergeResults([...files, conflict], keys),
    /key 's1-d0' has conflicting results in .*shard2\.jsonl and .*conflict\.jsonl/,
  );
});
