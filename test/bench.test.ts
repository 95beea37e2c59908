/**
 * The benchmark code on a tiny Pythia-shaped model: checkpoint writer, batching policy and padding
 * waste, FLOP count, target checks and the report. Functional only: no timing assertions.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Model } from '../lib/src/engine/model';
import { planBatches } from '../lib/src/engine/batching';
import { plan } from '../lib/src/engine/plan';
import { TINY, ensurePythia, paramCounts, pythiaTensors } from '../lib/src/bench/pythia';
import { benchModel, flops, middleThird, paddingWaste, randomItems, stratified } from '../lib/src/bench/measure';
import { formatReport, targets } from '../lib/src/bench/report';
import { readSafetensorsHeader } from '../lib/src/weights/safetensors';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'dirmag-bench-test-'));
process.on('exit', () => fs.rmSync(tmp, { recursive: true, force: true }));

test('Pythia parameter counts match the published sizes', () => {
  const { PYTHIA } = require('../lib/src/bench/pythia');
  // HF: 70,426,624 / 162,322,944 / 405,334,016 parameters
  assert.equal(paramCounts(PYTHIA['pythia-70m']).total, 70426624);
  assert.equal(paramCounts(PYTHIA['pythia-160m']).total, 162322944);
  assert.equal(paramCounts(PYTHIA['pythia-410m']).total, 405334016);
});

test('the checkpoint writer makes a loadable GPT-NeoX folder, once', async () => {
  const dir = ensurePythia(TINY, tmp);
  const st = readSafetensorsHeader(path.join(dir, 'model.safetensors'));
  assert.equal(st.tensors.size, pythiaTensors(TINY).length);
  const mtime = fs.statSync(path.join(dir, 'model.safetensors')).mtimeMs;
  ensurePythia(TINY, tmp);
  assert.equal(fs.statSync(path.join(dir, 'model.safetensors')).mtimeMs, mtime);
  const m = await Model.fromDir(dir);
  const r = await m.runWithHooks(randomItems([5, 9], TINY.vocab), plan('logprobs'));
  assert.equal(r.items[1].logprobs!.length, 8);
  assert.ok(r.items.every((it) => it.logprobs!.every(Number.isFinite)));
  await m.release();
});

test('batching policy: sorted, within the token budget, every item once; padding waste by hand', () => {
  const lengths = [10, 64, 12, 30, 31, 64, 11, 45];
  const batches = planBatches(lengths, undefined, 100);
  assert.deepEqual(
    [...batches.flat()].sort((a, b) => a - b),
    lengths.map((_, i) => i),
  );
  for (const b of batches) assert.ok(b.length === 1 || b.length * Math.max(...b.map((i) => lengths[i])) <= 100);
  assert.deepEqual(batches, [[0, 6, 2], [3, 4], [7], [1], [5]]);
  const w = paddingWaste(lengths, undefined, 100);
  // padded: [10,11,12]→2+1 ; [30,31]→1 ; others 0 ; real = 267
  assert.equal(w.paddedTokens, 4);
  assert.equal(w.realTokens, 267);
  // fixed 4 items: [10,11,12,30] → 20+19+18 ; [31,45,64,64] → 33+19
  assert.equal(paddingWaste(lengths, 4).paddedTokens, 57 + 52);
  assert.deepEqual(planBatches([3, 2, 1], 2), [[2, 1], [0]]);
});

test('helpers: stratified subsets keep the profile, middle third, FLOP formula', () => {
  assert.deepEqual(stratified([5, 1, 4, 2, 3], 5), [1, 2, 3, 4, 5]);
  assert.deepEqual(stratified([1, 2, 3, 4, 5, 6], 3), [2, 4, 6]);
  assert.deepEqual(middleThird(24), [8, 9, 10, 11, 12, 13, 14, 15]);
  assert.deepEqual(middleThird(6), [2, 3]);
  assert.deepEqual(middleThird(3), [1]);
  const P = paramCounts(TINY).nonEmbedding;
  assert.equal(flops(TINY, [7]), 2 * P * 7 + 4 * TINY.nLayers * TINY.dModel * 49 + 2 * TINY.dModel * TINY.vocab * 7);
});

test('benchModel on the tiny model: every section filled, no session rebuilds across δ/seed, report and targets', async () => {
  const dir = ensurePythia(TINY, tmp);
  const lengths = [6, 9, 12, 20, 7, 15, 30, 11];
  const r = await benchModel({
    dir,
    spec: TINY,
    lengths,
    sentences: 6,
    loopSentences: 3,
    delta: 0.01,
    threads: 1,
    repeats: 1,
    skipMatmul: true,
  });
  assert.equal(r.model, TINY.name);
  assert.equal(r.sessionRebuilds, 0);
  assert.deepEqual(Object.keys(r.perturbed), ['magnitude', 'angle_exact', 'angle_legacy']);
  assert.deepEqual(r.perturbLayers, [1]);
  for (const t of [r.plain, r.repair, r.loop.batch1, r.loop.batched, r.plainBatch16, ...Object.values(r.perturbed)])
    assert.ok(t.tokensPerSec > 0 && t.tokens > 0);
  assert.equal(
    r.plain.tokens,
    stratified(lengths, 6).reduce((a, b) => a + b, 0),
  );
  assert.equal(r.padding.sentences, lengths.length);
  assert.ok(r.rss.peakBytes >= r.rss.afterPlainBytes && r.rss.afterPlainBytes > 0);
  assert.equal(r.matmul, null);
  const report = formatReport([r], { profile: 'test', date: 'today', host: 'here' });
  assert.match(report, /\(a\) plain tok\/s/);
  assert.match(report, /FLOPs = /);
  const t = targets([r]);
  assert.equal(t.length, 5);
  for (const x of t) assert.equal(x.pass, x.kind === 'min' ? x.value >= x.goal : x.value <= x.goal);
});
