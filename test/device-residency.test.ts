/**
 * Captures kept on the device between a capture pass and the patch pass that uses them (issue 15;
 * engine/device-cache.ts): on webgpu (lavapipe in CI) a capture with `onDevice` leaves its pass
 * tensors on the device, a patch pass batched alike feeds them with no read-back, a pass batched
 * otherwise reads each back exactly once, and every number equals the host path (webgpu: to float32
 * rounding; cpu: 1e-4 relative). On cpu nothing changes. Skipped without a WebGPU adapter unless
 * DIRMAG_REQUIRE_WEBGPU=1.
 */
import './test-data';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Model } from '../lib/src/engine/model';
import { hooks } from '../lib/src/engine/hooks';
import { plan, type Plan } from '../lib/src/engine/plan';
import { readBackCount } from '../lib/src/engine/device-buffers';
import { locateNonFinite } from '../lib/src/engine/diagnose';
import type { Item, RunResult } from '../lib/src/engine/types';
import { Study } from '../lib/src/experiments/study';
import * as M from '../lib/src/experiments/mechanism';
import { tinyCheckpoint } from '../lib/src/experiments/tiny';
import { relErr } from './rel-err';
import { webgpu } from './webgpu-helpers';

const SHARED = process.env.DIRMAG_SHARED ?? path.resolve(__dirname, '../../shared');
const DIR = path.join(SHARED, 'fixtures/hf/gpt_neox_parallel');
process.env.DIRMAG_PROGRESS = '0';

const logprobs = (r: RunResult) => r.items.flatMap((x) => Array.from(x.logprobs!));

/** Sentences of several lengths (several passes at a small token budget), tokens over the vocabulary. */
function itemsFor(V: number): Item[] {
  return [9, 5, 12, 7, 11, 6].map((n, id) => ({
    id,
    ids: Array.from({ length: n }, (_, k) => (k * 7919 + id * 104729 + 3) % V),
  }));
}

// float32 rounding of the same ops in another session: a few ulps of the largest value
const F32 = 1e-6;

test('webgpu: captures stay on the device and a patch pass batched alike feeds them with no read-back', async (t) => {
  const skip = await webgpu();
  if (skip) return t.skip(skip);
  // a small token budget: several passes, so the batch composition matters
  const gpu = await Model.fromDir(DIR, { provider: 'webgpu', tokensPerBatch: 36 });
  const cpu = await Model.fromDir(DIR, { provider: 'cpu', tokensPerBatch: 36 });
  const items = itemsFor(gpu.cfg.vocabSize);
  const L = gpu.cfg.nLayers;
  const patched = [hooks.attnOut(L - 1), hooks.mlpOut(L - 1), hooks.residPost(1)];
  const perturbed = (rest: Plan) =>
    rest.perturb([hooks.residPost(1), hooks.residPost(2)].slice(0, L - 1), { op: 'magnitude', delta: 0.5 });
  const opts = { seed: 7 };
  try {
    const n0 = readBackCount();
    const { cache, result } = await gpu.runWithCache(items, patched, { onDevice: true });
    const passes = result.onDevice!.length / patched.length;
    assert.ok(passes >= 2, `expected several passes, got ${passes}`);
    for (const b of result.onDevice!) assert.equal(b.tensor.location, 'gpu-buffer', `${b.hook} of ${b.ids}`);
    for (const r of result.items) assert.deepEqual(Object.keys(r.captures), [], 'no host copy of the captures');
    assert.equal(cache.onHost(patched[0], 0), false);
    assert.equal(cache.has(patched[0], 0), true);
    assert.throws(() => cache.get(patched[0], 0), /on the device; await cache\.toHost\(\) first/);

    // the patch pass: same items, same batching → the device tensors as they are
    const resident = await gpu.runWithHooks(items, perturbed(plan('logprobs').patch(patched, cache)), opts);
    assert.equal(readBackCount(), n0, 'a patch batched like its capture must not read anything back');
    assert.equal(cache.onHost(patched[0], 0), false);

    // the host path on webgpu and on cpu
    const { cache: host } = await gpu.runWithCache(items, patched);
    assert.equal(host.deviceBatches().length, 0);
    const onHost = await gpu.runWithHooks(items, perturbed(plan('logprobs').patch(patched, host)), opts);
    const { cache: cpuCache } = await cpu.runWithCache(items, patched, { onDevice: true });
    assert.equal(cpuCache.deviceBatches().length, 0, 'cpu: host memory already');
    assert.equal(cpuCache.onHost(patched[0], 0), true);
    const onCpu = await cpu.runWithHooks(items, perturbed(plan('logprobs').patch(patched, cpuCache)), opts);
    assert.ok(relErr(logprobs(resident), logprobs(onHost)) <= F32, 'webgpu resident vs webgpu host path');
    assert.ok(relErr(logprobs(resident), logprobs(onCpu)) <= 1e-4, 'webgpu resident vs cpu');

    // a pass batched otherwise: each pass tensor of the patched hooks read back exactly once
    const single = await gpu.runWithHooks(items, perturbed(plan('logprobs').patch(patched, cache)), {
      ...opts,
      batchSize: 1,
    });
    assert.equal(readBackCount() - n0, result.onDevice!.length);
    await gpu.runWithHooks(items, perturbed(plan('logprobs').patch(patched, cache)), { ...opts, batchSize: 2 });
    await cache.toHost();
    assert.equal(readBackCount() - n0, result.onDevice!.length, 'read back once, not per use');
    assert.ok(relErr(logprobs(single), logprobs(onHost)) <= 1e-4);
    for (const h of patched)
      for (const it of items) assert.ok(relErr(cache.get(h, it.id).data, host.get(h, it.id).data) <= F32, h);

    // a per-head patch (hook_z) and a patch from another hook read the pass tensors as they are too
    const z = hooks.attn.z(L - 1);
    const n1 = readBackCount();
    const { cache: fresh } = await gpu.runWithCache(items, [z, hooks.residPost(1)], { onDevice: true });
    const { cache: freshHost } = await gpu.runWithCache(items, [z, hooks.residPost(1)]);
    const variants = (c: typeof fresh) =>
      plan('logprobs')
        .patch(z, c, { heads: [0] })
        .patch(hooks.residPre(2), c, { from: hooks.residPost(1) });
    const a = await gpu.runWithHooks(items, perturbed(variants(fresh)), opts);
    assert.equal(readBackCount(), n1, 'per-head and cross-hook patches from the device');
    const b = await gpu.runWithHooks(items, perturbed(variants(freshHost)), opts);
    assert.ok(relErr(logprobs(a), logprobs(b)) <= F32);

    // diagnostics read patch values on the host: values still on the device are read back first
    const { cache: diag } = await gpu.runWithCache(items.slice(0, 2), [z], { onDevice: true });
    const loc = await locateNonFinite(gpu, plan('logprobs').patch(z, diag), items.slice(0, 2));
    assert.equal(loc?.kind, 'after-hooks', 'finite values: nothing found, and no "on the device" error');
    assert.ok(diag.onHost(z, items[0].id));
    diag.dispose();

    cache.dispose();
    fresh.dispose();
    assert.equal(cache.deviceBatches().length, 0);
    assert.ok(cache.onHost(patched[0], 0), 'host values read before dispose stay');
  } finally {
    await gpu.release();
    await cpu.release();
  }
});

test('webgpu: the mechanism repair passes patch from the device (no read-back) and match cpu', async (t) => {
  const skip = await webgpu();
  if (skip) return t.skip(skip);
  const open = (provider: 'cpu' | 'webgpu') =>
    Study.open({
      model: tinyCheckpoint('gpt_neox_parallel'),
      quick: true,
      resultsDir: fs.mkdtempSync(path.join(os.tmpdir(), 'dirmag-dev-')),
      provider,
    });
  const [gpu, cpu] = [await open('webgpu'), await open('cpu')];
  try {
    const L = gpu.model.cfg.nLayers;
    const items = itemsFor(gpu.model.cfg.vocabSize);
    const layers = [1, 2].filter((l) => l < L);
    const sets = [
      { name: 'attn', hooks: M.attnHooks([L - 1]) },
      { name: 'attn+mlp', hooks: [...M.attnHooks(layers), ...M.mlpHooks(layers)] },
    ];
    const pass = (study: Study) =>
      M.repairPasses(study, items, {
        mode: M.MECH_MODES.magnitude,
        layers,
        delta: 0.5,
        seed: 3,
        stream: M.repairStream('E4', 0.5, 'magnitude'),
        sets,
        legacyIters: 20,
      });
    const n0 = readBackCount();
    const a = await pass(gpu);
    assert.equal(readBackCount(), n0, 'repairs: the clean values never come back to the host');
    const b = await pass(cpu);
    assert.ok(relErr(a.unrepaired, b.unrepaired) <= 1e-4);
    for (const s of sets) {
      assert.ok(relErr(a.repaired[s.name], b.repaired[s.name]) <= 1e-4, s.name);
      assert.notDeepEqual(a.repaired[s.name], a.unrepaired, `${s.name}: the patch changes the losses`);
    }
  } finally {
    for (const st of [gpu, cpu]) {
      st.close();
      await st.model.release();
    }
  }
});

test('webgpu: prefix reuse keeps the clean prefix on the device and starts every later plan from it', async (t) => {
  const skip = await webgpu();
  if (skip) return t.skip(skip);
  const gpu = await Model.fromDir(DIR, { provider: 'webgpu', tokensPerBatch: 36 });
  const full = await Model.fromDir(DIR, { provider: 'webgpu', tokensPerBatch: 36, reusePrefix: false });
  const cpu = await Model.fromDir(DIR, { provider: 'cpu', tokensPerBatch: 36 });
  const items = itemsFor(gpu.cfg.vocabSize);
  const L = gpu.cfg.nLayers;
  assert.ok(L >= 3, 'needs a block after the prefix');
  const p = (delta: number) => plan('logprobs').perturb(hooks.residPost(2), { op: 'angle_exact', delta });
  const opts = { seed: 5 };
  try {
    const n0 = readBackCount();
    const runs = [];
    for (const delta of [0.2, 0.6]) runs.push(await gpu.runWithHooks(items, p(delta), opts));
    assert.equal(readBackCount(), n0, 'the prefix never comes back to the host');
    assert.equal(gpu.prefixes.bytes, 0, 'nothing in the host prefix cache');
    const floats = items.reduce((a, it) => a + it.ids.length * gpu.cfg.dModel, 0);
    assert.equal(gpu.devicePrefixes.bytes, floats * 4, 'one device entry for the chunk, captured once');
    for (const [i, delta] of [0.2, 0.6].entries()) {
      const ref = await full.runWithHooks(items, p(delta), opts);
      const onCpu = await cpu.runWithHooks(items, p(delta), opts);
      assert.ok(relErr(logprobs(runs[i]), logprobs(ref)) <= F32, `δ=${delta}: prefix on the device vs full pass`);
      assert.ok(relErr(logprobs(runs[i]), logprobs(onCpu)) <= 1e-4, `δ=${delta}: webgpu vs cpu`);
    }
    assert.ok(cpu.prefixes.bytes > 0, 'cpu: the host prefix cache as before');
    assert.equal(cpu.devicePrefixes.bytes, 0);
    // a cache never disposed: the model's release frees its tensors (before the sessions)
    const { cache: left } = await gpu.runWithCache(items, [hooks.residPost(1)], { onDevice: true });
    const tensors = left.deviceBatches().map((b) => b.tensor);
    assert.ok(tensors.length > 0);
    await gpu.release();
    assert.deepEqual(new Set(tensors.map((x) => x.location)), new Set(['none']), 'freed by release');
    assert.equal(left.deviceBatches().length, 0);
    assert.equal(left.has(hooks.residPost(1), 0), false);
    left.dispose(); // a no-op now
  } finally {
    await gpu.release();
    assert.equal(gpu.devicePrefixes.bytes, 0);
    await full.release();
    await cpu.release();
  }
});
