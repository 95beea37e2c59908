/**
 * The results store keeps what was paid for (issue 12): more seeds or a larger δ grid extend the
 * same store and run only the missing conditions; other sentences/layers go to a separate store
 * automatically (never refused, never mixed); `dirmag results` lists both with their settings.
 */
import { SHARED } from './test-data';
import test from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { Study } from '../lib/src/experiments/study';
import { runSweep, sweepSettings } from '../lib/src/experiments/e1-sweep';
import { parseResultsFile } from '../lib/src/results';
import { settingsId } from '../lib/src/experiments/store-settings';

const STORIES = path.join(SHARED, 'models/stories260k-hf');
const CLI = path.resolve(__dirname, '../lib/dist/cli/main.js');
process.env.DIRMAG_PROGRESS = '0';

test('8 vs 12 sentences land in two stores; more seeds and a larger δ grid run only the missing conditions', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dirmag-settings-'));
  assert.ok(fs.existsSync(STORIES), `test model at ${STORIES}`);
  const study = await Study.open({ model: STORIES, resultsDir: dir });
  const modes = [{ op: 'magnitude' as const, noise: 'legacy' as const }];
  const sweep = async (o: { sentences: number; seeds: number; deltas: number[] }) => {
    const s = await sweepSettings(study, { quick: true, modes, ...o });
    const recs = await runSweep(study, s);
    const file = study.resultsFile('E1');
    return { recs, file };
  };
  const a = await sweep({ sentences: 12, seeds: 1, deltas: [1] });
  assert.equal(path.basename(a.file), 'E1.jsonl');
  const first = fs.readFileSync(a.file, 'utf8');
  assert.equal(fs.existsSync(`${a.file}.lock`), false, 'the lock is released when the run ends, the Study still open');
  assert.deepEqual(
    a.recs.map((r) => r.key),
    ['baseline', 's0|d1|magnitude'],
  );

  // more seeds and a larger grid: same store, the old lines untouched, only the new keys appended
  const b = await sweep({ sentences: 12, seeds: 2, deltas: [1, 2] });
  assert.equal(b.file, a.file);
  const grown = fs.readFileSync(a.file, 'utf8');
  assert.ok(grown.startsWith(first), 'stored conditions are reused, not rerun');
  assert.deepEqual(
    parseResultsFile(a.file).records.map((r) => r.key),
    ['baseline', 's0|d1|magnitude', 's0|d2|magnitude', 's1|d1|magnitude', 's1|d2|magnitude'],
  );

  // 8 sentences: a second store named by the settings, never refused, never mixed
  const c = await sweep({ sentences: 8, seeds: 1, deltas: [1] });
  const fp = String(c.recs[0].fingerprint);
  assert.equal(path.basename(c.file), `E1@${settingsId(fp)}.jsonl`);
  assert.deepEqual(
    c.recs.map((r) => [r.key, r.sentences]),
    [
      ['baseline', 8],
      ['s0|d1|magnitude', 8],
    ],
  );
  assert.ok(parseResultsFile(a.file).records.every((r) => r.sentences === 12));
  assert.equal(fs.readFileSync(a.file, 'utf8'), grown, 'the 12-sentence store is untouched');
  // back to 12 sentences: the default store again, nothing to run
  const d = await sweep({ sentences: 12, seeds: 2, deltas: [1, 2] });
  assert.equal(d.file, a.file);
  assert.equal(fs.readFileSync(a.file, 'utf8'), grown);
  study.close();

  const r = spawnSync(process.execPath, [CLI, 'results', '--results', dir]);
  assert.equal(r.status, 0, r.stderr.toString());
  const out = r.stdout.toString();
  assert.match(out, /stories260k-hf\/E1\.jsonl: 5 record\(s\); settings: .*sentences 12/);
  assert.match(
    out,
    new RegExp(`stories260k-hf/E1@${settingsId(fp)}\\.jsonl: 2 record\\(s\\); settings: .*sentences 8`),
  );
  fs.rmSync(dir, { recursive: true, force: true });
});

test('two `dirmag sweep` processes on one results folder: the second is refused naming the first, --wait resumes; no duplicate key', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dirmag-two-sweeps-'));
  const args = ['sweep', '--model', STORIES, '--quick', '--seeds', '6', '--results', dir];
  const file = path.join(dir, 'stories260k-hf-quick', 'E1.jsonl');
  const start = (extra: string[] = []) => {
    const child = spawn(process.execPath, [CLI, ...args, ...extra], { env: { ...process.env, DIRMAG_PROGRESS: '0' } });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    return {
      child,
      done: new Promise<{ code: number | null; out: string }>((r) => child.on('close', (code) => r({ code, out }))),
    };
  };
  const a = start();
  for (let t0 = Date.now(); !(fs.existsSync(file) && fs.readFileSync(file, 'utf8').split('\n').length > 2); ) {
    assert.ok(Date.now() - t0 < 120_000, 'the first sweep starts writing');
    await new Promise((r) => setTimeout(r, 20));
  }
  const b = await start().done;
  assert.equal(b.code, 1, b.out);
  assert.match(
    b.out,
    new RegExp(`dirmag: .*E1\\.jsonl is being written by pid ${a.child.pid} on ${os.hostname()} since .*add --wait`),
  );
  const c = start(['--wait']);
  const [ra, rc] = [await a.done, await c.done];
  assert.equal(ra.code, 0, ra.out);
  assert.equal(rc.code, 0, rc.out);
  assert.match(rc.out, /waiting for the writer pid/);
  const keys = fs
    .readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l).key);
  assert.equal(keys.length, 1 + 6 * 6 * 2, 'baseline + seeds × δ × operators');
  assert.equal(new Set(keys).size, keys.length, 'no key twice');
  fs.rmSync(dir, { recursive: true, force: true });
});
