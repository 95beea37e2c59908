/**
 * The README's user path on a machine with nothing but the hub: the CLI runs as a child process in
 * an empty folder, HF_ENDPOINT pointing at a loopback hub (test/fakehub) that serves
 * EleutherAI/pythia-410m (real config.json and tokenizer, fp16 random weights with the real tensor
 * names and buffers), Salesforce/wikitext and nyu-mll/blimp as parquet laid out as on huggingface.co.
 * Only the fake hub reads the test data; the product sees none of it. Then the same commands with
 * HF_HUB_OFFLINE=1 must send no request at all, and a missing file must name `dirmag download`.
 * Reduced settings (2 sentences, 1 seed, one δ, one layer) keep the 410M runs to minutes.
 */
import test, { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { FakeHub } from './fakehub/server';
import { studyHub } from './fakehub/study-hub';
import { ensurePythia410m } from './fakehub/pythia410m';

const ROOT = path.resolve(__dirname, '..');
const SHARED = path.resolve(process.env.DIRMAG_SHARED ?? path.join(ROOT, '../shared'));
const CLI = path.join(ROOT, 'lib/bin/dirmag.js');
const MODEL = 'EleutherAI/pythia-410m';
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'dirmag-user-'));
const work = path.join(tmp, 'work'); // the user's folder: empty
const hfHome = path.join(tmp, 'hf');
let hub: FakeHub;

before(async () => {
  fs.mkdirSync(work);
  const ckpt = ensurePythia410m(path.join(ROOT, '.cache/fakehub/pythia-410m'));
  hub = await studyHub(SHARED, ckpt.weights);
});
after(async () => {
  await hub.stop();
  fs.rmSync(tmp, { recursive: true, force: true });
});

/**
 * `dirmag ...` as a user runs it: in the empty folder, with only the HF variables set. Asynchronous,
 * so the fake hub in this process keeps answering while the child runs.
 */
function dirmag(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ rc: number | null; out: string; err: string }> {
  const clean = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.startsWith('DIRMAG_') && !k.startsWith('HF_')),
  );
  const child = spawn(process.execPath, [CLI, ...args], {
    cwd: work,
    env: { ...clean, HF_ENDPOINT: hub.url, HF_HOME: hfHome, ...env },
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (b) => (out += b));
  child.stderr.on('data', (b) => (err += b));
  return new Promise((resolve) => child.on('close', (rc) => resolve({ rc, out, err })));
}

const SMALL = ['--seeds', '1', '--layers', '8', '--modes', 'magnitude,angle_legacy/legacy'];
const SWEEP = ['sweep', '--model', MODEL, '--sentences', '2', '--deltas', '5', ...SMALL];
const BLIMP = ['blimp', '--model', MODEL, '--per-paradigm', '2', ...SMALL];
/** the README's first look at the whole study: every step, reduced counts, verdicts "not comparable" */
const REPRODUCE = ['reproduce', '--model', MODEL, '--sentences', '1', '--seeds', '1', '--per-paradigm', '2'];

test('sweep and blimp from the hub alone, then offline without a single request', async (t) => {
  const sweep = await dirmag(SWEEP);
  t.diagnostic(`sweep stdout:\n${sweep.out}\nstderr (last lines):\n${sweep.err.split('\n').slice(-6).join('\n')}`);
  assert.equal(sweep.rc, 0, sweep.err);
  assert.match(sweep.out, /E1 sweep on EleutherAI--pythia-410m: layers 8, δ 5, 1 seeds/);
  assert.match(sweep.out, /baseline loss \d+\.\d+ \(2 sentences\)/);
  assert.match(sweep.out, /n\/a: needs ≥ 2 seeds/, 'one seed: the seed statistics say so instead of crashing');
  // progress of the 911 MB download (not a TTY: a line per 5%), and of the dataset
  assert.match(
    sweep.err,
    /EleutherAI\/pythia-410m\/model\.safetensors@[0-9a-f]{40}: .*MB \/ 911\.4 MB \(100%\), .*\/s, done/,
  );
  assert.match(sweep.err, /Salesforce\/wikitext\/wikitext-103-raw-v1\/test-00000-of-00001\.parquet@main: .*done/);
  const cache = path.join(hfHome, 'hub');
  assert.ok(fs.existsSync(path.join(cache, 'models--EleutherAI--pythia-410m/refs/main')));
  assert.ok(fs.existsSync(path.join(cache, 'datasets--Salesforce--wikitext/refs/main')));
  assert.ok(
    hub.log.some((l) => /^GET \/cdn\/[0-9a-f]{64} -> 200$/.test(l)),
    'the weights came through the LFS redirect',
  );

  const blimp = await dirmag(BLIMP);
  assert.equal(blimp.rc, 0, blimp.err);
  t.diagnostic(`blimp stdout:\n${blimp.out}`);
  assert.match(blimp.out, /E2 BLiMP on EleutherAI--pythia-410m: .*2 pairs each/);
  assert.match(blimp.out, /baseline accuracy \d+\.\d% \(4 pairs\)/);
  assert.ok(fs.existsSync(path.join(cache, 'datasets--nyu-mll--blimp/refs/main')), 'BLiMP came from the hub');

  const t0 = Date.now();
  const repro = await dirmag(REPRODUCE);
  t.diagnostic(`reproduce (${((Date.now() - t0) / 1000).toFixed(0)} s) stdout:\n${repro.out}`);
  assert.equal(repro.rc, 0, `${repro.out}\n${repro.err.split('\n').slice(-10).join('\n')}`);
  const report = fs.readFileSync(path.join(work, 'REPORT-EleutherAI--pythia-410m-reduced.md'), 'utf8');
  assert.match(report, /\*\*Comparability:\*\* reduced settings \(at most 1 sentence\(s\), at most 1 seed\(s\)/);
  assert.doesNotMatch(report, /\| (consistent|close|differs)/, 'a reduced run gets no verdict against the paper');
  assert.match(report, /n\/a: /, 'one seed: seed statistics say n/a instead of crashing');
  for (const t of ['table1_loss_damage', 'table2_blimp_sum', 'table3_e4_attention_repair', 'table4_e6_layer_sets'])
    assert.ok(fs.existsSync(path.join(work, `tables/EleutherAI--pythia-410m-reduced/${t}.md`)), t);

  const dl = await dirmag(['download', '--model', MODEL, '--data']);
  assert.equal(dl.rc, 0, dl.err);
  t.diagnostic(`download stdout:\n${dl.out}`);
  assert.match(dl.out, /dataset nyu-mll\/blimp: 67 file\(s\)/);

  hub.log = [];
  const offline = { HF_HUB_OFFLINE: '1' };
  const sweep2 = await dirmag(SWEEP, offline);
  assert.equal(sweep2.rc, 0, sweep2.err);
  // paradigms the online run did not read: `download --data` fetched them (own results folder: other settings)
  const others = [
    '--paradigms',
    'anaphor_gender_agreement,anaphor_number_agreement',
    '--results',
    path.join(tmp, 'r2'),
  ];
  const blimp2 = await dirmag([...BLIMP, ...others], offline);
  assert.equal(blimp2.rc, 0, blimp2.err);
  const repro2 = await dirmag([...REPRODUCE, '--no-figures'], offline);
  assert.equal(repro2.rc, 0, repro2.err);
  assert.deepEqual(hub.log, [], 'offline: no request reached the hub');
  assert.equal(sweep2.out.match(/baseline loss [\d.]+/)?.[0], sweep.out.match(/baseline loss [\d.]+/)?.[0]);
});

test('offline with an empty cache: one line naming the file and the dirmag download command', async () => {
  const r = await dirmag(SWEEP, { HF_HUB_OFFLINE: '1', HF_HOME: path.join(tmp, 'empty-hf') });
  assert.equal(r.rc, 1);
  const lines = r.err.trim().split('\n');
  assert.equal(lines.length, 1, r.err);
  assert.match(
    lines[0],
    /^dirmag: EleutherAI\/pythia-410m\/config\.json@main is not in the cache .* HF_HUB_OFFLINE is set; .*: dirmag download --model EleutherAI\/pythia-410m$/,
  );
  assert.deepEqual(hub.log, []);
});
