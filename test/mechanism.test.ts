/**
 * Mechanism experiments (issue 7) on tiny/stories models: the engine facts the repair cells rest on
 * (first-layer patches are no-ops, LayerNorm hides positive rescaling, self-patching is the
 * identity, LN repair ≡ attn+MLP repair in a parallel block), the recovery formulas on synthetic
 * records against hand computation, and resuming E3/E4 from their JSONL without recomputing.
 */
import './test-data';
import test from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Study } from '../lib/src/experiments/study';
import { tinyCheckpoint } from '../lib/src/experiments/tiny';
import { perturbedPlan, sentenceLoss } from '../lib/src/experiments/runs';
import { hooks as H, type HookName } from '../lib/src/engine/hooks';
import { plan, type Plan } from '../lib/src/engine/plan';
import type { Item } from '../lib/src/engine/types';
import * as M from '../lib/src/experiments/mechanism';
import { parseResultsFile } from '../lib/src/results';

const SHARED = process.env.DIRMAG_SHARED ?? path.resolve(__dirname, '../../shared');
const STORIES = path.join(SHARED, 'models/stories260k-hf');
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'dirmag-mech-'));
process.env.DIRMAG_PROGRESS = '0';

const open = (model: string, resultsDir = tmp()) => Study.open({ model, quick: true, resultsDir });
const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
};
const rowNorms = (d: Float32Array, D: number) =>
  Array.from({ length: d.length / D }, (_, t) => Math.hypot(...d.subarray(t * D, (t + 1) * D)));

async function itemsOf(study: Study, n = 6): Promise<Item[]> {
  const s = await M.e4Settings(study, { sentences: n, seeds: 1 });
  return (await M.mechanismItems(study, s)).items;
}

// ---------------------------------------------------------------------------------------------
// engine facts the repair experiments rely on

// the tiny fixture has 4 layers (middleLayers(4) = [1]); perturb 1–2 so that a second layer exists
const TINY_LAYERS = [1, 2];
for (const [name, model, layers] of [
  ['stories260k (llama, sequential)', () => STORIES, undefined],
  ['gpt_neox_parallel (tiny)', () => tinyCheckpoint('gpt_neox_parallel'), TINY_LAYERS],
] as const) {
  test(`${name}: patching attention or LN outputs at the first perturbed layer is a no-op (its input is still clean)`, async () => {
    const study = await open(model());
    const s = await M.e4Settings(study, { sentences: 6, seeds: 1, layers: layers && [...layers] });
    assert.equal(s.layers.length, 2);
    const items = await itemsOf(study);
    const first = s.layers[0];
    for (const hooks of [M.attnHooks([first]), M.lnHooks([first]), [...M.attnHooks([first]), ...M.mlpHooks([first])]])
      for (const mode of ['angle', 'magnitude'] as const) {
        const { cache: clean } = await study.model.runWithCache(items, hooks);
        const opts = { seed: 1, stream: 7, pass: 0 };
        const at = { mode: M.MECH_MODES[mode], layers: s.layers, delta: s.delta, noiseScope: 'item' as const };
        const plain = await study.model.runWithHooks(items, perturbedPlan(at), opts);
        const patched = await study.model.runWithHooks(
          items,
          perturbedPlan(at, plan('logprobs').patch(hooks, clean)),
          opts,
        );
        const la = plain.items.map((it) => sentenceLoss(it.logprobs!)),
          lb = patched.items.map((it) => sentenceLoss(it.logprobs!));
        assert.ok(maxAbsDiff(la, lb) <= 1e-5, `${mode} ${hooks.join('+')}: losses differ by ${maxAbsDiff(la, lb)}`);
        // …while the same patch one layer later does change the loss under the angle
        if (mode === 'angle' && hooks.length === 1) {
          const h2 = M.attnHooks([s.layers[1]]);
          const { cache: c2 } = await study.model.runWithCache(items, h2);
          const p2 = await study.model.runWithHooks(
            items,
            perturbedPlan({ ...at, mode: M.MECH_MODES.angle }, plan('logprobs').patch(h2, c2)),
            opts,
          );
          assert.ok(
            maxAbsDiff(
              la,
              p2.items.map((it) => sentenceLoss(it.logprobs!)),
            ) > 1e-5,
            'patching the second perturbed layer changes nothing',
          );
        }
      }
    study.close();
  });

  test(`${name}: patching a clean run with its own cached attn/MLP/LN values returns it unchanged`, async () => {
    const study = await open(model());
    const items = await itemsOf(study);
    const layers = Array.from({ length: study.model.cfg.nLayers }, (_, l) => l);
    const hooks = [...M.attnHooks(layers), ...M.mlpHooks(layers), ...M.lnHooks(layers)];
    const { cache, result: clean } = await study.model.runWithCache(items, hooks, { plan: plan('logprobs') });
    for (const set of [M.attnHooks(layers), M.lnHooks(layers), hooks]) {
      const patched = await study.model.runWithHooks(items, plan('logprobs').patch(set, cache));
      patched.items.forEach((it, i) =>
        assert.ok(
          maxAbsDiff(it.logprobs!, clean.items[i].logprobs!) <= 1e-5,
          `item ${i}: ${maxAbsDiff(it.logprobs!, clean.items[i].logprobs!)}`,
        ),
      );
    }
    study.close();
  });
}

test("gpt_neox_parallel: magnitude with positive factor leaves the next layer's ln1/ln2 outputs unchanged up to ε; a reversed vector (s = −1, δ > r) flips them about β", async () => {
  const study = await open(tinyCheckpoint('gpt_neox_parallel'));
  const items = await itemsOf(study, 4);
  const D = study.model.cfg.dModel;
  const L = 1;
  // the norms' outputs (γ and β applied)
  const next = [H.ln1.out(L + 1), H.ln2.out(L + 1)];
  const caps: HookName[] = [H.residPost(L), ...next];
  const clean = await study.model.runWithHooks(items, plan().capture(caps));
  const norms = clean.items.flatMap((it) => rowNorms(it.captures[H.residPost(L)].data, D));
  const minR = Math.min(...norms),
    maxR = Math.max(...norms);
  const run = (delta: number, sign: number) =>
    study.model.runWithHooks(
      items,
      plan()
        .perturb(H.residPost(L), {
          op: 'magnitude',
          delta,
          signKey: [],
          draws: { signs: Object.fromEntries(items.map((it) => [it.id, new Float32Array(it.ids.length).fill(sign)])) },
        })
        .capture(caps),
    );
  // positive factors: s = +1 with a large δ, and s = −1 with δ < r (factor 1 − δ/r > 0)
  for (const [delta, sign] of [
    [5 * maxR, +1],
    [0.5 * minR, -1],
  ]) {
    const r = await run(delta, sign);
    r.items.forEach((it, i) => {
      for (const h of next) {
        const a = clean.items[i].captures[h].data,
          b = it.captures[h].data;
        assert.ok(
          maxAbsDiff(a, b) <= 1e-4 * Math.max(...a.map(Math.abs)),
          `${h} s=${sign} δ=${delta}: changed by ${maxAbsDiff(a, b)}`,
        );
      }
    });
  }
  // the quirk: s = −1 with δ > r reverses h, so LN(h') = 2β − LN(h): the sum is the same vector (2β) at every token
  const flip = await run(3 * maxR, -1);
  flip.items.forEach((it, i) => {
    for (const h of next) {
      const a = clean.items[i].captures[h].data,
        b = it.captures[h].data;
      assert.ok(maxAbsDiff(a, b) > 0.1, `${h}: reversal did not change the LN output`);
      const T = a.length / D;
      for (let t = 1; t < T; t++)
        for (let j = 0; j < D; j++)
          assert.ok(
            Math.abs(a[t * D + j] + b[t * D + j] - (a[j] + b[j])) <= 1e-3,
            `${h} token ${t} dim ${j}: LN(h)+LN(h') not constant`,
          );
    }
  });
  study.close();
});

test('gpt_neox_parallel: LN repair equals attention+MLP repair to float32 rounding (computed)', async () => {
  const study = await open(tinyCheckpoint('gpt_neox_parallel'));
  assert.equal(study.model.cfg.parallelResidual, true);
  const s = await M.e11Settings(study, { sentences: 8, seeds: 1, layers: TINY_LAYERS });
  const eq = await M.parallelEquivalence(study, s);
  assert.equal(eq.rows.length, 2);
  for (const r of eq.rows) {
    assert.ok(r.maxLogprobDiff <= 1e-4, `${r.mode}: log-probs differ by ${r.maxLogprobDiff}`);
    assert.ok(r.maxResidDiff <= 1e-5 * Math.max(1, r.residScale), `${r.mode}: resid differs by ${r.maxResidDiff}`);
  }
  // and the repair is not trivial: it changes the perturbed loss
  const rec = await M.runE11(study, s);
  const c = rec.find((r) => r.key === 's0|angle')!;
  assert.ok(maxAbsDiff(c.unrepaired!, c.repaired!.ln) > 1e-6);
  study.close();
});

// ---------------------------------------------------------------------------------------------
// formulas on synthetic records

test('attention entropy: the original formula over the full key axis (causal zeros included)', () => {
  // H=1, T=2: row 0 = [1, 0], row 1 = [0.5, 0.5]
  const e = M.patternEntropy({ dims: [1, 2, 2], data: Float32Array.from([1, 0, 0.5, 0.5]) });
  const h = (p: number) => -(p + 1e-10) * Math.log(p + 1e-10);
  const row0 = h(1) + h(0),
    row1 = 2 * h(0.5);
  assert.ok(Math.abs(e.layer - (row0 + row1) / 2) < 1e-7);
  assert.ok(Math.abs(e.perHead[0] - e.layer) < 1e-12);
  assert.ok(Math.abs(row1 - Math.LN2) < 1e-8);
  // same-position cosine with GQA: 2 query heads share 1 kv head
  const q = { dims: [1, 2, 2], data: Float32Array.from([1, 0, 0, 1]) };
  const k = { dims: [1, 1, 2], data: Float32Array.from([1, 1]) };
  assert.ok(Math.abs(M.sameTokenCos(q, k) - Math.SQRT1_2) < 1e-6);
});

function repairRecords(
  B: number[],
  perSeed: { mode: M.ModeName; U: number[]; R: Record<string, number[]> }[],
): M.RepairRecord[] {
  const recs: M.RepairRecord[] = [{ key: 'baseline', kind: 'baseline', losses: B, seconds: 0 }];
  const count: Record<string, number> = {};
  for (const p of perSeed) {
    const si = (count[p.mode] = (count[p.mode] ?? -1) + 1);
    recs.push({
      key: `s${si}|${p.mode}`,
      kind: 'condition',
      seedIndex: si,
      mode: p.mode,
      unrepaired: p.U,
      repaired: p.R,
      patched: {},
      seconds: 0,
    });
  }
  return recs;
}

test('recovery formulas applied to records give the hand-computed numbers (E4 R-seed, standard, E9 R-of-means, E11 R-pooled-baseline, E5 without ε)', () => {
  const B = [1, 2, 3]; // mean 2
  // angle: seed 0 U mean 4 (damage 2), R mean 3 (1) → 50%; seed 1 U mean 5 (3), R mean 3.5 (1.5) → 50%
  // magnitude: seed 0 U 2.5 (0.5), R 2.4 → 20%; seed 1 U 3 (1), R 2.9 → 10%
  const recs = repairRecords(B, [
    { mode: 'angle', U: [3, 4, 5], R: { attn: [2, 3, 4], ln: [2.5, 3.5, 4.5], mlp: [3, 4, 5], both: [2, 3, 4] } },
    {
      mode: 'magnitude',
      U: [1.5, 2.5, 3.5],
      R: { attn: [1.4, 2.4, 3.4], ln: [1.5, 2.5, 3.5], mlp: [1.5, 2.5, 3.5], both: [1.4, 2.4, 3.4] },
    },
    { mode: 'angle', U: [4, 5, 6], R: { attn: [2.5, 3.5, 4.5], ln: [3, 4, 5], mlp: [4, 5, 6], both: [2.5, 3.5, 4.5] } },
    {
      mode: 'magnitude',
      U: [2, 3, 4],
      R: { attn: [1.9, 2.9, 3.9], ln: [1.5, 2.5, 3.5], mlp: [2, 3, 4], both: [1.9, 2.9, 3.9] },
    },
  ]);
  const close = (a: number, b: number, tol = 1e-6) => assert.ok(Math.abs(a - b) <= tol, `${a} ≠ ${b}`);
  const e4 = M.summarizeE4(recs);
  close(e4.baseline, 2);
  assert.deepEqual(e4.angle.damage.perSeed, [2, 3]);
  e4.angle.recoverySeed.perSeed.forEach((x) => close(x, 50, 1e-5));
  close(e4.magnitude.recoverySeed.perSeed[0], 20, 1e-4);
  close(e4.magnitude.recoverySeed.perSeed[1], 10, 1e-4);
  close(e4.magnitude.recoverySeed.std, 5, 1e-4); // population std of [20, 10]
  // standard: seed-averaged sentences U = [3.5, 4.5, 5.5], R = [2.25, 3.25, 4.25] → Σ(U−R)/Σ(U−B) = 3.75/7.5
  close(e4.angle.recoverySentences.estimate, 50);
  // per-sentence mean of 100·(U_i−R_i)/(U_i−B_i): (1.25/2.5 + 1.25/2.5 + 1.25/2.5)/3
  close(e4.angle.recoveryPerSentenceMean!, 50);
  // test 3: recoveries [50, 50] vs [20, 10] → differences [30, 40], t = 35/(7.0711/√2) = 7
  close(e4.test3.t, 7, 1e-3);
  // test 1: D [2, 3] vs D′ [1, 1.5]
  close(e4.angle.recoveredNats.mean, 1.25);

  // E9 R-of-means: angle attn: mean U 4.5, mean R 3.25, mean B 2 → 100·1.25/2.5 = 50; mlp 0
  const e9 = M.summarizeE9(recs);
  close(e9.angle.recoveryOfMeans.attn, 50);
  close(e9.angle.recoveryOfMeans.mlp, 0);
  close(e9.magnitude.recoveryOfMeans.both, (100 * 0.1) / 0.75);
  // E9 test: (U − R_mlp) = [0, 0] vs (U − R_attn) = [1, 1.5] → all MLP gains smaller
  assert.ok(e9.angle.mlpVsAttn.t < 0);

  // E11 R-pooled-baseline: angle ln: seed 0 100·(4−3.5)/(4−2) = 25, seed 1 100·(5−4)/(5−2) = 33.33
  const e11 = M.summarizeE11(recs);
  close(e11.angle.recovery.perSeed[0], 25, 1e-5);
  close(e11.angle.recovery.perSeed[1], 100 / 3, 1e-5);
  close(e11.magnitude.recovery.perSeed[0], 0);
  close(e11.magnitude.recovery.perSeed[1], 50, 1e-5);

  // E5: R-seed without ε; the % of full repair divides by our E4 angle recovery (50), not 28.4
  const e5recs: M.E5Record[] = [
    { key: 'ranking', kind: 'baseline', ranking: [2, 1], heads: [], layerScores: { 1: 0, 2: 1 }, seconds: 0 },
    { key: 'baseline', kind: 'baseline', losses: B, seconds: 0 },
    {
      key: 's0|angle',
      kind: 'condition',
      seedIndex: 0,
      mode: 'angle',
      unrepaired: [3, 4, 5],
      repaired: { top1: [2.5, 3.5, 4.5] },
      patched: { top1: [2] },
      seconds: 0,
    },
  ];
  const e5 = M.summarizeE5(e5recs, e4);
  close(e5.rows[0].recovery.mean, 25);
  close(e5.rows[0].pctOfFull!, 50);
  assert.equal(e5.fullRepair, e4.angle.recoverySeed.mean);
});

test('E5/E6 layer choices: scaled k, published NumPy seed-999 sets for 8–15, seeded sets otherwise', () => {
  assert.deepEqual(M.scaledK(8), [2, 4, 6, 8]);
  assert.deepEqual(M.scaledK(2), [1, 2]);
  assert.deepEqual(M.scaledK(4), [1, 2, 3, 4]);
  const sets = M.layerSets([15, 13, 14, 12, 11, 10, 9, 8]);
  const by = (n: string) => sets.find((x) => x.name === n)!.layers;
  assert.deepEqual(by('top'), [12, 13, 14, 15]);
  assert.deepEqual(by('middle'), [10, 11, 12, 14]);
  assert.deepEqual(by('bottom'), [8, 9, 10, 11]);
  assert.deepEqual(
    [by('random1'), by('random2'), by('random3')],
    [
      [10, 11, 14, 15],
      [10, 12, 13, 14],
      [9, 11, 12, 14],
    ],
  );
  const other = M.layerSets([7, 5, 6, 4, 3, 2]);
  assert.deepEqual(
    other.map((x) => x.layers.length),
    [3, 3, 3, 3, 3, 3],
  );
  assert.deepEqual(M.randomLayerSets([2, 3, 4, 5, 6, 7], 3), M.randomLayerSets([2, 3, 4, 5, 6, 7], 3));
  for (const r of M.randomLayerSets([2, 3, 4, 5, 6, 7], 3)) assert.equal(new Set(r).size, 3);
});

// ---------------------------------------------------------------------------------------------
// resume

test('E3 and E4 quick runs resume from their JSONL without recomputing; more seeds append only the new ones', async () => {
  const dir = tmp();
  const study = await open(STORIES, dir);
  const scale = (await M.e3Settings(study)).scale;
  let calls = 0;
  const run = study.model.runWithHooks.bind(study.model);
  study.model.runWithHooks = ((...a: Parameters<typeof run>) => {
    calls++;
    return run(...a);
  }) as typeof run;
  for (const [name, settings, runX] of [
    ['E3', (seeds: number) => M.e3Settings(study, { scale, sentences: 6, seeds }), M.runE3],
    ['E4', (seeds: number) => M.e4Settings(study, { scale, sentences: 6, seeds }), M.runE4],
  ] as const) {
    const file = study.resultsFile(name);
    const recs = await (runX as (st: Study, s: M.MechanismSettings) => Promise<unknown[]>)(study, await settings(1));
    assert.equal(recs.length, 3, `${name}: baseline + 1 seed × 2 modes`);
    assert.equal(parseResultsFile(file).records.length, 3);
    const before = fs.readFileSync(file, 'utf8');
    calls = 0;
    const again = await (runX as (st: Study, s: M.MechanismSettings) => Promise<unknown[]>)(study, await settings(1));
    assert.equal(calls, 0, `${name}: the rerun ran the model ${calls} times`);
    assert.equal(again.length, 3);
    assert.equal(fs.readFileSync(file, 'utf8'), before);
    const more = await (runX as (st: Study, s: M.MechanismSettings) => Promise<unknown[]>)(study, await settings(2));
    assert.equal(more.length, 5);
    assert.equal(parseResultsFile(file).records.length, 5);
    assert.ok(fs.readFileSync(file, 'utf8').startsWith(before), `${name}: earlier records rewritten`);
  }
  // the first perturbed layer's entropy is untouched, and RMSNorm hides magnitude at the next layer (δ < min‖h‖)
  const e3 = M.summarizeE3(parseResultsFile(study.resultsFile('E3')).records as unknown as M.E3Record[]);
  const s = await M.e3Settings(study, { scale });
  const row = (l: number) => e3.layers.find((x) => x.layer === l)!;
  assert.ok(Math.abs(row(s.layers[0]).dAngle) < 1e-6 && Math.abs(row(s.layers[0]).dMagnitude) < 1e-6);
  assert.ok(Math.abs(row(s.layers[1]).dMagnitude) < 1e-4 && Math.abs(row(s.layers[1]).dAngle) > 1e-4);
  study.close();
});
