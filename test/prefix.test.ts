/**
 * Prefix reuse and shared weights (engine/prefix.ts, models/weights.ts): a plan started from the
 * cached blocks.k.hook_resid_pre gives the full pass's numbers; the pruned graph has no blocks
 * before k; a small cache budget splits the run and still gives the same numbers; the weights are
 * read once, as float32, however many plans run.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import { Model } from '../lib/src/engine/model';
import { compile } from '../lib/src/engine/compile';
import { hooks } from '../lib/src/engine/hooks';
import { plan, type Plan } from '../lib/src/engine/plan';
import { prefixStart, startAt } from '../lib/src/engine/prefix';
import { ActivationCache } from '../lib/src/engine/cache';
import type { Item, RunResult } from '../lib/src/engine/types';
import { Checkpoint } from '../lib/src/models/weights';
import { readSafetensorsHeader, readTensor } from '../lib/src/weights/safetensors';

const SHARED = process.env.DIRMAG_SHARED ?? path.resolve(__dirname, '../../shared');
const STORIES = path.join(SHARED, 'models/stories260k-hf');
/** the same ops on the same inputs, batched differently: float32 rounding only */
const TOL = 1e-5;

let full: Model;
let reuse: Model;
before(async () => {
  full = await Model.fromDir(STORIES, { reusePrefix: false });
  reuse = await Model.fromDir(STORIES);
});
after(async () => {
  await full.release();
  await reuse.release();
});

function items(lengths: number[], seed = 3): Item[] {
  let s = seed;
  const next = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0), s >>> 8);
  return lengths.map((L, i) => ({ id: 40 + i, ids: Array.from({ length: L }, () => 3 + (next() % 509)) }));
}

function maxDiff(a: RunResult, b: RunResult): number {
  let m = 0;
  a.items.forEach((x, i) => {
    assert.equal(x.id, b.items[i].id);
    x.logprobs!.forEach((v, t) => (m = Math.max(m, Math.abs(v - b.items[i].logprobs![t]))));
  });
  return m;
}

const PLANS: [string, Plan][] = [
  [
    'angle_exact at resid_pre 2..3',
    plan('logprobs').perturb([2, 3].map(hooks.residPre), { op: 'angle_exact', delta: 0.5 }),
  ],
  ['magnitude at resid_post 1', plan('logprobs').perturb(hooks.residPost(1), { op: 'magnitude', delta: 1 })],
  ['legacy angle at ln2 out 3', plan('logprobs').perturb(hooks.ln2.out(3), { op: 'angle_legacy', delta: 0.3 })],
];

for (const [what, p] of PLANS)
  test(`prefix reuse gives the full pass's numbers: ${what}`, async () => {
    const xs = items([7, 12, 3, 9, 15]);
    const a = await full.runWithHooks(xs, p, { seed: 5 });
    const b = await reuse.runWithHooks(xs, p, { seed: 5 }); // computes and caches the prefix
    const c = await reuse.runWithHooks(xs, p, { seed: 5 }); // starts from the cache
    assert.ok(maxDiff(a, b) <= TOL, `first run: max |Δ log p| ${maxDiff(a, b)}`);
    assert.ok(maxDiff(a, c) <= TOL, `cached run: max |Δ log p| ${maxDiff(a, c)}`);
    // the perturbation's own statistics are those of the full pass
    a.items.forEach((it, i) =>
      it.perturbation!.forEach((s, j) => {
        const o = c.items[i].perturbation![j];
        assert.equal(o.hook, s.hook);
        s.norms.forEach((n, t) => assert.ok(Math.abs(n - o.norms[t]) <= TOL * Math.max(1, n)));
      }),
    );
    assert.ok(reuse.prefixes.bytes > 0, 'the prefix is cached');
  });

test('a cache budget smaller than the data set splits the run, same numbers, never over budget', async () => {
  const small = await Model.fromDir(STORIES, { prefixCacheBytes: 64 * 4 * 20 }); // 20 tokens of D = 64
  try {
    const xs = items([7, 12, 3, 9, 15, 6]);
    const p = PLANS[0][1];
    const a = await full.runWithHooks(xs, p, { seed: 9 });
    const b = await small.runWithHooks(xs, p, { seed: 9 });
    assert.ok(maxDiff(a, b) <= TOL, `max |Δ log p| ${maxDiff(a, b)}`);
    assert.ok(small.prefixes.bytes <= small.prefixes.budgetBytes);
  } finally {
    await small.release();
  }
});

test('prefixStart: the first block a plan touches; 0 where it must start from the embeddings', () => {
  const n = 5;
  assert.equal(prefixStart(plan('logprobs'), n), 0, 'a plain pass');
  assert.equal(prefixStart(plan().capture(hooks.residPre(3)), n), 0, 'captures only');
  assert.equal(prefixStart(plan('logprobs').perturb(hooks.embed, { op: 'magnitude', delta: 1 }), n), 0);
  const p = plan('logprobs').perturb(hooks.residPost(3), { op: 'magnitude', delta: 1 }).capture(hooks.attn.pattern(2));
  assert.equal(prefixStart(p, n), 2, 'a capture before the perturbation still needs its block');
  assert.equal(prefixStart(plan('logprobs').scale(hooks.lnFinal.out, 2), n), n - 1);
});

test('the started graph has no blocks before k', async () => {
  const p = startAt(PLANS[0][1], 2, new ActivationCache());
  const c = compile(reuse.cfg, reuse.ckpt, reuse.arch, p, 'inputs');
  const s = await ort.InferenceSession.create(c.bytes);
  try {
    const ws = s.inputNames.filter((n) => n.startsWith('w:'));
    assert.ok(
      ws.some((n) => n.includes('layers.2.')),
      'block 2 is computed',
    );
    assert.ok(!ws.some((n) => /layers\.[01]\./.test(n)), `blocks 0, 1 are pruned: ${ws.join(', ')}`);
  } finally {
    await s.release();
  }
});

test('weights are read once as float32, whatever the number of plans', async () => {
  const m = await Model.fromDir(STORIES);
  try {
    const xs = items([6, 9]);
    await m.runWithHooks(xs, plan('logprobs'));
    const once = m.ckpt.heldBytes;
    for (const [, p] of PLANS) await m.runWithHooks(xs, p, { seed: 1 });
    assert.ok(m.liveSessions >= 3, 'several sessions');
    assert.equal(m.ckpt.heldBytes, once, 'no session added a copy');
  } finally {
    await m.release();
  }
});

for (const fixture of ['gpt_neox_parallel_fp16', 'llama_bf16'])
  test(`${fixture}: float32() converts every tensor exactly as the reference reader`, () => {
    const dir = path.join(SHARED, 'fixtures/hf', fixture);
    const ck = Checkpoint.open(dir);
    const file = readSafetensorsHeader(path.join(dir, 'model.safetensors'));
    const names = [...file.tensors.keys()].filter((n) => ['F16', 'BF16'].includes(file.tensors.get(n)!.dtype));
    assert.ok(names.length > 0);
    for (const n of names) assert.deepEqual(ck.float32(n), readTensor(file, n).data, n);
  });
