/**
 * The benchmark code on a tiny Pythia-shaped model: checkpoint writer, batching policy and padding
 * waste, FLOP count, target checks and the report. Functional only: no timing assertions.
 */
import { SHARED } from './test-data';
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
import { ceilingText, formatReport, targets } from '../lib/src/bench/report';
import { matmulCeiling, ratioToCeiling, theoreticalPeak } from '../lib/src/bench/ceiling';
import { benchSweep, e1Conditions } from '../lib/src/bench/sweep';
import { benchMemory } from '../lib/src/bench/memory';
import { publishedWork } from '../lib/src/bench/project';
import { PYTHIA } from '../lib/src/bench/pythia';
import { PUBLISHED } from '../lib/src/experiments/settings';
import { readSafetensorsHeader } from '../lib/src/weights/safetensors';

const STORIES = path.join(SHARED, 'models/stories260k-hf');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'dirmag-bench-test-'));
process.on('exit', () => fs.rmSync(tmp, { recursive: true, force: true }));

test('Pythia parameter counts match the published sizes', () => {
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

test('theoretical peak from /proc/cpuinfo text: lanes from the flags, AMD Zen 4 on a 256-bit datapath', () => {
  const cpu = (vendor: string, family: number, flags: string, mhz = 2500) =>
    `processor\t: 0\nvendor_id\t: ${vendor}\ncpu family\t: ${family}\ncpu MHz\t\t: ${mhz}\nflags\t\t: ${flags}\n\nprocessor\t: 1\n`;
  const zen4 = theoreticalPeak({
    cpuinfo: cpu('AuthenticAMD', 25, 'sse2 avx fma avx2 avx512f'),
    maxFreqKHz: null,
    cores: 2,
  });
  assert.equal(zen4.simd, 'avx512');
  assert.equal(zen4.lanes, 8);
  assert.equal(zen4.flopsPerCycle, 32);
  assert.ok(Math.abs(zen4.gflops - 2 * 2.5 * 32) < 1e-9);
  assert.match(zen4.clockSource, /cpu MHz/);
  const intel = theoreticalPeak({
    cpuinfo: cpu('GenuineIntel', 6, 'sse2 avx fma avx2 avx512f'),
    maxFreqKHz: 3e6,
    cores: 4,
  });
  assert.equal(intel.lanes, 16);
  assert.ok(Math.abs(intel.gflops - 4 * 3 * 64) < 1e-9);
  assert.match(intel.clockSource, /cpufreq/);
  const avx2 = theoreticalPeak({ cpuinfo: cpu('AuthenticAMD', 23, 'sse2 avx fma avx2'), maxFreqKHz: null, cores: 1 });
  assert.equal(avx2.flopsPerCycle, 32);
  assert.equal(theoreticalPeak({ cpuinfo: cpu('X', 1, 'sse2'), maxFreqKHz: null, cores: 1 }).lanes, 4);
  assert.ok(theoreticalPeak().gflops > 0);
});

test('ratios to a ceiling are never above 1: a pass above the ceiling says the ceiling is wrong', () => {
  assert.deepEqual(ratioToCeiling(50, 100), { ratio: 0.5 });
  const r = ratioToCeiling(123, 100);
  assert.equal(r.ratio, null);
  assert.match(r.invalid!, /ceiling measurement is wrong/);
  assert.deepEqual(ratioToCeiling(10, null), { ratio: null });
  assert.equal(ceilingText(0.72), '72%');
  assert.match(ceilingText(null, r.invalid), /ceiling reading wrong/);
});

test('MatMul ceiling with the product reduced in the graph', async () => {
  const c = await matmulCeiling(32, 64, { threads: 1, minSeconds: 0.05, readings: 2 });
  assert.deepEqual([c.m, c.k, c.n, c.readings.length], [2048, 32, 64, 2]);
  assert.equal(c.gflops, Math.max(...c.readings));
  assert.match(c.output, /ReduceSum/);
});

test('E1 conditions are the published grid in the experiment order; the sweep bench compares reuse on/off', async () => {
  const items = randomItems([6, 9], TINY.vocab);
  const conds = e1Conditions(items, 24);
  assert.equal(conds.length, 1 + PUBLISHED.e1.seeds * PUBLISHED.e1.deltas.length * 2);
  assert.equal(conds[0].key, 'baseline');
  assert.equal(conds[1].key, 's0|d1|magnitude');
  assert.equal(conds[2].key, 's0|d1|angle_legacy/legacy');
  assert.equal(conds.at(-1)!.key, `s${PUBLISHED.e1.seeds - 1}|d20|angle_legacy/legacy`);

  const dir = ensurePythia(TINY, tmp);
  const lengths = [6, 9, 12, 20, 7, 15, 30, 11];
  const r = await benchSweep({
    dir,
    spec: TINY,
    lengths,
    sentences: 3,
    seeds: 1,
    deltas: [0.5, 1],
    threads: 1,
    work: publishedWork(lengths, [5, 7, 9, 6]),
    projectTo: [PYTHIA['pythia-70m']],
  });
  assert.equal(r.grid.conditions, 1 + 2 * 2);
  assert.equal(r.sentences, 3);
  assert.ok(r.full && r.full.perturbedSeconds > 0 && r.reuse.perturbedSeconds > 0 && r.speedup! > 0);
  // the same numbers with and without prefix reuse (float32 rounding)
  assert.ok(r.maxAbsDeltaLoss !== null && r.maxAbsDeltaLoss < 1e-4, `max |Δloss| ${r.maxAbsDeltaLoss}`);
  assert.ok(r.peakRssBytes > 0);
  const e1 = r.projections.find((p) => p.experiment === 'E1' && p.model === TINY.name)!;
  assert.equal(e1.passes, 1 + PUBLISHED.e1.seeds * PUBLISHED.e1.deltas.length * 2);
  assert.equal(
    e1.tokensPerPass,
    lengths.reduce((a, b) => a + b, 0),
  );
  const big = r.projections.find((p) => p.experiment === 'E1' && p.model === 'pythia-70m')!;
  assert.ok(big.seconds > e1.seconds, 'a bigger model projects longer');
  const total = r.projections.find((p) => p.experiment === 'reproduce (main step)' && p.model === TINY.name)!;
  const parts = r.projections.filter((p) => p.model === TINY.name && p.experiment !== 'reproduce (main step)');
  assert.ok(Math.abs(total.seconds - parts.reduce((s, p) => s + p.seconds, 0)) < 1e-9);
  const report = formatReport([], { profile: 'test', date: 'today', host: 'here', sweep: r });
  assert.match(report, /wall time off \/ on/);
  assert.match(report, /projected wall time/);
  const t = targets([], { sweep: r });
  assert.ok(t.some((x) => /prefix reuse off \/ on/.test(x.name)));
  assert.ok(r.perturbedSpeedup! > 0 && r.weightLoadSeconds >= 0);
});

test('whole-run memory: dirmag reproduce in its own process, fp32 and fp16 checkpoints', async () => {
  const res = [];
  for (const dtype of ['F32', 'F16'] as const) {
    const dir = ensurePythia(TINY, tmp, dtype);
    assert.equal(
      JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8')).torch_dtype,
      dtype === 'F16' ? 'float16' : 'float32',
    );
    // the benchmark checkpoints carry no tokenizer: stories260k's has the tiny model's 512 tokens
    // quick: δ scaled to the random tiny model's small norms
    res.push(
      await benchMemory({ dir, spec: TINY, dtype, tokenizer: STORIES, sentences: 2, perParadigm: 1, quick: true }),
    );
  }
  const [f32, f16] = res;
  assert.ok(Math.abs(f16.checkpointBytes / f32.checkpointBytes - 0.5) < 0.05, 'fp16 checkpoint is half the bytes');
  assert.equal(f32.weightBytes, f16.weightBytes);
  for (const m of res) {
    assert.equal(m.skipped, undefined, m.skipped);
    assert.ok(m.peakRssBytes! > 0 && m.ratio === m.peakRssBytes! / m.weightBytes);
    assert.ok(m.steps.length >= 4 && /^main result/.test(m.steps[0].step), m.steps.map((s) => s.step).join('; '));
    for (const s of m.steps) assert.ok(s.peakRssBytes! > 0 && s.peakRssBytes! <= m.peakRssBytes!, s.step);
    assert.deepEqual(m.command.slice(0, 1), ['reproduce']);
  }
  const report = formatReport([], { profile: 'test', date: 'today', host: 'here', memory: res });
  assert.match(report, /whole-run memory \(dirmag reproduce, reduced\)/);
  assert.match(report, /peak after /);
  const t = targets([], { memory: res });
  assert.equal(t.length, 2);
  assert.ok(t.every((x) => Number.isFinite(x.value)));

  // a run that cannot be made says why in one line, and the target reads "not measured"
  const bad = await benchMemory({
    dir: ensurePythia(TINY, tmp),
    spec: TINY,
    dtype: 'F32',
    tokenizer: path.join(tmp, 'no-such-tokenizer'),
    sentences: 2,
  });
  assert.equal(bad.ratio, null);
  assert.match(bad.skipped!, /^reproduce failed \(exit 1\): .*no-such-tokenizer/);
  const miss = targets([], { memory: [bad] })[0];
  assert.equal(miss.pass, false);
  assert.match(miss.note!, /^not measured: reproduce failed/);
});
