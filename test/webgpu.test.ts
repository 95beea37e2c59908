/**
 * The GPU code path through ONNX Runtime's WebGPU provider (Dawn on Vulkan; in CI on Mesa's lavapipe,
 * a CPU Vulkan driver, so the numbers are checked here and run unchanged on a real GPU):
 *   - every golden fixture on webgpu within the golden tolerance (1e-4 relative), as on cpu
 *   - a perturbed sweep (each operator, two δ, two seeds) on webgpu and cpu: the same losses,
 *     log-probs and displacements within 1e-4 relative
 *   - node placement: no floating-point op of the study's graphs runs on the CPU instead of the GPU
 *   - devices: a missing CUDA provider fails before any work with the install command
 * Without a working WebGPU adapter the WebGPU tests are skipped, unless DIRMAG_REQUIRE_WEBGPU=1
 * (.ci/run sets it after installing Mesa 25): then they fail and say why.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { GOLDEN_TOLERANCE, verifyGolden } from '../lib/src/engine/golden';
import { Model } from '../lib/src/engine/model';
import { minTokenNorm } from '../lib/src/engine/cache';
import { hooks } from '../lib/src/engine/hooks';
import { plan } from '../lib/src/engine/plan';
import { CUDA_INSTALL_COMMAND, probeProvider, providerMissing } from '../lib/src/engine/providers';
import type { Item, PerturbOp, RunResult } from '../lib/src/engine/types';
import { placementOf } from '../lib/src/cli/doctor';
import { deviceOutputOptions, readBack, releaseReaders } from '../lib/src/engine/device-buffers';
import { GraphBuilder } from '../lib/src/onnx/builder';
import { DataType } from '../lib/src/onnx/proto';
import * as ort from 'onnxruntime-node';
import { sentenceLoss } from '../lib/src/experiments/runs';
import { seedFor } from '../lib/src/experiments/settings';
import { relErr } from './rel-err';
import { webgpu } from './webgpu-helpers';

const SHARED = process.env.DIRMAG_SHARED ?? path.resolve(__dirname, '../../shared');
const ROOT = path.resolve(__dirname, '..');
const CLI = path.join(ROOT, 'lib/dist/cli/main.js');
const FIXTURES = path.join(SHARED, 'fixtures/hf');
const CASES = [
  ...fs.readdirSync(FIXTURES).map((c) => path.join(FIXTURES, c)),
  path.join(SHARED, 'models/stories260k-hf'),
];
const TOL = 1e-4;

test('the webgpu probe works when CI requires it', async (t) => {
  const skip = await webgpu();
  if (skip) return t.skip(skip);
  assert.equal(await probeProvider('webgpu'), null);
});

for (const dir of CASES) {
  test(`verifyGolden ${path.basename(dir)} on webgpu: 0 failures, max rel err ≤ ${TOL}`, async (t) => {
    const skip = await webgpu();
    if (skip) return t.skip(skip);
    const rows = await verifyGolden(dir, { provider: 'webgpu' });
    assert.ok(rows.length > 0, 'no tensors compared');
    assert.deepEqual(
      rows.filter((r) => !r.ok).map((r) => `${r.name} ${r.maxRel} ${r.note ?? ''}`),
      [],
    );
    assert.ok(Math.max(...rows.map((r) => r.maxRel)) <= GOLDEN_TOLERANCE);
  });
}

test('a perturbed sweep gives the same numbers on webgpu and cpu (1e-4 relative)', async (t) => {
  const skip = await webgpu();
  if (skip) return t.skip(skip);
  const dir = path.join(FIXTURES, 'gpt_neox_parallel');
  const cpu = await Model.fromDir(dir, { provider: 'cpu' });
  const gpu = await Model.fromDir(dir, { provider: 'webgpu' });
  assert.equal(gpu.provider, 'webgpu');
  const V = cpu.cfg.vocabSize;
  // sentences of several lengths, so passes mix padding; tokens spread over the vocabulary
  const items: Item[] = [9, 5, 12, 7].map((n, id) => ({
    id,
    ids: Array.from({ length: n }, (_, k) => (k * 7919 + id * 104729 + 3) % V),
  }));
  const layers = [1, 2].filter((l) => l < cpu.cfg.nLayers);
  // δ as fractions of the exact-angle limit 2·min‖h‖ at the perturbed layers (clean pass on cpu)
  const { cache } = await cpu.runWithCache(items, layers.map(hooks.residPost));
  const minNorm = minTokenNorm(cache, layers.map(hooks.residPost), items);
  const ops: PerturbOp[] = ['magnitude', 'angle_exact', 'angle_legacy'];
  let compared = 0;
  try {
    for (const op of ops)
      for (const frac of [0.2, 0.7])
        for (const s of [0, 1]) {
          const p = plan('logprobs').perturb(layers.map(hooks.residPost), { op, delta: frac * 2 * minNorm });
          const opts = { seed: seedFor(0, s) };
          const [a, b]: RunResult[] = [await gpu.runWithHooks(items, p, opts), await cpu.runWithHooks(items, p, opts)];
          assert.equal(a.provider, 'webgpu');
          assert.equal(b.provider, 'cpu');
          const what = `${op} δ=${frac}·2min‖h‖ seed ${s}`;
          const lossA = a.items.map((r) => sentenceLoss(r.logprobs!));
          const lossB = b.items.map((r) => sentenceLoss(r.logprobs!));
          assert.ok(relErr(lossA, lossB) <= TOL, `${what}: losses ${lossA} vs ${lossB}`);
          a.items.forEach((r, i) => {
            const rb = b.items[i];
            assert.ok(relErr(r.logprobs!, rb.logprobs!) <= TOL, `${what} item ${r.id}: log-probs`);
            r.perturbation!.forEach((st, k) =>
              assert.ok(relErr(st.disp, rb.perturbation![k].disp) <= TOL, `${what} item ${r.id}: displacement`),
            );
          });
          compared++;
        }
  } finally {
    await gpu.release();
    await cpu.release();
  }
  assert.equal(compared, ops.length * 4);
});

test('node placement on webgpu: every floating-point op of the study graphs runs on the GPU', async (t) => {
  const skip = await webgpu();
  if (skip) return t.skip(skip);
  for (const fixture of ['gpt_neox_parallel', 'llama_gqa', 'opt']) {
    const reports = await placementOf(path.join(FIXTURES, fixture), 'webgpu');
    assert.deepEqual(
      reports.map((r) => r.plan),
      ['plain', 'capture', 'perturb magnitude', 'perturb angle_exact', 'perturb angle_legacy', 'patch'],
    );
    for (const r of reports) {
      assert.ok(r.nodes > 0, `${fixture} ${r.plan}: no nodes profiled`);
      assert.deepEqual(
        r.computeOnCpu.map((n) => `${n.op} ${n.node}`),
        [],
        `${fixture} ${r.plan}: floating-point ops on the CPU`,
      );
      assert.ok(
        r.onDevice > r.shapeOnCpu.length + r.derivedOnCpu.length,
        `${fixture} ${r.plan}: most nodes on the GPU`,
      );
    }
  }
});

test('--device cuda without the CUDA provider: one line with the install command, before any work', (t) => {
  if (providerMissing('cuda') === null) return t.skip('the CUDA provider is installed here');
  // a hub id and an unreachable hub: the error must come before any download is tried
  const env = { ...process.env, HF_ENDPOINT: 'http://127.0.0.1:9', HF_HOME: path.join(ROOT, '.cache/no-such-hf') };
  for (const argv of [
    ['sweep', '--model', 'EleutherAI/pythia-410m', '--device', 'cuda'],
    ['verify-golden', path.join(FIXTURES, 'gpt2'), '--device', 'cuda'],
  ]) {
    const r = spawnSync(process.execPath, [CLI, ...argv], { encoding: 'utf8', env });
    assert.equal(r.status, 1, r.stderr);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, r.stderr);
    assert.ok(lines[0].includes(CUDA_INSTALL_COMMAND), lines[0]);
    assert.ok(!fs.existsSync(env.HF_HOME), 'nothing may be downloaded');
  }
  const bad = spawnSync(process.execPath, [CLI, 'verify-golden', path.join(FIXTURES, 'gpt2'), '--device', 'tpu'], {
    encoding: 'utf8',
  });
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /--device must be one of cpu, cuda, webgpu, got 'tpu'/);
});

test('device buffers: a gpu-buffer output feeds another webgpu session in place and reads back', async (t) => {
  const skip = await webgpu();
  if (skip) return t.skip(skip);
  const matmul = (name: string) => {
    const g = new GraphBuilder();
    const a = g.input('a', DataType.FLOAT, ['n', 3]);
    g.output('y', g.op('MatMul', [a, g.constF([1, 2, 0, -1, 0.5, 3, 2, 0, 1], [3, 3])]));
    return g.encode(name);
  };
  const first = await ort.InferenceSession.create(matmul('first'), {
    executionProviders: ['webgpu'],
    ...deviceOutputOptions('webgpu', ['y']),
  });
  const second = await ort.InferenceSession.create(matmul('second'), { executionProviders: ['webgpu'] });
  const x = Float32Array.from([1, 2, 3, -1, 0, 4]);
  const y = (await first.run({ a: new ort.Tensor('float32', x, [2, 3]) })).y;
  assert.equal(y.location, 'gpu-buffer');
  const z = (await second.run({ a: y })).y;
  assert.equal(z.location, 'cpu');
  // the same two products on the host
  const M = [1, 2, 0, -1, 0.5, 3, 2, 0, 1];
  const mul = (v: ArrayLike<number>) =>
    Array.from({ length: 6 }, (_, k) => {
      const [i, j] = [Math.floor(k / 3), k % 3];
      return v[i * 3] * M[j] + v[i * 3 + 1] * M[3 + j] + v[i * 3 + 2] * M[6 + j];
    });
  assert.deepEqual(Array.from(await readBack(y, 'webgpu')), mul(x));
  assert.deepEqual(Array.from(z.data as Float32Array), mul(mul(x)));
  assert.deepEqual(deviceOutputOptions('cpu', ['y']), {});
  y.dispose();
  await releaseReaders();
  await first.release();
  await second.release();
});

test('dirmag doctor: a line per device; exit 0 when --device works, 1 when it does not', (t) => {
  const doctor = (device: string) =>
    spawnSync(process.execPath, [CLI, 'doctor', '--device', device], { encoding: 'utf8', env: process.env });
  const cpu = doctor('cpu');
  assert.equal(cpu.status, 0, cpu.stderr);
  assert.match(cpu.stdout, /^cpu +ok$/m);
  assert.match(cpu.stdout, /^webgpu +/m);
  if (providerMissing('cuda') === null) return t.skip('the CUDA provider is installed here');
  assert.ok(cpu.stdout.includes(CUDA_INSTALL_COMMAND), cpu.stdout);
  assert.equal(doctor('cuda').status, 1);
});
