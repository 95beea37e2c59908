/**
 * Issue 14: every published number is compared on its own model. Each cross-model cell (E8 and E9
 * on Pythia-1.4B, E10, E12, E13, Zephyr) gets computed verdicts when the run is that model — by
 * hub id (and revision when pinned), or a local folder whose config equals the published config in
 * every architecture field — with the published settings, and "not comparable" with the reason
 * otherwise (other model, other revision, quick, reduced, any differing config field). One cell
 * runs end to end on a tiny checkpoint standing in for its registry entry, so its verdict rows come
 * out of real numbers.
 */
import './test-data';
import test from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { comparableWith, comparability } from '../lib/src/report/reproduce';
import {
  cellTarget,
  crossModelCellOutput,
  crossModelCellRows,
  registryModelOf,
  ambiguousRegistryModel,
  crossModelCellStep,
} from '../lib/src/report/crossmodel-step';
import { mechanismRows } from '../lib/src/report/mechanism-step';
import * as CM from '../lib/src/experiments/crossmodel';
import { summarizeE1 } from '../lib/src/experiments/e1-stats';
import { Study } from '../lib/src/experiments/study';
import { tinyCheckpoint } from '../lib/src/experiments/tiny';
import { parseConfig } from '../lib/src/models/registry';

process.env.DIRMAG_PROGRESS = '0';
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'dirmag-verdicts-'));

/** A run shaped as the Study comparability reads: the model id/folder, its config, quick/reduced, revision. */
const runOf = (
  model: string,
  cfg: CM.ArchFacts,
  o: { quick?: boolean; reduced?: string | null; revision?: string | null } = {},
) => ({
  quick: o.quick ?? false,
  reduced: o.reduced ?? null,
  opts: { model },
  model: { cfg, revision: o.revision ?? null },
});

/** The same value of another kind: a different number, the other boolean, another name. */
function other(v: unknown): unknown {
  if (typeof v === 'number') return v * 2 + 1;
  if (typeof v === 'boolean') return !v;
  return `${String(v)}-other`;
}

/** Loss, entropy, repair and pathway records (synthetic, 3 seeds) at the cell's published δ. */
function cellRecords(entry: CM.CrossModelEntry) {
  const seeds = [0, 1, 2];
  const losses = (x: number) => [x, x + 0.1, x + 0.2, x + 0.3];
  const loss = [
    { key: 'b', kind: 'baseline' as const, loss: 4.15, losses: losses(4) },
    ...entry.loss.deltas.flatMap((d) =>
      seeds.flatMap((s) =>
        (['angle_legacy/legacy', 'magnitude'] as const).map((mode) => {
          const x = 4 + (mode === 'magnitude' ? d / 50 : d / 5) + s / 100;
          return {
            key: `${mode}${d}${s}`,
            kind: 'condition' as const,
            seedIndex: s,
            publishedDelta: d,
            delta: d,
            mode,
            loss: x + 0.15,
            losses: losses(x),
            seconds: 0,
          };
        }),
      ),
    ),
  ];
  const entropy = [
    {
      key: 'b',
      kind: 'baseline' as const,
      sentence: [1, 1.1],
      byLayer: [
        [1, 1],
        [1.1, 1.1],
      ],
      layers: [0],
      seconds: 0,
    },
    ...seeds.flatMap((s) =>
      (['angle', 'magnitude'] as const).map((mode) => {
        const v = 1.05 + (mode === 'angle' ? 0.1 + (s * s) / 500 : 0.02 + s / 1000);
        return {
          key: `${mode}${s}`,
          kind: 'condition' as const,
          mode,
          seedIndex: s,
          sentence: [v, v + 0.1],
          byLayer: [
            [v, v],
            [v + 0.1, v + 0.1],
          ],
          layers: [0],
          seconds: 0,
        };
      }),
    ),
  ];
  const repairs = (sets: string[]) => [
    { key: 'baseline', kind: 'baseline' as const, losses: [1, 2, 3], seconds: 0 },
    ...seeds.flatMap((s) =>
      (['angle', 'magnitude'] as const).map((mode) => ({
        key: `${mode}${s}`,
        kind: 'condition' as const,
        mode,
        seedIndex: s,
        unrepaired: [3, 4, 5],
        repaired: Object.fromEntries(
          sets.map((set, j) => [
            set,
            mode === 'angle' ? [2.4 + s / 50 + (j * (1 + s)) / 10, 3.4, 4.4] : [2.8, 3.8 - j / 10, 4.8 + s / 50],
          ]),
        ),
        patched: Object.fromEntries(sets.map((set) => [set, [0]])),
        seconds: 0,
      })),
    ),
  ];
  return {
    lossSummary: summarizeE1(loss as never),
    entropy: entropy as never,
    repair: repairs(['attn']) as never,
    pathways: repairs(['attn', 'mlp', 'both']) as never,
  };
}

/**
 * The cells of the original: each runner's cell, and E9 (idx 17) inside Pythia-1.4B's; `only`
 * picks the cell's rows, `rows` whether the original published numbers for them (Zephyr: none).
 */
const CELLS = CM.CROSSMODEL_REGISTRY.filter((e) => e.runner).flatMap((entry) => [
  {
    name: `${entry.runner} (${entry.label})`,
    entry,
    only: (q: string) => !/ E9 /.test(q),
    rows: CM.PUBLISHED_CROSSMODEL[entry.key].loss.length > 0,
  },
  ...(entry.pathways
    ? [{ name: `E9 (${entry.label}, ${entry.pathways.cell})`, entry, only: (q: string) => / E9 /.test(q), rows: true }]
    : []),
]);

test('registry: every entry carries its full published config, read by the engine into arch', () => {
  for (const e of CM.CROSSMODEL_REGISTRY) {
    const cfg = parseConfig(e.config);
    assert.deepEqual(e.arch, CM.archFactsOf(cfg), e.key);
    assert.equal(e.checkpointDtype, cfg.dtype, e.key);
    for (const k of CM.ARCH_FIELDS) assert.notEqual(e.arch[k], undefined, `${e.key}: ${k}`);
  }
  // E9 belongs to Pythia-1.4B only, with idx 17's settings
  const withPathways = CM.CROSSMODEL_REGISTRY.filter((e) => e.pathways).map((e) => e.key);
  assert.deepEqual(withPathways, ['pythia-1.4b']);
  const p = CM.registryEntry('pythia-1.4b').pathways!;
  assert.deepEqual(
    [p.store, p.delta, p.seeds, p.seedOffset, p.sentences],
    ['E9', 5, 3, 900, { source: 'wikitext', n: 50 }],
  );
});

for (const cell of CELLS) {
  test(`${cell.name}: verdicts when the run is the published model with published settings, "not comparable" with the reason otherwise`, () => {
    const { entry } = cell;
    const r = cellRecords(entry);
    const dir = tmp();
    const rows = (ctx: ReturnType<typeof comparableWith>) =>
      crossModelCellRows(entry, ctx, r).filter((x) => cell.only(x.quantity));
    const expectRows = cell.rows;
    for (const run of [runOf(entry.hfId, entry.arch), runOf(dir, entry.arch)]) {
      const ctx = comparableWith(run, cellTarget(entry));
      assert.equal(ctx.comparable, true, ctx.comparability);
      const got = rows(ctx);
      // a cell the original never finished (Zephyr) has no published number: nothing to compare
      assert.ok(expectRows ? got.length >= 3 : got.length === 0, `${got.length} rows`);
      for (const x of got) {
        const from = / E9 /.test(x.quantity) ? entry.pathways!.cell : entry.cell;
        assert.ok(x.quantity.startsWith(`${entry.label} [${from}, ${entry.hfId}]`), x.quantity);
        assert.match(x.verdict, /^(consistent|differs|close|identical)/, `${x.quantity}: ${x.verdict}`);
      }
      if (cell.only(' E9 ')) assert.ok(got.some((x) => /E9 angle \+ attn recovery %/.test(x.quantity)));
      const pub = CM.PUBLISHED_CROSSMODEL[entry.key];
      if (cell.only(' loss ') && pub.entropy && entry.entropy)
        assert.ok(got.some((x) => /E8 ΔH angle/.test(x.quantity)));
      if (cell.only(' loss ') && pub.repair && entry.repair)
        assert.ok(got.some((x) => /E10 attention-repair recovery % angular/.test(x.quantity)));
    }
    const pinned = { ...entry, revision: 'published-rev' };
    const cases: [string, ReturnType<typeof comparableWith>, RegExp][] = [
      [
        'quick',
        comparableWith(runOf(entry.hfId, entry.arch, { quick: true }), cellTarget(entry)),
        /^not comparable \(quick mode: scaled settings: not comparable with the published/,
      ],
      [
        'reduced',
        comparableWith(runOf(entry.hfId, entry.arch, { reduced: 'at most 4 sentence(s)' }), cellTarget(entry)),
        /^not comparable \(reduced settings \(at most 4 sentence\(s\)\)/,
      ],
      [
        'other model',
        comparableWith(runOf('EleutherAI/pythia-70m', entry.arch), cellTarget(entry)),
        /^not comparable \(the run used EleutherAI\/pythia-70m, the published numbers are /,
      ],
      [
        'other revision',
        comparableWith(runOf(entry.hfId, entry.arch, { revision: 'other-rev' }), cellTarget(pinned)),
        /^not comparable \(revision other-rev of .*, published published-rev/,
      ],
    ];
    // the pinned revision itself is comparable
    assert.equal(
      comparableWith(runOf(entry.hfId, entry.arch, { revision: 'published-rev' }), cellTarget(pinned)).comparable,
      true,
    );
    // a local folder differing from the published config in any one architecture field
    for (const k of CM.ARCH_FIELDS)
      cases.push([
        `config ${k}`,
        comparableWith(runOf(dir, { ...entry.arch, [k]: other(entry.arch[k]) } as never), cellTarget(entry)),
        new RegExp(`^not comparable \\(different model from ${entry.hfId.replace(/[.]/g, '\\.')} \\(config: ${k} `),
      ]);
    for (const [what, ctx, why] of cases) {
      assert.equal(ctx.comparable, false, what);
      const got = rows(ctx);
      assert.equal(got.length > 0, expectRows, `${what}: ${got.length} rows`);
      for (const x of got) assert.match(x.verdict, why, `${what}: ${x.verdict}`);
    }
    fs.rmSync(dir, { recursive: true });
  });
}

test('a local folder is the registry model whose config it has; OPT and OPT-IML (one config) by folder name', () => {
  const root = tmp();
  const folder = (name: string) => {
    const d = path.join(root, name);
    fs.mkdirSync(d);
    return d;
  };
  const at = (model: string, key: string) => ({ opts: { model }, model: { cfg: CM.registryEntry(key).arch } });
  assert.equal(registryModelOf(at('EleutherAI/pythia-1.4b', 'pythia-1.4b'))?.key, 'pythia-1.4b');
  assert.equal(registryModelOf(at(folder('my-pythia'), 'pythia-1.4b'))?.key, 'pythia-1.4b');
  assert.equal(
    registryModelOf(at(folder('TinyLlama-1.1B-Chat-v1.0'), 'tinyllama-1.1b-chat'))?.key,
    'tinyllama-1.1b-chat',
  );
  assert.equal(registryModelOf(at(folder('opt-iml-1.3b'), 'opt-1.3b'))?.key, 'opt-iml-1.3b');
  assert.equal(registryModelOf(at(folder('opt-1.3b'), 'opt-iml-1.3b'))?.key, 'opt-1.3b');
  assert.equal(registryModelOf(at(folder('some-opt'), 'opt-1.3b')), undefined);
  assert.match(
    ambiguousRegistryModel(at(path.join(root, 'some-opt'), 'opt-1.3b')) ?? '',
    /config of OPT-1\.3B and OPT-IML-1\.3B.*name the folder opt-1\.3b or opt-iml-1\.3b/,
  );
  assert.equal(ambiguousRegistryModel(at(path.join(root, 'opt-1.3b'), 'opt-1.3b')), null, 'named: not ambiguous');
  // reproduce lists the cell step as skipped with that reason instead of dropping it silently
  const skip = crossModelCellStep.applies!(at(path.join(root, 'some-opt'), 'opt-1.3b') as unknown as Study);
  assert.equal(skip, ambiguousRegistryModel(at(path.join(root, 'some-opt'), 'opt-1.3b')));
  assert.equal(ambiguousRegistryModel(at('facebook/opt-1.3b', 'opt-1.3b')), null, 'a hub id is never ambiguous');
  const e = CM.registryEntry('pythia-1.4b');
  const off = { opts: { model: folder('pythia-1.4b') }, model: { cfg: { ...e.arch, rotaryDims: 64 } } };
  assert.equal(registryModelOf(off), undefined, 'a different rotary width is another model');
  fs.rmSync(root, { recursive: true });
});

test('main comparability: Pythia-410M by id or full config; the E9 rows of the mechanism summaries compare only on Pythia-1.4B', () => {
  const e410 = CM.registryEntry('pythia-410m');
  const e14 = CM.registryEntry('pythia-1.4b');
  const on410 = runOf(e410.hfId, e410.arch);
  const on14 = runOf(e14.hfId, e14.arch);
  assert.equal(comparability(on410).comparable, true);
  assert.equal(comparability(on14).comparable, false);
  const dir = tmp();
  const seq = comparability(runOf(dir, { ...e410.arch, parallelResidual: false }));
  assert.equal(seq.comparable, false);
  assert.match(seq.comparability, /config: parallelResidual false vs true/);
  const compare = [
    { experiment: 'E4', quantity: 'angle recovery', published: 28.4, reproduced: 28.0 },
    { experiment: 'E9', quantity: 'angle + attn recovery', published: 23.8, reproduced: 23.0 },
  ];
  const rows410 = mechanismRows([{ compare }], on410, comparability(on410));
  assert.match(rows410[0].quantity, /^E4 \[the original's attention-repair cell, EleutherAI\/pythia-410m\]/);
  assert.match(rows410[0].verdict, /^(close|differs)/);
  assert.match(
    rows410[1].quantity,
    /^E9 \[the original's attention\/MLP pathway-repair cell, EleutherAI\/pythia-1\.4b\]/,
  );
  assert.match(
    rows410[1].verdict,
    /^not comparable \(the run used EleutherAI\/pythia-410m, the published numbers are EleutherAI\/pythia-1\.4b's/,
  );
  const rows14 = mechanismRows([{ compare }], on14, comparability(on14));
  assert.match(rows14[0].verdict, /^not comparable/);
  assert.match(rows14[1].verdict, /^(close|differs)/);
  fs.rmSync(dir, { recursive: true });
});

test('Pythia-1.4B cell end to end on a tiny checkpoint standing in for its entry: E8 and E9 verdicts from real numbers', async () => {
  const dir = tmp();
  const model = tinyCheckpoint('gpt_neox_parallel_fp16');
  const study = await Study.open({ model, resultsDir: dir });
  const real = CM.registryEntry('pythia-1.4b');
  // the entry as if the tiny checkpoint were the published model: its config, layers inside its depth
  const entry: CM.CrossModelEntry = { ...real, arch: CM.archFactsOf(study.model.cfg), layers: [1, 2] };
  const out = await crossModelCellOutput(study, entry);
  assert.ok(out.tables['pythia-1.4b_loss'] && out.tables['pythia-1.4b_e9_pathways'], Object.keys(out.tables).join());
  assert.ok(fs.existsSync(study.resultsFile('E9')), 'E9 runs in the 1.4B cell');
  const e9 = out.rows.filter((x) => x.quantity.startsWith(`${real.label} [${real.pathways!.cell}`));
  const e8 = out.rows.filter((x) => x.quantity.startsWith(`${real.label} [${real.cell}`));
  assert.ok(
    e9.some((x) => / E9 angle \+ mlp recovery %/.test(x.quantity)),
    e9.map((x) => x.quantity).join('\n'),
  );
  assert.ok(e8.some((x) => /E8 ΔH angle/.test(x.quantity)) && e8.some((x) => /angular damage, δ=10/.test(x.quantity)));
  for (const x of out.rows) {
    assert.ok(x.reproduced && Number.isFinite(x.reproduced.value), `${x.quantity}: computed`);
    assert.match(x.verdict, /^(consistent|differs|close|identical)/, `${x.quantity}: ${x.verdict}`);
  }
  // the same results against an entry whose config differs in one field: every row says why not
  const eps = { ...entry, arch: { ...entry.arch, normEps: entry.arch.normEps * 10 } };
  const off = await crossModelCellOutput(study, eps);
  assert.equal(off.rows.length, out.rows.length);
  for (const x of off.rows) assert.match(x.verdict, /^not comparable \(different model from .*\(config: normEps /);
  study.close();
  fs.rmSync(dir, { recursive: true });
});
