/** Prose of the cross-model notebooks (21–26) on small synthetic summaries. */
import test from 'node:test';
import assert from 'node:assert/strict';
import * as prose from '../lib/src/prose';
import * as C from '../lib/src/experiments/crossmodel';
import { deltaRow, e1Of, runOf } from './prose-fixtures';

const OPT = C.registryEntry('E10');
const ZEPHYR = C.registryEntry('Zephyr');

const optSweep = () =>
  e1Of([
    deltaRow(2, [0.57, 0.58, 0.576], [0.018, 0.017, 0.019]),
    deltaRow(5, [3.88, 3.9, 3.89], [0.2, 0.21, 0.2]),
    deltaRow(10, [2.0, 2.1, 2.05], [2.3, 2.4, 2.35]),
  ]);

test('cellProse: counts the δ values where rotation hurts more, quotes the published ratios, verdicts for the published model', () => {
  const p = prose.cellProse(runOf(OPT.hfId), OPT, { lossSummary: optSweep() });
  const md = prose.proseMarkdown(p);
  assert.match(md, /Rotation hurts more at 2 of 3 δ values; the original concluded: /);
  assert.match(md, /δ=5: 3\.890 vs 0\.203 nats, ratio 19\.1× \(published 19\.1×\)/);
  assert.match(md, /layers 8, 9, 10, 11, 12, 13, 14, 15 of 24/);
  assert.match(md, /Verdicts: 6 agree with the published number, 1 differ\. This run uses facebook\/opt-1\.3b/);
  const { rows, ctx } = prose.cellVerdictRows(runOf(OPT.hfId), OPT, { lossSummary: optSweep() });
  assert.ok(ctx.comparable);
  assert.ok(
    rows.length > 0 && rows.every((r) => !r.quantity.includes('idx') && !r.verdict.startsWith('not comparable')),
  );
  // δ=10 angular damage 2.05 against the published 5.773 ± 0.012: far outside the spread
  assert.match(rows.find((r) => r.quantity === 'angular damage, δ=10')!.verdict, /^differs/);
});

test("cellVerdictRows: a quick run is not comparable with the cell's own model (not Pythia-410M)", () => {
  const { rows, ctx } = prose.cellVerdictRows(runOf(null), OPT, { lossSummary: optSweep() });
  assert.equal(ctx.comparable, false);
  assert.match(ctx.comparability, /OPT-1\.3B/);
  assert.ok(rows.every((r) => r.verdict.startsWith('not comparable')));
});

test('cellProse: Zephyr has no published numbers and says so', () => {
  const md = prose.proseMarkdown(prose.cellProse(runOf(null), ZEPHYR, { lossSummary: optSweep() }));
  assert.match(md, /No published numbers to compare with/);
  assert.match(md, /original computed in fp16/);
});

function cmRow(key: string, delta: number, angular: number, magnitude: number, seeds: number, sentences: number) {
  const e = C.registryEntry(key);
  const pub = C.PUBLISHED_CROSSMODEL[key]?.loss.find((x) => x.delta === delta);
  return {
    key,
    model: e.label,
    arch: e.arch.modelType,
    norm: e.arch.norm === 'rmsnorm' ? 'RMSNorm' : 'LayerNorm',
    residual: e.arch.parallelResidual ? 'parallel' : 'sequential',
    dtype: 'fp32 → fp32',
    layers: '',
    seeds,
    sentences,
    delta,
    angular,
    angularStd: 0,
    magnitude,
    magnitudeStd: 0,
    ratio: angular / magnitude,
    pOneSided: 0.01,
    publishedRatio: pub?.ratio ?? null,
    entropyAngle: null,
    entropyMagnitude: null,
    repairAngle: null,
    repairMagnitude: null,
    factsFrom: 'results',
  } satisfies C.CrossModelRow;
}

test('crossModelRatioRows: comparable only at the published seeds and sentences, and never in quick mode', () => {
  const rows = [cmRow('opt-1.3b', 5, 3.82, 0.2, 3, 100), cmRow('opt-1.3b', 10, 5, 2, 2, 100)];
  const full = prose.crossModelRatioRows(rows, false);
  assert.match(full[0].verdict, /^close/);
  assert.match(full[1].verdict, /not comparable \(2 seeds × 100 sentences, published 3 × 100\)/);
  assert.ok(prose.crossModelRatioRows(rows, true).every((r) => r.verdict.includes('quick mode')));
});

test('crossModelProse: models where rotation hurts more at every δ, and the ones where it does not', () => {
  const rows = [
    cmRow('opt-1.3b', 2, 0.58, 0.018, 3, 100),
    cmRow('opt-1.3b', 5, 3.9, 0.2, 3, 100),
    cmRow('tinyllama-1.1b-chat', 1, 0.1, 0.6, 3, 50),
    cmRow('tinyllama-1.1b-chat', 5, 5.7, 4.9, 3, 50),
  ];
  const md = prose.proseMarkdown(prose.crossModelProse(rows, ['Zephyr-7B-β: no file'], false));
  assert.match(md, /OPT-1\.3B \(LayerNorm, sequential block\): rotation hurts more at 2 of 2 δ values/);
  assert.match(md, /TinyLlama-1\.1B-Chat \(RMSNorm, sequential block\): rotation hurts more at 1 of 2/);
  assert.match(md, /every δ in 1 of 2 models \(not in TinyLlama-1\.1B-Chat\)/);
  assert.match(md, /Not run yet: 1 model/);
});

test('reversalProse: where the reversal appears with each operator, and how much δ the first token takes', () => {
  const r = (matching: 'legacy' | 'exact', noise: 'legacy' | 'independent', delta: number, reversed: boolean) => ({
    matching,
    noise,
    delta,
    angular: reversed ? 0.1 : 1,
    magnitude: 0.5,
    ratio: reversed ? 0.2 : 2,
    pSeeds: 0.5,
    pSentences: 0.5,
    reversed,
  });
  const entry = C.registryEntry('E12');
  const rev: C.ReversalResult = {
    entry,
    layers: [4, 5],
    deltas: [1, 2],
    records: [],
    rows: [
      r('legacy', 'legacy', 1, true),
      r('legacy', 'legacy', 2, true),
      r('exact', 'legacy', 1, false),
      r('exact', 'independent', 2, true),
    ],
    profile: [
      { layer: 4, first: 300, rest: 10, ratio: 30, restMax: 20 },
      { layer: 9, first: 900, rest: 10, ratio: 90, restMax: 20 },
    ],
    budget: [
      {
        mode: 'angle_legacy/legacy',
        delta: 1,
        layer: 4,
        dispFirst: 5,
        dispRest: 0.1,
        firstShare: 0.6,
        evenShare: 0.05,
      },
    ],
    budgetSkipped: [],
    bos: 1,
    scale: '',
  };
  const md = prose.proseMarkdown(prose.reversalProse(runOf(null), rev));
  assert.match(md, /rescaling hurts more at 2 of 2 δ values \(δ = 1, 2\)/);
  assert.match(md, /reversal appears at 1 of 2 conditions \(exact\/independent δ=2\)/);
  // layer 9 is not perturbed: the ratio quoted is layer 4's
  assert.match(
    md,
    /up to 30\.0× the other tokens' mean; the original operator spends 60\.0% of its displacement on it, against 5\.0%/,
  );
});
