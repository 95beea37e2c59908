/**
 * Issue 9 ("beyond"): known-answer cases of the three experiments on stories260k (RMSNorm) and the
 * tiny LayerNorm/RMSNorm fixtures, the pure geometry helpers, and resumable records.
 */
import './test-data';
import test from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Study } from '../lib/src/experiments/study';
import { tinyCheckpoint } from '../lib/src/experiments/tiny';
import { parseResultsFile } from '../lib/src/results';
import * as B from '../lib/src/experiments/beyond';
import { hooks } from '../lib/src/engine/hooks';
import { plan } from '../lib/src/engine/plan';

const SHARED = process.env.DIRMAG_SHARED ?? path.resolve(__dirname, '../../shared');
const STORIES = path.join(SHARED, 'models/stories260k-hf');
const CONTRAST = path.resolve(__dirname, '../data/contrast');
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'dirmag-beyond-'));
process.env.DIRMAG_PROGRESS = '0';

const open = (model: string, resultsDir = tmp()) => Study.open({ model, quick: true, resultsDir });

// ---------- pure helpers ----------

test('argmax switches: identical patterns switch nothing; a moved maximum is counted once per row', () => {
  // H=1, T=3 causal pattern
  const p = { dims: [1, 3, 3], data: Float32Array.from([1, 0, 0, 0.3, 0.7, 0, 0.5, 0.2, 0.3]) };
  const same = B.countSwitches(p, { dims: p.dims, data: Float32Array.from(p.data) });
  assert.deepEqual(same.switches, [0]);
  assert.deepEqual(same.tv, [0]);
  assert.equal(same.rows, 2);
  const moved = { dims: p.dims, data: Float32Array.from([1, 0, 0, 0.6, 0.4, 0, 0.5, 0.2, 0.3]) };
  const c = B.countSwitches(p, moved);
  assert.deepEqual(c.switches, [1]);
  assert.ok(Math.abs(c.tv[0] - 0.3) < 1e-6);
  assert.deepEqual([...B.patternArgmax(p)], [0, 1, 0]);
});

test('two-set statistics: identical sets give cosine 1, zero mean difference, and the union variance', () => {
  const A = [Float32Array.from([1, 2, 3]), Float32Array.from([3, 2, 1])];
  const s = B.twoSetStats(
    A,
    A.map((v) => Float32Array.from(v)),
  );
  assert.equal(s.cosMeans, 1);
  assert.equal(s.meanDiffNorm, 0);
  assert.deepEqual([s.varMean, s.varMax, s.varArgmax], [2 / 3, 1, 0]);
  const o = B.twoSetStats([Float32Array.from([1, 0])], [Float32Array.from([0, 2])]);
  assert.ok(Math.abs(o.cosMeans) < 1e-12);
  assert.ok(Math.abs(o.meanDiffNorm - Math.sqrt(5)) < 1e-12);
});

test('signed factors are 1 ± ε, reproducible by key, and exactly 1 at ε = 0', () => {
  const f = B.signedFactors(1000, 0.1, 'k', 1);
  assert.ok([...f].every((x) => Math.abs(Math.abs(x - 1) - 0.1) < 1e-6));
  const plus = [...f].filter((x) => x > 1).length;
  assert.ok(plus > 400 && plus < 600, `${plus} of 1000 positive`);
  assert.deepEqual(f, B.signedFactors(1000, 0.1, 'k', 1));
  assert.ok([...B.signedFactors(10, 0, 'k')].every((x) => x === 1));
});

// ---------- B1: what the norm sees ----------

const NORM_CASES: [string, () => string][] = [
  ['stories260k (RMSNorm)', () => STORIES],
  ['llama_gqa (RMSNorm)', () => tinyCheckpoint('llama_gqa')],
  ['gpt_neox_parallel (LayerNorm)', () => tinyCheckpoint('gpt_neox_parallel')],
  ['opt (LayerNorm)', () => tinyCheckpoint('opt')],
  ['gpt2 (LayerNorm)', () => tinyCheckpoint('gpt2')],
];

for (const [name, dir] of NORM_CASES) {
  test(`B1 ${name}: positive rescaling is invisible to ln1, a sign flip gives 2β − n, a mean shift is invisible only to LayerNorm`, async () => {
    const study = await open(dir());
    try {
      const s = B.normViewSettings(study, { layers: [0, 1], kappas: [0.5], sentences: 6 });
      const sum = B.summarizeNormView(await B.runNormView(study, s), study.name);
      for (const r of sum.controls.rescale!)
        assert.ok(r.cosOutMin >= 1 - 1e-6, `rescale layer ${r.layer}: cos ${r.cosOutMin}`);
      for (const r of sum.controls.flip!) {
        assert.ok(r.sumSpread < 1e-5, `flip layer ${r.layer}: n + n′ varies by ${r.sumSpread}`);
        if (sum.norm === 'rmsnorm') assert.ok(r.cosOutMax <= -1 + 1e-6, `RMSNorm flip: cos ${r.cosOutMax}`);
      }
      for (const r of sum.controls.meanShift!)
        if (sum.norm === 'layernorm')
          assert.ok(r.cosOutMin >= 1 - 1e-6, `LayerNorm mean shift layer ${r.layer}: cos ${r.cosOutMin}`);
        else assert.ok(r.cosOutMean < 1 - 1e-3, `RMSNorm sees a mean shift (layer ${r.layer}: cos ${r.cosOutMean})`);
      // magnitude (κ < 1: all factors positive) hardly survives; a rotation does
      const mag = sum.perturb.magnitude['0.5'],
        ang = sum.perturb.angle_exact['0.5'];
      for (const r of mag) {
        assert.ok(r.cosOut >= 1 - 1e-5, `magnitude keeps direction after ln1 (layer ${r.layer}: ${r.cosOut})`);
        assert.ok(r.cosIn >= 1 - 1e-5);
      }
      for (const [m, a] of mag.map((r, i) => [r, ang[i]]))
        assert.ok(a.survival > 10 * m.survival, `layer ${m.layer}: angle ${a.survival} vs magnitude ${m.survival}`);
      assert.equal(sum.norm, study.model.cfg.norm);
    } finally {
      study.close();
    }
  });
}

// ---------- B2: norm interference ----------

test('B2 stories260k: ε = 0 switches no argmax anywhere; q and v never switch a local argmax; k does at 10%', async () => {
  const study = await open(STORIES);
  try {
    const s = B.interferenceSettings(study, { layers: [1, 3], eps: [0, 0.1], sentences: 8 });
    const sum = B.summarizeInterference(await B.runInterference(study, s));
    for (const c of sum.curves.filter((x) => x.eps === 0)) {
      assert.equal(c.local, 0, `${c.target} ε=0 local`);
      assert.equal(c.downstream, 0, `${c.target} ε=0 downstream`);
      assert.equal(c.localTv, 0);
    }
    assert.equal(B.curveAt(sum, 'q', 0.1)!.local, 0, 'a positive factor on a query row keeps its argmax');
    assert.equal(B.curveAt(sum, 'v', 0.1)!.local, 0, 'values do not enter the same layer’s pattern');
    assert.equal(B.curveAt(sum, 'v', 0.1)!.localTv, 0);
    assert.ok(B.curveAt(sum, 'k', 0.1)!.local > 0, 'per-key factors move argmaxes');
    assert.ok(
      B.curveAt(sum, 'resid_pre', 0.1)!.local < B.curveAt(sum, 'k', 0.1)!.local,
      'ln1 absorbs a per-token rescale of resid_pre',
    );
    const prose = B.describeInterference(sum, study.name);
    assert.match(prose, /\*\*Question\.\*\*[\s\S]*\*\*Method\.\*\*[\s\S]*\*\*Result\.\*\*[\s\S]*\*\*Limits\.\*\*/);
    assert.doesNotMatch(prose, /NaN|undefined/);
  } finally {
    study.close();
  }
});

test('B2: captures a few items at a time; ε = 0 still switches nothing; the same as one item per pass', async () => {
  const run = async (set: (m: Study['model']) => void) => {
    const study = await open(STORIES);
    try {
      set(study.model);
      return await B.runInterference(
        study,
        B.interferenceSettings(study, { layers: [2], eps: [0, 0.1], sentences: 6 }),
      );
    } finally {
      study.close();
    }
  };
  const chunked = await run((m) => (m.captureBudgetBytes = 1)); // one item per part
  assert.ok(chunked.every((r) => (r.settings as { itemsPerPass: number }).itemsPerPass === 1));
  for (const r of chunked.filter((x) => x.eps === 0))
    assert.ok(
      r.switches.flat().every((v) => v === 0),
      r.key,
    );
  // one part of all items, but every pass batches single items
  const single = await run((m) => (m.tokensPerBatch = 1));
  assert.equal(single.length, chunked.length);
  chunked.forEach((r, i) => {
    assert.deepEqual([r.switches, r.tv, r.rows], [single[i].switches, single[i].tv, single[i].rows], r.key);
  });
});

test('B2 known answer: a uniform scale of all keys of one head (engine `scale`) sharpens its pattern but keeps every argmax', async () => {
  const study = await open(STORIES);
  try {
    const { items } = await (await import('../lib/src/experiments/runs')).wikitextItems(study, 6);
    const pat = hooks.attn.pattern(2),
      k = hooks.attn.k(2);
    const clean = await study.model.runWithHooks(items, plan().capture(pat));
    const scaled = await study.model.runWithHooks(
      items,
      plan()
        .scale(k, 1.5, { heads: [0] })
        .capture(pat),
    );
    const kvGroup = study.model.cfg.nHeads / study.model.cfg.nKvHeads; // query heads 0..kvGroup−1 read kv head 0
    let moved = 0;
    clean.items.forEach((it, i) => {
      const c = B.countSwitches(it.captures[pat], scaled.items[i].captures[pat]);
      assert.ok(
        c.switches.every((x) => x === 0),
        `item ${i}: switches ${c.switches}`,
      );
      for (let h = 0; h < c.tv.length; h++)
        if (h >= kvGroup) assert.equal(c.tv[h], 0, `head ${h} does not read kv head 0`);
      moved += c.tv.slice(0, kvGroup).reduce((a, b) => a + b, 0);
    });
    assert.ok(moved > 0, 'the scaled heads’ patterns did change');
  } finally {
    study.close();
  }
});

// ---------- B3: contrast geometry ----------

test('B3: identical sets give cosine 1 and zero mean difference at every layer; a parallel model skips resid_mid', async () => {
  const study = await open(STORIES);
  try {
    const s = B.contrastSettings(study, {
      fileA: path.join(CONTRAST, 'questions.txt'),
      fileB: path.join(CONTRAST, 'questions.txt'),
      labelB: 'questions again',
    });
    assert.deepEqual(s.hooks, ['resid_pre', 'resid_mid']);
    const sum = B.summarizeContrast(await B.runContrast(study, s));
    assert.equal(sum.byHook.resid_pre!.length, study.model.cfg.nLayers + 1);
    for (const rows of Object.values(sum.byHook))
      for (const r of rows!) {
        assert.ok(Math.abs(r.cosMeans - 1) < 1e-9, `${r.hook}: cos ${r.cosMeans}`);
        assert.equal(r.meanDiffNorm, 0);
        assert.ok(Math.abs(r.withinVarMean - r.varMean) < 1e-9 * Math.max(1, r.varMean));
      }
    const real = B.summarizeContrast(await B.runContrast(study, B.contrastSettings(study, { experiment: 'B3-real' })));
    assert.ok(
      real.byHook.resid_pre!.some((r) => r.cosMeans < 0.999),
      'questions and statements differ somewhere',
    );
    assert.equal(real.nA, 40);
    assert.doesNotMatch(B.describeContrast(real, study.name), /NaN|undefined/);
  } finally {
    study.close();
  }
  const par = await open(tinyCheckpoint('gpt_neox_parallel'));
  try {
    const s = B.contrastSettings(par);
    assert.deepEqual(s.hooks, ['resid_pre']);
    assert.match(s.skipped[0], /parallel residual/);
  } finally {
    par.close();
  }
});

test('prompt files: comments and blank lines are skipped; an empty file is refused', () => {
  const dir = tmp();
  fs.writeFileSync(path.join(dir, 'a.txt'), '# header\n\n one \ntwo\n');
  assert.deepEqual(B.loadPrompts(path.join(dir, 'a.txt')), ['one', 'two']);
  fs.writeFileSync(path.join(dir, 'b.txt'), '\n# only a comment\n');
  assert.throws(() => B.loadPrompts(path.join(dir, 'b.txt')), /no prompts/);
  assert.throws(() => B.loadPrompts(path.join(dir, 'missing.txt')), /no such prompt file/);
});

// ---------- records resume ----------

test('records resume: a rerun appends nothing, a lost last record is recomputed identically, other settings go to their own store', async () => {
  const dir = tmp();
  const study = await open(STORIES, dir);
  try {
    const s = B.interferenceSettings(study, {
      layers: [0, 2],
      targets: ['k', 'resid_pre'],
      eps: [0, 0.05],
      sentences: 5,
    });
    await B.runInterference(study, s);
    const file = study.resultsFile(s.experiment);
    const before = fs.readFileSync(file, 'utf8');
    assert.equal(parseResultsFile(file).records.length, 8);
    await B.runInterference(study, s);
    assert.equal(fs.readFileSync(file, 'utf8'), before, 'nothing recomputed');
    study.close();
    // drop the last record, as if the run had been killed before it
    const lines = before.trimEnd().split('\n');
    fs.writeFileSync(file, lines.slice(0, -1).join('\n') + '\n');
    const again = await open(STORIES, dir);
    try {
      await B.runInterference(again, s);
      const strip = (t: string) =>
        t
          .trimEnd()
          .split('\n')
          .map((l) => {
            const { seconds, env, ...r } = JSON.parse(l);
            return JSON.stringify(r);
          });
      assert.deepEqual(strip(fs.readFileSync(file, 'utf8')), strip(before));
      // other settings: a store of their own, the first one untouched
      await B.runInterference(again, { ...s, eps: [0, 0.1] });
      assert.match(again.resultsFile(s.experiment), /@[0-9a-f]{8}\.jsonl$/);
      assert.deepEqual(strip(fs.readFileSync(file, 'utf8')), strip(before));
    } finally {
      again.close();
    }
  } finally {
    study.close();
  }
});
