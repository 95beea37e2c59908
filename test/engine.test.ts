/**
 * Engine invariants: padding and batch invariance (perturbations included), random keys, the
 * perturbation operators' guarantees on a real model (stories260K), LayerNorm scale invariance and
 * the magnitude sign-flip quirk, activation patching, per-head patching, and Philox4x32-10.
 */
import './test-data';
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { Model } from '../lib/src/engine/model';
import { DrawKey, normals } from '../lib/src/engine/rng';
import { drawKey as key } from './rng-oracle';
import { readSafetensorsHeader, readTensor } from '../lib/src/weights/safetensors';
import { ActivationCache } from '../lib/src/engine/cache';
import { hooks, type HookName } from '../lib/src/engine/hooks';
import { plan, type Plan } from '../lib/src/engine/plan';
import type { Item, ItemResult, KeyPart, PerturbOp, RunOptions, RunResult } from '../lib/src/engine/types';

const SHARED = process.env.DIRMAG_SHARED ?? path.resolve(__dirname, '../../shared');
const STORIES = path.join(SHARED, 'models/stories260k-hf');
const NEOX = path.join(SHARED, 'fixtures/hf/gpt_neox_parallel');
/** padded vs unpadded, batch size 1 vs N: float32 kernels may sum in another order */
const INV_TOL = 1e-5;

let stories: Model;
let neox: Model;
before(async () => {
  stories = await Model.fromDir(STORIES);
  neox = await Model.fromDir(NEOX);
});
after(async () => {
  await stories.release();
  await neox.release();
});

/** deterministic pseudo-random items of the given lengths */
function makeItems(lengths: number[], V: number, seed = 7): Item[] {
  let s = seed;
  const next = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0), s >>> 8);
  return lengths.map((L, i) => ({ id: 100 + i, ids: Array.from({ length: L }, () => 3 + (next() % (V - 3))) }));
}

const ITEMS = () => makeItems([9, 3, 14, 9, 6, 11, 2], 512);

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

function byId(r: RunResult): Map<number, ItemResult> {
  return new Map(r.items.map((it) => [it.id, it]));
}

function norm(x: ArrayLike<number>, o: number, D: number): number {
  let s = 0;
  for (let i = 0; i < D; i++) s += x[o + i] ** 2;
  return Math.sqrt(s);
}

/** per token (rows of width D): ‖a_t − b_t‖ */
function rowDists(a: Float32Array, b: Float32Array, D: number): number[] {
  const out: number[] = [];
  for (let o = 0; o < a.length; o += D) {
    let s = 0;
    for (let i = 0; i < D; i++) s += (a[o + i] - b[o + i]) ** 2;
    out.push(Math.sqrt(s));
  }
  return out;
}

function rowNorms(a: Float32Array, D: number): number[] {
  const out: number[] = [];
  for (let o = 0; o < a.length; o += D) out.push(norm(a, o, D));
  return out;
}

// ---------------------------------------------------------------------------------------------
// padding and batch invariance

test('padding invariance: a padded batch gives each item the same log-probs and captures as the item alone', async () => {
  const items = ITEMS();
  const names: HookName[] = [hooks.residPost(2), hooks.attn.pattern(1), hooks.attn.z(3), hooks.lnFinal.out];
  const withCaptures = plan('logprobs', 'entropy').capture(names);
  const padded = await stories.runWithHooks(items, withCaptures, { batchSize: items.length });
  for (const [i, it] of items.entries()) {
    const alone = (await stories.runWithHooks([it], withCaptures)).items[0];
    const p = padded.items[i];
    assert.equal(p.id, it.id);
    assert.ok(maxAbsDiff(p.logprobs!, alone.logprobs!) <= INV_TOL, `item ${it.id} logprobs`);
    assert.ok(maxAbsDiff(p.entropy!, alone.entropy!) <= INV_TOL, `item ${it.id} entropy`);
    for (const h of names) {
      assert.deepEqual(p.captures[h].dims, alone.captures[h].dims);
      assert.ok(maxAbsDiff(p.captures[h].data, alone.captures[h].data) <= INV_TOL, `item ${it.id} ${h}`);
    }
  }
});

const OPS: PerturbOp[] = ['magnitude', 'angle_exact', 'angle_legacy'];
const KEYS: KeyPart[][] = [['item', 'layer'], ['length']];

for (const op of OPS)
  for (const noiseKey of KEYS)
    test(`batch-size and order invariance with ${op}, noiseKey [${noiseKey}]`, async () => {
      const items = ITEMS();
      const p = plan('logprobs')
        .perturb([hooks.residPost(1), hooks.residPost(3)], { op, delta: 0.5, noiseKey, signKey: noiseKey })
        .capture(hooks.residPost(3));
      const opts: RunOptions = { seed: 11, stream: 3 };
      const runs: RunResult[] = [];
      for (const batchSize of [1, 2, items.length])
        runs.push(await stories.runWithHooks(items, p, { ...opts, batchSize }));
      const shuffled = [4, 0, 6, 2, 5, 1, 3].map((i) => items[i]);
      runs.push(await stories.runWithHooks(shuffled, p, { ...opts, batchSize: 3 }));
      const ref = byId(runs[0]);
      for (const r of runs.slice(1)) {
        for (const [id, it] of byId(r)) {
          const base = ref.get(id)!;
          assert.ok(maxAbsDiff(it.logprobs!, base.logprobs!) <= INV_TOL, `item ${id} logprobs`);
          assert.ok(
            maxAbsDiff(it.captures['blocks.3.hook_resid_post'].data, base.captures['blocks.3.hook_resid_post'].data) <=
              INV_TOL * 10,
            `item ${id} resid`,
          );
          it.perturbation!.forEach((p, k) =>
            assert.ok(maxAbsDiff(p.disp, base.perturbation![k].disp) <= INV_TOL, `item ${id} disp`),
          );
        }
      }
      // and the perturbation really did something
      const clean = byId(await stories.runWithHooks(items, plan('logprobs')));
      assert.ok([...ref].some(([id, it]) => maxAbsDiff(it.logprobs!, clean.get(id)!.logprobs!) > 1e-3));
    });

test('noise keys: different seeds or streams give different noise; noiseKey [length] shares it between equal lengths', async () => {
  const [a] = makeItems([10], 512, 1);
  const b = { id: a.id + 1, ids: a.ids }; // same tokens, another item id
  const keyed = (noiseKey: KeyPart[], op: PerturbOp = 'angle_exact'): Plan =>
    plan('logprobs').perturb(hooks.residPost(2), { op, delta: 0.5, noiseKey, signKey: noiseKey });
  const lp = async (p: Plan, o: RunOptions) => (await stories.runWithHooks([a, b], p, o)).items.map((x) => x.logprobs!);
  for (const op of OPS) {
    const [x1] = await lp(keyed(['item', 'layer'], op), { seed: 1 });
    const [x2] = await lp(keyed(['item', 'layer'], op), { seed: 2 });
    const [x3] = await lp(keyed(['item', 'layer'], op), { seed: 1, stream: 9 });
    assert.ok(maxAbsDiff(x1, x2) > 1e-4, `${op}: seeds 1 and 2 gave the same result`);
    assert.ok(maxAbsDiff(x1, x3) > 1e-4, `${op}: streams 0 and 9 gave the same result`);
    const [y1] = await lp(keyed(['item', 'layer'], op), { seed: 1 });
    assert.equal(maxAbsDiff(x1, y1), 0, `${op}: not reproducible`);
    // item-keyed: a and b (same tokens) get different draws; length-keyed: identical draws
    const [ia, ib] = await lp(keyed(['item', 'layer'], op), { seed: 1 });
    assert.ok(maxAbsDiff(ia, ib) > 1e-4, `${op}: item-keyed draws equal for different items`);
    const [la, lb] = await lp(keyed(['length'], op), { seed: 1 });
    assert.ok(maxAbsDiff(la, lb) <= INV_TOL, `${op}: length-keyed draws differ for equal lengths`);
  }
  // at the generator level
  const draw = (k: DrawKey) => {
    const out = new Float32Array(5 * 16);
    normals(k, 5, 16, out);
    return out;
  };
  assert.ok(maxAbsDiff(draw(key({})), draw(key({ seed: 2 }))) > 0.5);
  assert.ok(maxAbsDiff(draw(key({})), draw(key({ stream: 1 }))) > 0.5);
  assert.ok(maxAbsDiff(draw(key({})), draw(key({ layer: 1 }))) > 0.5);
  assert.ok(maxAbsDiff(draw(key({})), draw(key({ item: 1 }))) > 0.5);
  assert.equal(maxAbsDiff(draw(key({ parts: ['length'] })), draw(key({ parts: ['length'], item: 3, layer: 2 }))), 0);
  assert.ok(maxAbsDiff(draw(key({ parts: ['length'] })), draw(key({ parts: ['length'], length: 6 }))) > 0.5);
  // a block of T positions is a prefix of a longer block (position-keyed counters)
  const short = new Float32Array(3 * 16);
  normals(key({}), 3, 16, short);
  assert.equal(maxAbsDiff(short, draw(key({})).subarray(0, 48)), 0);
});

// ---------------------------------------------------------------------------------------------
// perturbation invariants on a real model

const D = 64; // stories260K hidden size
const LAYER = 2;
const HOOK = hooks.residPost(LAYER);

async function cleanAndPerturbed(model: Model, op: PerturbOp, delta: number, extra: RunOptions = {}, items = ITEMS()) {
  const clean = await model.runWithHooks(items, plan('logprobs').capture(HOOK));
  const pert = await model.runWithHooks(items, plan('logprobs').perturb(HOOK, { op, delta }).capture(HOOK), {
    seed: 5,
    ...extra,
  });
  return { items, clean, pert };
}

async function minNorm(model: Model, hook: HookName = HOOK): Promise<number> {
  const r = await model.runWithHooks(ITEMS(), plan('logprobs').capture(hook));
  return Math.min(...r.items.flatMap((it) => rowNorms(it.captures[hook].data, model.cfg.dModel)));
}

test('magnitude and exact angle move every real token by exactly δ; exact angle keeps norms; magnitude keeps directions', async () => {
  const mn = await minNorm(stories);
  for (const op of ['magnitude', 'angle_exact'] as const)
    for (const delta of [0.1, 0.5 * mn]) {
      const { clean, pert } = await cleanAndPerturbed(stories, op, delta);
      pert.items.forEach((it, i) => {
        const h = clean.items[i].captures[HOOK].data;
        const h2 = it.captures[HOOK].data;
        const disp = rowDists(h2, h, D);
        disp.forEach((d, t) =>
          assert.ok(Math.abs(d - delta) <= 1e-3 * delta, `${op} δ=${delta} item ${it.id} token ${t}: moved ${d}`),
        );
        // the runner's own per-token report agrees
        it.perturbation![0].disp.forEach((d) => assert.ok(Math.abs(d - delta) <= 1e-3 * delta));
        const n1 = rowNorms(h, D);
        const n2 = rowNorms(h2, D);
        if (op === 'angle_exact')
          n1.forEach((r, t) => assert.ok(Math.abs(n2[t] - r) <= 1e-5 * r, `norm changed at ${t}: ${r} → ${n2[t]}`));
        else
          n1.forEach((r, t) => {
            // h' = (1 ± δ/r)·h: parallel, norm r ± δ
            assert.ok(Math.abs(Math.abs(n2[t] - r) - delta) <= 1e-3 * delta);
            let dot = 0;
            for (let j = 0; j < D; j++) dot += h[t * D + j] * h2[t * D + j];
            assert.ok(Math.abs(Math.abs(dot) / (r * n2[t]) - 1) <= 1e-5);
          });
      });
    }
});

test('perturbing several layers: every layer reports displacement δ per token (magnitude, exact angle)', async () => {
  const mn = await minNorm(stories, hooks.residPost(0));
  for (const op of ['magnitude', 'angle_exact'] as const) {
    const delta = Math.min(0.5, 0.4 * mn);
    const r = await stories.runWithHooks(
      ITEMS(),
      plan('logprobs').perturb([0, 2, 4].map(hooks.residPost), { op, delta }),
      {
        seed: 3,
      },
    );
    for (const it of r.items) {
      assert.deepEqual(
        it.perturbation!.map((p) => p.layer),
        [0, 2, 4],
      );
      for (const p of it.perturbation!)
        p.disp.forEach((d) => assert.ok(Math.abs(d - delta) <= 1e-3 * delta, `${op} layer ${p.layer}: ${d}`));
    }
  }
});

test('legacy angle: mean displacement per sentence = δ (bisection resolution), norms kept, per-token displacement ∝ ‖h‖', async () => {
  const delta = 1.0;
  for (const iters of [20, 12]) {
    const items = ITEMS();
    const clean = await stories.runWithHooks(items, plan('logprobs').capture(HOOK));
    const pert = await stories.runWithHooks(
      items,
      plan('logprobs').perturb(HOOK, { op: 'angle_legacy', delta, legacyIters: iters }).capture(HOOK),
      { seed: 5 },
    );
    pert.items.forEach((it, i) => {
      const h = clean.items[i].captures[HOOK].data;
      const h2 = it.captures[HOOK].data;
      const disp = rowDists(h2, h, D);
      const n1 = rowNorms(h, D);
      const meanR = n1.reduce((a, b) => a + b, 0) / n1.length;
      const mean = disp.reduce((a, b) => a + b, 0) / disp.length;
      // m ∈ [0, 2] known to 2^-iters·2; d(mean disp)/dm ≤ mean r
      const res = meanR * 2 ** (1 - iters) + 1e-4 * delta;
      assert.ok(
        Math.abs(mean - delta) <= res,
        `iters ${iters} item ${it.id}: mean disp ${mean} vs δ ${delta} (resolution ${res})`,
      );
      n1.forEach((r, t) => assert.ok(Math.abs(rowNorms(h2, D)[t] - r) <= 1e-5 * r, `norm changed at ${t}`));
      // per-token displacement is not δ (only the mean is) unless all norms are equal
      assert.ok(Math.max(...disp) - Math.min(...disp) > 1e-3);
    });
  }
});

test('legacy angle quirk: with m capped at 2, a huge δ falls short (mean displacement < δ, ≈ 1.05·mean ‖h‖)', async () => {
  const items = ITEMS();
  const clean = await stories.runWithHooks(items, plan('logprobs').capture(HOOK));
  const maxNorm = Math.max(...clean.items.map((it) => Math.max(...rowNorms(it.captures[HOOK].data, D))));
  const delta = 10 * maxNorm;
  const pert = await stories.runWithHooks(
    items,
    plan('logprobs').perturb(HOOK, { op: 'angle_legacy', delta }).capture(HOOK),
    { seed: 5 },
  );
  pert.items.forEach((it, i) => {
    const h = clean.items[i].captures[HOOK].data;
    const disp = rowDists(it.captures[HOOK].data, h, D);
    const mean = disp.reduce((a, b) => a + b, 0) / disp.length;
    const meanR = rowNorms(h, D).reduce((a, b) => a + b, 0) / disp.length;
    assert.ok(mean < delta, `mean disp ${mean} reached δ ${delta}`);
    assert.ok(mean <= 1.2 * meanR && mean >= 0.8 * meanR, `mean disp ${mean} vs mean ‖h‖ ${meanR}`);
  });
});

// ---------------------------------------------------------------------------------------------
// LayerNorm scale invariance and the magnitude sign quirk (GPT-NeoX fixture: LayerNorm, parallel residual)

test("magnitude with s = +1 leaves the next layer's ln1.hook_out unchanged; s = −1 with δ > r flips h (documented quirk)", async () => {
  const items = makeItems([12, 7, 4], 512, 3);
  const Dn = neox.cfg.dModel;
  const caps: HookName[] = ['blocks.1.hook_resid_post', 'blocks.2.ln1.hook_out'];
  const clean = await neox.runWithHooks(items, plan('logprobs').capture(caps));
  const maxR = Math.max(...clean.items.flatMap((it) => rowNorms(it.captures['blocks.1.hook_resid_post'].data, Dn)));
  const run = (delta: number, s: number) =>
    neox.runWithHooks(
      items,
      plan('logprobs')
        .perturb(hooks.residPost(1), {
          op: 'magnitude',
          delta,
          signKey: [],
          draws: { signs: Object.fromEntries(items.map((it) => [it.id, new Float32Array(it.ids.length).fill(s)])) },
        })
        .capture(caps),
    );

  // s = +1: h' = (1 + δ/r)·h, LayerNorm(h') = LayerNorm(h) up to ε
  const up = await run(5.0, +1);
  up.items.forEach((it, i) => {
    const c = clean.items[i];
    const ln0 = c.captures['blocks.2.ln1.hook_out'].data;
    const ln1 = it.captures['blocks.2.ln1.hook_out'].data;
    const scale = Math.max(...ln0.map(Math.abs));
    assert.ok(maxAbsDiff(ln0, ln1) <= 1e-4 * scale, `item ${it.id}: ln1 changed by ${maxAbsDiff(ln0, ln1)}`);
    rowDists(it.captures['blocks.1.hook_resid_post'].data, c.captures['blocks.1.hook_resid_post'].data, Dn).forEach(
      (d) => assert.ok(Math.abs(d - 5) <= 5e-3),
    );
  });

  // s = −1, δ > r at every token: factor 1 − δ/r < 0, the vector is reversed (no check exists, by design)
  const delta = 3 * maxR;
  const beta = readTensor(
    readSafetensorsHeader(path.join(NEOX, 'model.safetensors')),
    'gpt_neox.layers.2.input_layernorm.bias',
  ).data;
  const flip = await run(delta, -1);
  flip.items.forEach((it, i) => {
    const c = clean.items[i];
    const h = c.captures['blocks.1.hook_resid_post'].data;
    const h2 = it.captures['blocks.1.hook_resid_post'].data;
    const r = rowNorms(h, Dn);
    for (let t = 0; t < r.length; t++) {
      const f = 1 - delta / (r[t] + 1e-8);
      assert.ok(f < 0);
      for (let j = 0; j < Dn; j++)
        assert.ok(Math.abs(h2[t * Dn + j] - f * h[t * Dn + j]) <= 1e-4 * Math.abs(f) * r[t], `token ${t} dim ${j}`);
    }
    rowDists(h2, h, Dn).forEach((d) => assert.ok(Math.abs(d - delta) <= 1e-3 * delta)); // still moved by exactly δ
    // LayerNorm(−c·h) − β = −(LayerNorm(h) − β)
    const ln0 = c.captures['blocks.2.ln1.hook_out'].data;
    const ln1 = it.captures['blocks.2.ln1.hook_out'].data;
    for (let k = 0; k < ln0.length; k++)
      assert.ok(Math.abs(ln1[k] - beta[k % Dn] + (ln0[k] - beta[k % Dn])) <= 1e-3, `ln flip at ${k}`);
  });
});

// ---------------------------------------------------------------------------------------------
// patching

test('patching a clean run with its own cached values returns it unchanged', async () => {
  const items = ITEMS();
  const names: HookName[] = [
    'blocks.1.hook_attn_out',
    'blocks.2.attn.hook_z',
    'blocks.3.hook_resid_mid',
    'blocks.1.attn.hook_pattern',
    'blocks.4.ln2.hook_normalized',
    'blocks.0.mlp.hook_post',
  ];
  const { cache, result: clean } = await stories.runWithCache(items, names, { plan: plan('logprobs', 'entropy') });
  const patched = await stories.runWithHooks(items, plan('logprobs', 'entropy').patch(names, cache));
  patched.items.forEach((it, i) => {
    assert.ok(maxAbsDiff(it.logprobs!, clean.items[i].logprobs!) <= 1e-6);
    assert.ok(maxAbsDiff(it.entropy!, clean.items[i].entropy!) <= 1e-6);
  });
  // and a patch with other values does change the result
  const A = hooks.attnOut(1);
  const shifted = ActivationCache.fromTensors(
    A,
    items,
    clean.items.map((it) => ({ dims: it.captures[A].dims, data: it.captures[A].data.map((x) => x * 1.5 + 0.1) })),
  );
  const moved = await stories.runWithHooks(items, plan('logprobs').patch(A, shifted));
  assert.ok(moved.items.some((it, i) => maxAbsDiff(it.logprobs!, clean.items[i].logprobs!) > 1e-3));
});

test('per-head patch of hook_z changes only the selected heads', async () => {
  const items = ITEMS();
  const Z = hooks.attn.z(2);
  const OUT = hooks.attnOut(2);
  const { nHeads: H, headDim: hd } = stories.cfg;
  const sel = [1, 5];
  const clean = await stories.runWithHooks(items, plan('logprobs').capture([Z, OUT]));
  // the patch: random values on the selected heads, garbage (1e3) on all the others
  let s = 1;
  const rnd = () => ((s = Math.imul(s, 48271) % 2147483647 >>> 0), s / 2147483647 - 0.5);
  const garbage = clean.items.map((it) => {
    const z = it.captures[Z];
    const data = new Float32Array(z.data.length);
    for (let k = 0; k < data.length; k++) data[k] = sel.includes(Math.floor(k / hd) % H) ? rnd() : 1e3;
    return { dims: z.dims, data };
  });
  // what a correct per-head patch must produce: the clean z with the selected heads replaced
  const intended = clean.items.map((it, i) => {
    const z = it.captures[Z];
    const data = Float32Array.from(z.data);
    for (let k = 0; k < data.length; k++) if (sel.includes(Math.floor(k / hd) % H)) data[k] = garbage[i].data[k];
    return { dims: z.dims, data };
  });
  const perHead = await stories.runWithHooks(
    items,
    plan('logprobs')
      .patch(Z, ActivationCache.fromTensors(Z, items, garbage), { heads: sel })
      .capture(OUT),
  );
  const full = await stories.runWithHooks(
    items,
    plan('logprobs')
      .patch(Z, ActivationCache.fromTensors(Z, items, intended))
      .capture(OUT),
  );
  perHead.items.forEach((it, i) => {
    const a = it.captures[OUT].data;
    assert.ok(
      maxAbsDiff(a, full.items[i].captures[OUT].data) <= 1e-5,
      `item ${it.id}: per-head patch ≠ patching the selected heads only`,
    );
    assert.ok(maxAbsDiff(a, clean.items[i].captures[OUT].data) > 1e-3, 'selected heads were not patched');
    assert.ok(maxAbsDiff(it.logprobs!, full.items[i].logprobs!) <= 1e-5);
  });
  // per-head scale with factor 1 is a no-op; factor 0 on all heads = zero ablation
  const one = await stories.runWithHooks(items, plan('logprobs').scale(Z, 1, { heads: sel }));
  one.items.forEach((it, i) => assert.ok(maxAbsDiff(it.logprobs!, clean.items[i].logprobs!) <= 1e-6));
});

test('maxSessions releases the least recently used session and keeps results identical', async () => {
  const m = await Model.fromDir(path.join(SHARED, 'models/stories260k-hf'), { maxSessions: 1 });
  const items = [{ id: 0, ids: [1, 40, 50, 60, 70] }];
  const plain = plan('logprobs');
  const pert = plan('logprobs').perturb(hooks.residPost(1), { op: 'magnitude', delta: 1 });
  const a = await m.runWithHooks(items, plain);
  await m.runWithHooks(items, pert, { seed: 1 });
  const b = await m.runWithHooks(items, plain); // rebuilt after eviction
  assert.deepEqual(b.items[0].logprobs, a.items[0].logprobs);
  assert.equal(m.liveSessions, 1);
  await m.release();
});

test('in-graph log-probs and entropies equal a float64 log-softmax of the returned logits', async () => {
  const m = await Model.fromDir(path.join(SHARED, 'models/stories260k-hf'));
  const items = [
    { id: 0, ids: [1, 40, 50, 60, 70, 80, 90] },
    { id: 1, ids: [1, 300, 20] },
  ];
  const r = await m.runWithHooks(items, plan('logits', 'logprobs', 'entropy'));
  for (const [i, it] of r.items.entries()) {
    const V = it.logits!.dims[1];
    for (let t = 0; t < items[i].ids.length; t++) {
      const z = Array.from(it.logits!.data.subarray(t * V, (t + 1) * V));
      const mx = Math.max(...z);
      const lse = mx + Math.log(z.reduce((a, x) => a + Math.exp(x - mx), 0));
      const H = lse - z.reduce((a, x) => a + Math.exp(x - lse) * x, 0);
      assert.ok(Math.abs(H - it.entropy![t]) < 1e-4, `entropy item ${i} t ${t}`);
      if (t + 1 < items[i].ids.length)
        assert.ok(Math.abs(z[items[i].ids[t + 1]] - lse - it.logprobs![t]) < 1e-5, `logprob item ${i} t ${t}`);
    }
  }
  await m.release();
});
