/**
 * Cross-model replication (issue 8): registry consistency with the architectures' configs, BOS
 * expectations, the memory plan's refusal, the summary table and Figure 3 from synthetic records,
 * and every runner in quick mode on its tiny checkpoint with resumable records.
 */
import './test-data';
import test from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseConfig } from '../lib/src/models/registry';
import { Checkpoint } from '../lib/src/models/weights';
import { loadTokenizer } from '../lib/src/data';
import { Study } from '../lib/src/experiments/study';
import { tinyCheckpoint } from '../lib/src/experiments/tiny';
import { SweepRecord } from '../lib/src/experiments/e1-sweep';
import { tableCells } from '../lib/src/tables';
import * as C from '../lib/src/experiments/crossmodel';
import * as M from '../lib/src/experiments/mechanism';

const SHARED = process.env.DIRMAG_SHARED ?? path.resolve(__dirname, '../../shared');
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'dirmag-cm-'));
process.env.DIRMAG_PROGRESS = '0';
const fixtureCfg = (c: string) =>
  parseConfig(JSON.parse(fs.readFileSync(path.join(SHARED, 'fixtures/hf', c, 'config.json'), 'utf8')));

test('registry: every entry is consistent with its architecture and the published cell', () => {
  const keys = C.CROSSMODEL_REGISTRY.map((e) => e.key);
  assert.deepEqual(keys, [
    'pythia-410m',
    'pythia-1.4b',
    'opt-1.3b',
    'tinyllama-1.1b-chat',
    'opt-iml-1.3b',
    'zephyr-7b-beta',
  ]);
  for (const e of C.CROSSMODEL_REGISTRY) {
    const a = e.arch;
    assert.equal(a.dModel % a.nHeads, 0, e.key);
    assert.equal(a.nHeads % a.nKvHeads, 0, e.key);
    assert.ok(
      e.layers.every((l, i) => l >= 0 && l < a.nLayers && (i === 0 || l === e.layers[i - 1] + 1)),
      `${e.key}: layers`,
    );
    assert.deepEqual(
      e.layers,
      a.nLayers === 24 && e.originalDtype === 'float32' ? [8, 9, 10, 11, 12, 13, 14, 15] : e.layers,
    );
    if (['tinyllama-1.1b-chat', 'opt-iml-1.3b', 'zephyr-7b-beta'].includes(e.key))
      assert.deepEqual(e.layers, [4, 5, 6, 7]);
    assert.equal(
      e.legacyIters,
      { 'zephyr-7b-beta': 12, 'tinyllama-1.1b-chat': 15, 'opt-iml-1.3b': 15 }[e.key] ?? 20,
      `${e.key}: bisection iterations`,
    );
    assert.ok(C.PUBLISHED_CROSSMODEL[e.key], `${e.key}: published numbers`);
    // architecture facts agree with the tiny fixture of the same family (Mistral = Llama blocks)
    const f = fixtureCfg(e.tinyCase);
    assert.equal(f.modelType, a.modelType === 'mistral' ? 'llama' : a.modelType, e.key);
    assert.equal(f.norm, a.norm, `${e.key}: norm`);
    assert.equal(f.parallelResidual, a.parallelResidual, `${e.key}: residual layout`);
    assert.equal(f.nKvHeads < f.nHeads, a.nKvHeads < a.nHeads, `${e.key}: GQA`);
    if (e.originalDtype === 'float16' || e.checkpointDtype !== 'float32') assert.ok(e.notes.length > 0);
    const scaled = C.scaledLayers(e, f.nLayers);
    assert.ok(scaled.length >= 1 && scaled.every((l) => l >= 0 && l < f.nLayers), `${e.key}: scaled layers ${scaled}`);
    assert.deepEqual(C.scaledLayers(e, a.nLayers), e.layers);
  }
  const r = (k: string) => C.registryEntry(k);
  assert.deepEqual(
    [r('E8').loss.seedOffset, r('E8').entropy!.seedOffset, r('E10').loss.seedOffset, r('E10').repair!.seedOffset],
    [700, 800, 1000, 1100],
  );
  for (const k of ['E12', 'E13', 'Zephyr']) assert.equal(r(k).loss.seedOffset, 0);
  assert.deepEqual(
    [r('E8').loss.deltas, r('E10').loss.deltas, r('E12').loss.deltas],
    [
      [2, 5, 10],
      [2, 5, 10],
      [1, 2, 5],
    ],
  );
  assert.deepEqual(
    [r('E8').loss.sentences.n, r('E8').entropy!.sentences.n, r('E12').loss.sentences],
    [100, 50, { source: 'e12', n: 50 }],
  );
  assert.throws(() => C.registryEntry('E99'), /unknown cross-model experiment 'E99'/);
});

test('paramCount matches the tensors of every fixture and the published sizes', () => {
  for (const c of ['gpt_neox_parallel', 'gpt_neox_sequential', 'llama_gqa', 'opt', 'gpt2']) {
    const dir = path.join(SHARED, 'fixtures/hf', c);
    const ck = Checkpoint.open(dir);
    const total = ck.names().reduce((s, n) => s + ck.shape(n).reduce((a, b) => a * b, 1), 0);
    assert.equal(C.paramCount(C.archFactsOf(fixtureCfg(c))), total, c);
  }
  const b = (k: string) => C.paramCount(C.registryEntry(k).arch) / 1e9;
  assert.ok(Math.abs(b('pythia-1.4b') - 1.414) < 0.01, `${b('pythia-1.4b')}`);
  assert.ok(Math.abs(b('tinyllama-1.1b-chat') - 1.1) < 0.01, `${b('tinyllama-1.1b-chat')}`);
  assert.ok(Math.abs(b('zephyr-7b-beta') - 7.24) < 0.01, `${b('zephyr-7b-beta')}`);
});

test('BOS: read from the tokenizer, compared with the registry expectation', async () => {
  const stories = await loadTokenizer(path.join(SHARED, 'models/stories260k-hf'));
  for (const k of ['tinyllama-1.1b-chat', 'zephyr-7b-beta']) assert.ok(C.checkBos(C.registryEntry(k), stories).ok, k);
  const pythia = await loadTokenizer(path.join(SHARED, 'models/pythia-tokenizer'));
  assert.ok(C.checkBos(C.registryEntry('pythia-1.4b'), pythia).ok);
  const opt = C.checkBos(C.registryEntry('opt-1.3b'), stories);
  assert.equal(opt.ok, false);
  assert.match(opt.message, /prepends '<s>' \(ids 1\) but OPT-1\.3B's prepends '<\/s>'/);
});

test('memory plan: refuses with needed vs available; 7B fits one 80 GB GPU with 2 sessions', async () => {
  const z = C.registryEntry('zephyr-7b-beta');
  const plan = C.planMemory(z.arch, {
    checkpointDtype: 'bfloat16',
    available: { bytes: 8 * C.GiB, source: 'injected' },
    label: 'Zephyr-7B-β',
  });
  assert.equal(plan.ok, false);
  assert.throws(
    () => C.requireMemory(plan),
    (e: Error) =>
      e instanceof C.MemoryPlanError &&
      /Zephyr-7B-β on cpu does not fit: needs ≈ 3\d\.\d\d GiB .*available 8\.00 GiB \(injected\)/.test(e.message),
  );
  const gpu = C.planMemory(z.arch, { provider: 'cuda', checkpointDtype: 'bfloat16', gpuMemoryGiB: 80 });
  assert.ok(gpu.ok);
  assert.equal(gpu.maxSessions, 2);
  assert.equal(gpu.available.source, '--gpu-memory');
  const one = C.estimateMemory(z.arch, { provider: 'cuda', checkpointDtype: 'bfloat16', sessions: 1 });
  assert.ok(one.weightBytes / C.GiB > 26.9 && one.weightBytes / C.GiB < 27.1);
  assert.ok(one.peakBytes < 80e9);
  assert.equal(C.availableMemory('cuda', { nvidiaSmi: () => '40960\n' }).bytes, 40 * C.GiB);
  assert.equal(C.availableMemory('cuda', { nvidiaSmi: () => null }).bytes, null);
  // a runner refuses before any work: no results file appears
  const dir = tmp();
  const study = await Study.open({ model: tinyCheckpoint('llama_bf16'), quick: true, resultsDir: dir });
  await assert.rejects(
    C.runCrossModel('E12', study, { memory: { available: { bytes: 1024, source: 'injected' } } }),
    (e: Error) => e instanceof C.MemoryPlanError && /available 0\.00 GiB \(injected\)/.test(e.message),
  );
  assert.equal(fs.existsSync(study.resultsFile('E12')), false);
  study.close();
});

/** synthetic loss records: baseline 4 on 2 sentences, damages given per seed */
function lossRecords(rows: { delta: number; ang: number[]; mag: number[] }[]): SweepRecord[] {
  const recs: SweepRecord[] = [{ key: 'baseline', kind: 'baseline', losses: [3.5, 4.5], loss: 4, seconds: 0 }];
  for (const r of rows)
    for (const [mode, dm] of [
      ['angle_legacy/legacy', r.ang],
      ['magnitude', r.mag],
    ] as const)
      dm.forEach((d, s) =>
        recs.push({
          key: `s${s}|d${r.delta}|${mode}`,
          kind: 'condition',
          seedIndex: s,
          delta: r.delta,
          publishedDelta: r.delta,
          mode,
          losses: [3.5 + d, 4.5 + d],
          loss: 4 + d,
          seconds: 0,
        }),
      );
  return recs;
}

test('summary table and Figure 3 are computed from records (exact cells)', () => {
  const a = C.registryEntry('pythia-1.4b'),
    b = C.registryEntry('tinyllama-1.1b-chat');
  // E4-format repair records (E10-repair): clean losses [4, 4]; per seed and mode U and R per sentence
  const repair: M.RepairRecord[] = [{ key: 'baseline', kind: 'baseline', losses: [4, 4], seconds: 0 }];
  const add = (mode: M.ModeName, s: number, U: number, R: number) =>
    repair.push({
      key: `s${s}|${mode}`,
      kind: 'condition',
      mode,
      seedIndex: s,
      unrepaired: [U, U],
      repaired: { attn: [R, R] },
      seconds: 0,
    });
  add('angle', 0, 6, 5.5);
  add('angle', 1, 6, 5);
  add('magnitude', 0, 5, 4.9);
  add('magnitude', 1, 5, 4.7);
  const inputs: C.CrossModelInput[] = [
    {
      entry: a,
      info: {
        norm: 'layernorm',
        parallelResidual: true,
        checkpointDtype: 'float16',
        layers: [8, 9, 10, 11, 12, 13, 14, 15],
      },
      loss: lossRecords([
        { delta: 2, ang: [1.0, 1.2], mag: [0.1, 0.1] },
        { delta: 5, ang: [2, 2], mag: [1, 1] },
        { delta: 10, ang: [3, 3], mag: [3, 3] },
      ]),
      repair,
    },
    {
      entry: b,
      info: { norm: 'rmsnorm', parallelResidual: false, checkpointDtype: 'bfloat16', layers: [4, 5, 6, 7] },
      loss: lossRecords([
        { delta: 1, ang: [0.1, 0.1], mag: [0.5, 0.5] },
        { delta: 2, ang: [1, 1], mag: [4, 4] },
        { delta: 5, ang: [6, 6], mag: [5, 5] },
      ]),
    },
  ];
  const rows = C.crossModelSummary(inputs);
  assert.equal(rows.length, 6);
  const cells = tableCells(C.crossModelTable(rows));
  assert.deepEqual(cells.header, [
    'model',
    'norm',
    'residual',
    'dtype (orig → ours)',
    'layers',
    'seeds / sentences',
    'δ',
    'angular damage',
    'magnitude damage',
    'ratio',
    'p one-sided (seeds)',
    'published ratio',
    'ΔH ang / mag',
    'attn repair % ang / mag',
  ]);
  assert.deepEqual(cells.rows[0], [
    'Pythia-1.4B',
    'LayerNorm',
    'parallel',
    'fp32 → fp32',
    '8–15',
    '2 / 2',
    '2',
    '1.100 ± 0.100',
    '0.100 ± 0.000',
    '11.00',
    cells.rows[0][10],
    '56.81',
    '—',
    '37.5 / 20.0',
  ]);
  assert.deepEqual(cells.rows[4].slice(0, 10), [
    'TinyLlama-1.1B-Chat',
    'RMSNorm',
    'sequential',
    'fp16 → fp32',
    '4–7',
    '2 / 2',
    '2',
    '1.000 ± 0.000',
    '4.000 ± 0.000',
    '0.25',
  ]);
  assert.equal(cells.rows[4][11], '0.20');
  // recovery: R-pooled-baseline, seeds (6−5.5)/2 = 25%, (6−5)/2 = 50% → 37.5; magnitude 10%, 30% → 20
  const rep = C.summarizeRepair(repair);
  assert.equal(rep.baseline, 4);
  assert.deepEqual(rep.angular.unrepaired, [6, 6]);
  assert.deepEqual(rep.angular.repaired, [5.5, 5]);
  assert.deepEqual(
    rep.angular.recovery.map((x) => +x.toFixed(6)),
    [25, 50],
  );
  assert.deepEqual(
    rep.magnitude.recovery.map((x) => +x.toFixed(6)),
    [10, 30],
  );
  assert.ok(Math.abs(rep.angular.std - 12.5) < 1e-6, 'population std over seeds');
  // paired over seeds: differences 15, 20 → t = 17.5/(√12.5/√2) = 7, one-sided p = P(t₁ > 7)
  assert.ok(Math.abs(rep.t - 7) < 1e-5, `${rep.t}`);
  assert.ok(Math.abs(rep.pOneSided - Math.atan(1 / 7) / Math.PI) < 1e-6, `${rep.pOneSided}`);
  // R-pooled-baseline differs from E4's R-seed only by where ε sits; with B identical across seeds they agree
  const e4 = M.summarizeE4(repair);
  assert.deepEqual(
    e4.angle.recoverySeed.perSeed.map((x) => +x.toFixed(4)),
    rep.angular.recovery.map((x) => +x.toFixed(4)),
  );
  const fig = C.figure3FromResults(inputs, [2, 5, 10]);
  const bars = fig.data.filter((t) => t.xaxis === 'x');
  assert.equal(bars.length, 1, 'only Pythia-1.4B has δ = 2, 5, 10');
  assert.deepEqual(
    (bars[0].y as number[]).map((x) => +x.toFixed(4)),
    [11, 2, 1],
  );
  assert.deepEqual(
    fig.data.filter((t) => t.xaxis === 'x2').map((t) => +(t.y as number[])[0].toFixed(4)),
    [37.5, 20],
  );
  const both = C.figure3FromResults(inputs, [2, 5]);
  assert.deepEqual(
    both.data.filter((t) => t.xaxis === 'x').map((t) => t.name),
    ['Pythia-1.4B', 'TinyLlama-1.1B-Chat'],
  );
  assert.throws(() => C.figure3FromResults(inputs, [20]), /no model has loss results at δ = 20/);
});

test('entropy summary: ΔH per seed against the baseline, one-sided paired t (over summarizeE3)', () => {
  // E3-format records (E8-entropy): two sentences (the second 0.2 higher in every record), two layers (layer 1 perturbed)
  const rec = (
    key: string,
    kind: 'baseline' | 'condition',
    mode: M.ModeName | undefined,
    s: number | undefined,
    l0: number,
    l1: number,
  ): M.E3Record => ({
    key,
    kind,
    mode,
    seedIndex: s,
    sentence: [(l0 + l1) / 2, (l0 + l1) / 2 + 0.2],
    byLayer: [
      [l0, l1],
      [l0 + 0.2, l1 + 0.2],
    ],
    layers: [1],
    seconds: 0,
  });
  const records = [
    rec('baseline', 'baseline', undefined, undefined, 1, 1),
    rec('s0|angle', 'condition', 'angle', 0, 1, 1.4),
    rec('s1|angle', 'condition', 'angle', 1, 1, 1.8),
    rec('s0|magnitude', 'condition', 'magnitude', 0, 1, 1.2),
    rec('s1|magnitude', 'condition', 'magnitude', 1, 1, 1.2),
  ];
  const s = C.summarizeEntropy(records);
  assert.ok(Math.abs(s.base - 1.1) < 1e-9, `${s.base}`);
  assert.deepEqual(
    s.deltaAngle.perSeed.map((x) => +x.toFixed(6)),
    [0.2, 0.4],
  );
  assert.ok(Math.abs(s.deltaAngle.std - 0.1) < 1e-6);
  assert.deepEqual(
    s.deltaMagnitude.perSeed.map((x) => +x.toFixed(6)),
    [0.1, 0.1],
  );
  assert.ok(Math.abs(s.ratio - 3) < 1e-6);
  // differences 0.1, 0.3 → t = 0.2/(√0.02/√2) = 2, one-sided p = P(t₁ > 2)
  assert.ok(Math.abs(s.t - 2) < 1e-6, `${s.t}`);
  assert.ok(Math.abs(s.pOneSided - Math.atan(1 / 2) / Math.PI) < 1e-6, `${s.pOneSided}`);
  assert.deepEqual(
    s.perLayer.map((l) => [l.layer, l.perturbed, +l.angle.toFixed(6), +l.magnitude.toFixed(6)]),
    [
      [0, false, 0, 0],
      [1, true, 0.6, 0.2],
    ],
  );
  // the summary table needs two paired seeds; one seed alone shows '—'
  assert.equal(C.pairedSeedCount(records), 2);
  assert.equal(C.pairedSeedCount(records.filter((r) => r.seedIndex !== 1)), 1);
});

const RUNNERS: [string, string, string[]][] = [
  ['E8', 'gpt_neox_parallel_fp16', ['E8', 'E8-entropy', 'E9']],
  ['E10', 'opt', ['E10', 'E10-repair']],
  ['E12', 'llama_bf16', ['E12']],
  ['E13', 'opt', ['E13']],
  ['Zephyr', 'llama_gqa', ['Zephyr']],
];

for (const [name, tiny, stores] of RUNNERS)
  test(`runner ${name} completes in quick mode on tiny ${tiny} and resumes`, async () => {
    const dir = tmp();
    const open = () => Study.open({ model: tinyCheckpoint(tiny), quick: true, resultsDir: dir });
    const study = await open();
    const r = await C.runCrossModel(name, study);
    study.close();
    assert.equal(r.info.computeDtype, 'float32');
    assert.equal(r.loss.filter((x) => x.kind === 'condition').length, 2 * 3 * 2);
    assert.ok(r.lossSummary.rows.length === 3);
    const files = stores.map((s) => study.resultsFile(s));
    const before = files.map((f) => fs.readFileSync(f, 'utf8'));
    // a second run reads everything back and appends nothing
    const again = await open();
    const r2 = await C.runCrossModel(name, again);
    again.close();
    assert.deepEqual(
      files.map((f) => fs.readFileSync(f, 'utf8')),
      before,
    );
    assert.deepEqual(
      r2.lossSummary.rows.map((x) => x.ratio),
      r.lossSummary.rows.map((x) => x.ratio),
    );
    // E8 test 2 / E9 / E10 test 2 are E3's / E9's / E4's procedure under the cell's own store and seeds
    for (const [section, recs] of [
      ['entropy', r.entropy],
      ['pathways', r.pathways],
      ['repair', r.repair],
    ] as const) {
      const spec = r.entry[section];
      if (!spec) {
        assert.equal(recs, undefined);
        continue;
      }
      const conds = recs!.filter((x) => x.kind === 'condition');
      assert.deepEqual(
        conds.map((x) => `${x.seedIndex}|${x.mode}|${x.seed}`),
        [0, 1].flatMap((si) => ['angle', 'magnitude'].map((m) => `${si}|${m}|${42 + spec.seedOffset + si}`)),
      );
      for (const x of recs!) {
        assert.equal(x.experiment, spec.store);
        assert.equal(x.publishedDelta, spec.delta);
        assert.deepEqual(x.layers, r.info.layers);
        assert.equal(x.legacyIters, r.entry.legacyIters);
        assert.equal(x.sentences, C.CROSSMODEL_QUICK.sectionSentences);
      }
      if (section !== 'entropy')
        for (const set of section === 'repair' ? ['attn'] : M.E9_SETS)
          assert.ok(
            conds.every((x) => (x as M.RepairRecord).repaired![set].length === C.CROSSMODEL_QUICK.sectionSentences),
            `${section}: ${set}`,
          );
      else
        assert.ok(conds.every((x) => (x as M.E3Record).byLayer.every((ls) => ls.length === study.model.cfg.nLayers)));
    }
    for (const mech of ['E3', 'E4'])
      assert.equal(fs.existsSync(study.resultsFile(mech)), false, `${mech}'s store is not written`);
    // the summary reads the files back
    const { inputs } = C.loadCrossModelInputs({
      root: dir,
      folders: { [r.entry.key]: path.basename(path.dirname(files[0])) },
    });
    const inp = inputs.find((i) => i.entry.key === r.entry.key)!;
    assert.equal(inp.info!.norm, study.model.cfg.norm);
    const rows = C.crossModelSummary([inp]);
    assert.equal(rows.length, 3);
    assert.equal(rows[0].entropyAngle === null, !r.entry.entropy);
    // Figure 3B / the repair column: E10's own repair, else (Pythia-1.4B) E9's attention set
    assert.equal(rows[0].repairAngle === null, !r.entry.repair && !r.entry.pathways);
    if (r.entropy) assert.equal(rows[0].entropyAngle, C.summarizeEntropy(r.entropy).deltaAngle.mean);
    if (r.repair) assert.equal(rows[0].repairAngle, C.summarizeRepair(r.repair).angular.mean);
    if (r.pathways) assert.equal(rows[0].repairAngle, M.summarizeE9(r.pathways).angle.recoveryOfMeans.attn);
  });

test('reversal investigation: four matching × noise combinations, norm profile and budget split', async () => {
  const study = await Study.open({ model: tinyCheckpoint('llama_gqa'), quick: true, resultsDir: tmp() });
  const r = await C.runReversal(study);
  study.close();
  assert.deepEqual(
    [...new Set(r.rows.map((x) => `${x.matching}/${x.noise}`))],
    ['legacy/legacy', 'legacy/independent', 'exact/legacy', 'exact/independent'],
  );
  assert.equal(r.rows.length, 12);
  assert.equal(r.profile.length, study.model.cfg.nLayers);
  const mag = r.budget.find((x) => x.mode === 'magnitude')!;
  assert.ok(Math.abs(mag.firstShare - mag.evenShare) < 1e-4, 'magnitude moves every token by δ');
  assert.equal(r.bos, 1);
});

test('Figure 3B shows the repair bars measured by E4 (410M-style) and E9 (1.4B-style) in the models’ own folders', () => {
  const root = tmp();
  const write = (folder: string, store: string, recs: object[]) => {
    const f = path.join(root, folder, `${store}.jsonl`);
    fs.mkdirSync(path.dirname(f), { recursive: true });
    fs.writeFileSync(f, recs.map((r) => JSON.stringify(r) + '\n').join(''));
  };
  const losses = (x: number) => [x, x + 0.2, x + 0.4];
  const loss = [
    { key: 'b', kind: 'baseline', loss: 2.2, losses: losses(2) },
    ...[2, 5, 10].flatMap((d) =>
      [0, 1].flatMap((s) => [
        {
          key: `a${d}${s}`,
          kind: 'condition',
          seedIndex: s,
          publishedDelta: d,
          delta: d,
          mode: 'angle_legacy/legacy',
          loss: 2.2 + d / 10 + s / 100,
          losses: losses(2 + d / 10 + s / 100),
          seconds: 0,
        },
        {
          key: `m${d}${s}`,
          kind: 'condition',
          seedIndex: s,
          publishedDelta: d,
          delta: d,
          mode: 'magnitude',
          loss: 2.2 + d / 100 + s / 50,
          losses: losses(2 + d / 100 + s / 50),
          seconds: 0,
        },
      ]),
    ),
  ];
  // seed recoveries: angle 50 and 30 % (mean 40), magnitude 20 and 10 % (mean 15)
  const rep = (sets: string[]) => [
    { key: 'baseline', kind: 'baseline', losses: [1, 2, 3], seconds: 0 },
    ...[
      ['angle', 0, [3, 4, 5], [2, 3, 4]],
      ['angle', 1, [3, 4, 5], [2.4, 3.4, 4.4]],
      ['magnitude', 0, [1.5, 2.5, 3.5], [1.4, 2.4, 3.4]],
      ['magnitude', 1, [1.5, 2.5, 3.5], [1.45, 2.45, 3.45]],
    ].map(([mode, si, U, R]) => ({
      key: `${mode}${si}`,
      kind: 'condition',
      mode,
      seedIndex: si,
      unrepaired: U,
      repaired: Object.fromEntries(sets.map((s) => [s, R])),
      patched: {},
      seconds: 0,
    })),
  ];
  const e410 = C.CROSSMODEL_REGISTRY.find((e) => e.key === 'pythia-410m')!;
  const e14 = C.CROSSMODEL_REGISTRY.find((e) => e.key === 'pythia-1.4b')!;
  for (const e of [e410, e14]) write(C.crossModelFolder(e), e.loss.store, loss);
  write(C.crossModelFolder(e410), 'E4', rep(['attn', 'ln', 'mlp', 'both']));
  write(C.crossModelFolder(e14), 'E9', rep(['attn', 'mlp', 'both']));
  // an E4 run on Pythia-1.4B (reproduce's mechanism step) does not replace its E9 bars (idx 17, as the original)
  write(C.crossModelFolder(e14), 'E4', rep(['attn']));
  const { inputs } = C.loadCrossModelInputs({ root });
  const by = (k: string) => inputs.find((i) => i.entry.key === k)!;
  assert.equal(by('pythia-410m').repairOverride?.source, 'E4');
  assert.ok(Math.abs(by('pythia-410m').repairOverride!.angular.mean - 40) < 1e-6);
  assert.ok(Math.abs(by('pythia-410m').repairOverride!.magnitude.mean - 15) < 1e-6);
  assert.match(by('pythia-1.4b').repairOverride!.source, /^E9/);
  const fig = C.figure3FromResults(inputs) as unknown as { data: { name: string; x: string[]; y: number[] }[] };
  const bars = fig.data.filter((t) => t.x.includes(e410.label) && t.x.includes(e14.label) && t.y.length === 2);
  assert.ok(bars.length >= 2, JSON.stringify(fig.data.map((t) => [t.name, t.x])));
  fs.rmSync(root, { recursive: true });
});
