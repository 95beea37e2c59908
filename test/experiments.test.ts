/**
 * Main-result experiments (issue 3) on the small pretrained stories260k model in quick mode:
 * shards merge to the unsharded result, reruns resume, bad input fails before any work, and the
 * statistics/scoring code gives hand-computed answers on synthetic records.
 */
import './test-data';
import test from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { Study } from '../lib/src/experiments/study';
import { runSweep, sweepSettings, SweepRecord } from '../lib/src/experiments/e1-sweep';
import { summarizeE1 } from '../lib/src/experiments/e1-stats';
import { scorePairs, summarizeBlimp, BlimpRecord } from '../lib/src/experiments/e2-blimp';
import { hookCheck } from '../lib/src/experiments/hook-check';
import { middleLayers, seedFor, seedRange } from '../lib/src/experiments/settings';
import { parseResultsFile } from '../lib/src/results';

const SHARED = process.env.DIRMAG_SHARED ?? path.resolve(__dirname, '../../shared');
const STORIES = path.join(SHARED, 'models/stories260k-hf');
const CLI = path.resolve(__dirname, '../lib/dist/cli/main.js');
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'dirmag-exp-'));
process.env.DIRMAG_PROGRESS = '0';

/** records without the fields that legitimately differ between runs (timing, environment) */
function stable(file: string): Record<string, unknown>[] {
  return parseResultsFile(file)
    .records.map(({ seconds, env, ...rest }) => rest)
    .sort((a, b) => String(a.key).localeCompare(String(b.key)));
}

test('middle layers scale the published 8–15 of 24', () => {
  assert.deepEqual(middleLayers(24), [8, 9, 10, 11, 12, 13, 14, 15]);
  assert.deepEqual(middleLayers(5), [1, 2]);
  assert.deepEqual(middleLayers(2), [0]);
});

test('Cell 3 hook check: every operator matches δ on average; legacy angle spreads per token', async () => {
  const rows = await hookCheck(1024);
  for (const r of rows)
    assert.ok(Math.abs(r.meanDisp - r.delta) < 1e-3 * r.delta, `${r.op} δ=${r.delta}: mean ${r.meanDisp}`);
  for (const r of rows.filter((x) => x.op !== 'angle_legacy'))
    assert.ok(r.maxDisp - r.minDisp < 1e-3 * r.delta, `${r.op} is per-token exact`);
  const legacy = rows.find((x) => x.op === 'angle_legacy' && x.delta === 5)!;
  assert.ok(legacy.maxDisp - legacy.minDisp > 0.05, 'legacy angle is only mean-matched');
  for (const r of rows.filter((x) => x.op !== 'magnitude')) assert.ok(r.normChange < 1e-5, `${r.op} keeps norms`);
});

test('E1 sweep as 3 shards merged equals the unsharded run; a rerun resumes without recomputing', async () => {
  const whole = tmp();
  const sharded = tmp();
  const args = ['sweep', '--model', STORIES, '--quick', '--seeds', '2', '--deltas', '1,5,20'];
  execFileSync('node', [CLI, ...args, '--results', whole]);
  for (const k of [1, 2, 3]) execFileSync('node', [CLI, ...args, '--results', sharded, '--shard', `${k}/3`]);
  const out = execFileSync('node', [
    CLI,
    'merge',
    '--model',
    'stories260k-hf-quick',
    '--experiment',
    'E1',
    '--results',
    sharded,
  ]).toString();
  assert.match(out, /13 in total/);
  assert.deepEqual(
    stable(path.join(sharded, 'stories260k-hf-quick/E1.jsonl')),
    stable(path.join(whole, 'stories260k-hf-quick/E1.jsonl')),
  );
  // resume: a second run appends nothing
  const file = path.join(whole, 'stories260k-hf-quick/E1.jsonl');
  const before = fs.readFileSync(file, 'utf8');
  execFileSync('node', [CLI, ...args, '--results', whole]);
  assert.equal(fs.readFileSync(file, 'utf8'), before);
});

test('a sweep killed with SIGKILL mid-run and started again equals an uninterrupted run', async () => {
  const whole = tmp();
  const killed = tmp();
  const args = ['sweep', '--model', STORIES, '--quick', '--seeds', '3', '--deltas', '1,2,5,10'];
  execFileSync('node', [CLI, ...args, '--results', whole]);
  const file = path.join(killed, 'stories260k-hf-quick/E1.jsonl');
  const child = spawn('node', [CLI, ...args, '--results', killed], { stdio: 'ignore' });
  // kill once a few conditions are stored (but not all 25)
  await new Promise<void>((resolve, reject) => {
    const t0 = Date.now();
    const poll = setInterval(() => {
      const n = fs.existsSync(file) ? fs.readFileSync(file, 'utf8').split('\n').length - 1 : 0;
      if (n >= 4) {
        child.kill('SIGKILL');
        clearInterval(poll);
        resolve();
      } else if (Date.now() - t0 > 60_000) reject(new Error('sweep child wrote nothing in 60 s'));
    }, 5);
  });
  await new Promise((r) => child.on('exit', r));
  const partial = parseResultsFile(file).records.length;
  assert.ok(partial >= 4 && partial < 25, `killed after ${partial} records`);
  execFileSync('node', [CLI, ...args, '--results', killed]);
  const lines = fs.readFileSync(file, 'utf8').split('\n').filter(Boolean);
  assert.equal(new Set(lines.map((l) => JSON.parse(l).key)).size, lines.length, 'no duplicate keys');
  assert.deepEqual(stable(file), stable(path.join(whole, 'stories260k-hf-quick/E1.jsonl')));
});

test('merge reports a gap when a shard is missing', () => {
  const dir = tmp();
  const args = ['sweep', '--model', STORIES, '--quick', '--seeds', '1', '--deltas', '1,5', '--results', dir];
  execFileSync('node', [CLI, ...args, '--shard', '1/2']);
  const r = spawnSync('node', [
    CLI,
    'merge',
    '--model',
    'stories260k-hf-quick',
    '--experiment',
    'E1',
    '--results',
    dir,
  ]);
  assert.equal(r.status, 1);
  assert.match(r.stdout.toString(), /missing 2 condition/);
});

test('same seed gives the same damages whatever the batch size', async () => {
  const dirs = [tmp(), tmp()];
  const recs: SweepRecord[][] = [];
  for (const [i, bs] of [1, 7].entries()) {
    const study = await Study.open({ model: STORIES, resultsDir: dirs[i] });
    const orig = study.model.runWithHooks.bind(study.model);
    study.model.runWithHooks = (items, p, opts = {}) => orig(items, p, { ...opts, batchSize: bs });
    const s = await sweepSettings(study, { quick: true, seeds: 1, deltas: [5], sentences: 9 });
    s.modes = [...s.modes, { op: 'angle_exact', noise: 'independent' }];
    recs.push(await runSweep(study, s));
    study.close();
  }
  const byKey = (rs: SweepRecord[]) => Object.fromEntries(rs.map((r) => [r.key, r.losses]));
  const [a, b] = recs.map(byKey);
  for (const k of Object.keys(a)) a[k].forEach((x, i) => assert.ok(Math.abs(x - b[k][i]) < 1e-5, `${k}[${i}]`));
});

test('bad input fails with a clear error before any work starts', async () => {
  const dir = tmp();
  const study = await Study.open({ model: STORIES, resultsDir: dir });
  const s = await sweepSettings(study, { quick: true, seeds: 1 });
  await assert.rejects(
    runSweep(study, { ...s, layers: [1, 9] }),
    /layer 9 does not exist: this model has layers 0\.\.4/,
  );
  await assert.rejects(
    runSweep(study, { ...s, modes: [{ op: 'angle_exact', noise: 'legacy' }], deltas: [100] }),
    /exact angle: δ = 100 exceed 2·min‖h‖/,
  );
  const empty = path.join(dir, 'empty.raw');
  fs.writeFileSync(empty, '= heading =\nshort.\n');
  await assert.rejects(runSweep(study, { ...s, wikitextFile: empty }), /empty/);
  assert.equal(fs.existsSync(path.join(dir, 'stories260k-hf/E1.jsonl')), false, 'nothing was written');
  // other settings go to their own store, never mixed (test/store-settings.test.ts has the details)
  await runSweep(study, { ...s, deltas: [s.deltas[0]], publishedDeltas: [1], modes: [s.modes[0]] });
  const other = await runSweep(study, {
    ...s,
    sentences: 5,
    deltas: [s.deltas[0]],
    publishedDeltas: [1],
    modes: [s.modes[0]],
  });
  assert.ok(other.every((r) => r.sentences === 5));
  assert.match(study.resultsFile('E1'), /E1@[0-9a-f]{8}\.jsonl$/);
  study.close();
  const r = spawnSync('node', [CLI, 'sweep', '--model', STORIES, '--quick', '--deltas', '1,x']);
  assert.notEqual(r.status, 0);
  assert.match(r.stderr.toString(), /--deltas: '1,x' is not a comma-separated list of numbers/);
});

test('E1 statistics on synthetic records match hand computation', () => {
  const losses = (v: number) => [v, v + 0.2];
  const recs: SweepRecord[] = [
    { key: 'baseline', kind: 'baseline', losses: [1, 1.2], loss: 1.1, seconds: 0 },
    ...[0, 1, 2].flatMap((s) => [
      {
        key: `s${s}|d1|magnitude`,
        kind: 'condition' as const,
        seedIndex: s,
        publishedDelta: 1,
        delta: 1,
        mode: 'magnitude',
        losses: losses(1 + 0.1 * (s + 1)),
        loss: 1.2 + 0.1 * s,
        seconds: 0,
      },
      {
        key: `s${s}|d1|a`,
        kind: 'condition' as const,
        seedIndex: s,
        publishedDelta: 1,
        delta: 1,
        mode: 'angle_legacy/legacy',
        losses: losses(2 + 0.1 * s),
        loss: 2.1 + 0.1 * s,
        seconds: 0,
      },
    ]),
  ];
  const e = summarizeE1(recs);
  const row = e.rows[0];
  // damages: magnitude 0.1, 0.2, 0.3; angle 1.0, 1.1, 1.2
  row.magnitude.perSeed.forEach((x, i) => assert.ok(Math.abs(x - [0.1, 0.2, 0.3][i]) < 1e-12));
  assert.ok(Math.abs(row.ratio - 1.1 / (0.2 + 1e-8)) < 1e-9);
  // differences are all 0.9 (up to rounding) → (near-)zero variance → enormous t, p ≈ 0
  assert.ok(row.seedTest.t > 1e12 && row.seedTest.pTwoSided < 1e-12, `t=${row.seedTest.t}`);
  assert.ok(Math.abs(row.dOriginal - 0.9 / Math.sqrt(2 / 300)) < 1e-9, 'idx 6 d = diff / popstd(mag)');
});

test('BLiMP scoring: sum vs mean differ on unequal lengths; ties count as wrong', () => {
  const items = [0, 1, 2, 3, 4, 5].map((id) => ({ id, ids: [] as number[] }));
  const lp = [
    Float32Array.of(-1, -1, -1),
    Float32Array.of(-1.5, -1.6), // sum: −3 > −3.1 correct; mean: −1 > −1.55 correct
    Float32Array.of(-1, -1, -1, -1),
    Float32Array.of(-1.2, -1.2), // sum: −4 < −2.4 wrong; mean: −1 > −1.2 correct
    Float32Array.of(-2),
    Float32Array.of(-2), // tie: wrong under both
  ];
  const s = scorePairs(items, lp);
  assert.ok(Math.abs(s.accSum - 100 / 3) < 1e-9);
  assert.ok(Math.abs(s.accMean - 200 / 3) < 1e-9);
  const rec = (key: string, mode: string | undefined, acc: number, seedIndex = 0): BlimpRecord => ({
    key,
    kind: mode ? 'condition' : 'baseline',
    mode,
    publishedDelta: 5,
    seedIndex,
    marginSum: [1, 1],
    marginMean: [1, 1],
    accSum: acc,
    accMean: acc,
    seconds: 0,
  });
  const sum = summarizeBlimp([
    rec('b', undefined, 90),
    rec('m0', 'magnitude', 70),
    rec('m1', 'magnitude', 72, 1),
    rec('a0', 'angle_legacy/legacy', 88),
    rec('a1', 'angle_legacy/legacy', 89, 1),
  ]);
  assert.equal(sum.rows[0].magnitude.drop, 19);
  assert.equal(sum.rows[0].angle.drop, 1.5);
  assert.equal(sum.rows[0].diff, 17.5);
});

test('seedRange names the seeds an offset draws with (42 + offset + seed index)', () => {
  assert.equal(seedRange(700, 3), `${seedFor(700, 0)}–${seedFor(700, 2)}`);
  assert.equal(seedRange(700, 3), '742–744');
  assert.equal(seedRange(100, 1), '142');
});
