/** Prose of the mechanism notebooks (10–13, 15, 16) on small synthetic summaries. */
import test from 'node:test';
import assert from 'node:assert/strict';
import * as prose from '../lib/src/prose';
import * as M from '../lib/src/experiments/mechanism';
import { meanStd, runOf, ttest } from './prose-fixtures';

const PYTHIA = 'EleutherAI/pythia-410m';
const P = M.PUBLISHED_MECHANISM;

const sentence = (meanDiff: number, p = 0.01): M.SentenceTest => ({
  n: 30,
  test: { ...ttest([1, 2, 3], [0, 1, 1]), pTwoSided: p, pGreater: p / 2 },
  dz: 1,
  meanDiff,
  ci: [meanDiff - 0.1, meanDiff + 0.1],
});
const spread = (perSeed: number[]) => meanStd(perSeed);
const cmp = (experiment: string, quantity: string, published: number | null, reproduced: number): M.CompareRow => ({
  experiment,
  quantity,
  published,
  reproduced,
});

function e3Of(dAng: number[], dMag: number[], compare: M.CompareRow[]): M.E3Summary {
  const layer = (l: number, perturbed: boolean, a: number, m: number): M.E3LayerRow => ({
    layer: l,
    perturbed,
    dAngle: a,
    dMagnitude: m,
    ratio: null,
    publishedAngle: null,
    publishedMagnitude: null,
  });
  return {
    nSentences: 30,
    seeds: 3,
    baseline: 1.03,
    angle: spread(dAng.map((x) => 1.03 + x)),
    magnitude: spread(dMag.map((x) => 1.03 + x)),
    dAngle: spread(dAng),
    dMagnitude: spread(dMag),
    ratio: spread(dAng).mean / spread(dMag).mean,
    test: ttest(dAng, dMag),
    dOriginal: 5,
    dzSeeds: 3,
    sentence: sentence(0.1),
    layers: [layer(0, true, 0, 0), layer(1, true, 0.2, 0.01), layer(2, false, 0.3, 0.05), layer(3, false, 0.1, 0.2)],
    compare,
  };
}

test('mechanismVerdictRows: E3 rows compare for the published model, E9 rows belong to Pythia-1.4B; no cell label', () => {
  const rows = prose.mechanismVerdictRows(runOf(PYTHIA), [
    { compare: [cmp('E3', 'ratio', P.E3.ratio, P.E3.ratio), cmp('E3', 't', P.E3.t, 2)] },
    { compare: [cmp('E9', 'baseline loss', P.E9.baseline, P.E9.baseline)] },
  ]);
  assert.equal(rows[0].verdict, 'identical');
  assert.match(rows[1].verdict, /^differs/);
  assert.match(rows[2].verdict, /^not comparable/);
  assert.ok(rows.every((r) => !r.quantity.includes('idx')));
  assert.equal(prose.verdictCounts(rows), '1 agree with the published number, 1 differ, 1 not comparable');
});

test('entropyProse: the rises, the layer count and the layers after the perturbation come from the summary', () => {
  const e3 = e3Of([0.12, 0.13, 0.14], [0.02, 0.025, 0.03], [cmp('E3', 'ratio', P.E3.ratio, P.E3.ratio)]);
  const md = prose.proseMarkdown(prose.entropyProse(runOf(PYTHIA), e3));
  assert.match(md, /Entropy rises by 0\.1300 under rotation and 0\.0250 under rescaling, ratio 5\.2×/);
  assert.match(md, /at 2 of 4 layers; after the perturbed layers the rise averages 0\.2000 \(rotation\) vs 0\.1250/);
  assert.match(md, /Verdicts: 1 agree with the published number\. This run uses/);
  const quick = prose.proseMarkdown(prose.entropyProse(runOf(null), e3));
  assert.match(quick, /1 not comparable/);
});

function modeRepair(mode: M.ModeName, dmg: number, rep: number, rec: number[]): M.ModeRepair {
  return {
    mode,
    unrepaired: spread([4 + dmg]),
    repaired: spread([4 + rep]),
    damage: spread([dmg]),
    repairedDamage: spread([rep]),
    recoveredNats: spread([dmg - rep]),
    recoverySeed: spread(rec),
    recoverySentences: { estimate: rec[0], ci: [-1, 12] },
    recoveryPerSentenceMean: null,
    test: ttest([1, 2, 3], [0, 1, 1]),
    sentence: sentence(0.1),
  };
}

const e4Of = (angRec: number[], magRec: number[], magRepaired = 0.6): M.E4Summary => ({
  nSentences: 30,
  seeds: 3,
  baseline: 4,
  angle: modeRepair('angle', 3.6, 2.6, angRec),
  magnitude: modeRepair('magnitude', 0.7, magRepaired, magRec),
  test3: ttest(angRec, magRec),
  test3Sentence: sentence(5),
  compare: [],
});

test('repairProse: which operator recovers more and the magnitude spread are computed, intervals in words', () => {
  const more = prose.proseMarkdown(prose.repairProse(runOf(null), e4Of([28, 29, 30], [10, 15, 20])));
  assert.match(more, /Per-seed recovery: 29\.0 ± 0\.8% under rotation vs 15\.0 ± 4\.1% under rescaling/);
  assert.match(more, /rotation recovers more than rescaling/);
  assert.match(more, /seed spread 4\.1 points here, 0\.8 for rotation/);
  assert.match(more, /95% interval -1\.0 to 12\.0/);
  const less = prose.proseMarkdown(prose.repairProse(runOf(null), e4Of([5, 6, 7], [30, 35, 40])));
  assert.match(less, /rotation recovers less than rescaling/);
});

test("figure2Prose: says when the repair raises an operator's damage", () => {
  const set = (name: M.LayerSet['name'], rec: number[]): M.E6SetRow => ({
    name,
    label: name,
    layers: [],
    recovery: spread(rec),
    sentence: { estimate: rec[0], ci: [0, 1] },
    published: null,
  });
  const e6 = {
    sets: [set('top', [25, 26, 24]), set('bottom', [6, 7, 5])],
    randomMean: 16,
    randomStd: 3,
    topVsBottom: ttest([25, 26, 24], [6, 7, 5]),
    topVsRandom: ttest([25, 26, 24], [16, 15, 17]),
    topVsMiddle: ttest([25, 26, 24], [13, 12, 14]),
    topVsBottomSentence: sentence(19),
    seeds: 3,
    nSentences: 30,
    compare: [],
  };
  const ok = prose.proseMarkdown(prose.figure2Prose(runOf(null), e4Of([28, 29, 30], [10, 15, 20]), e6));
  assert.match(ok, /lowers the damage for both operators/);
  assert.match(ok, /B: top 25\.0%, bottom 6\.0%, random 16\.0 ± 3\.0%/);
  const bad = prose.proseMarkdown(prose.figure2Prose(runOf(null), e4Of([28, 29, 30], [-5, -6, -7], 0.9), e6));
  assert.match(bad, /raises the damage under rescaling\./);
});

test('qkProse: carries the computed verdict and the published drop next to ours', () => {
  const e7 = {
    layers: [12, 13, 14, 15],
    nSentences: 50,
    seeds: 3,
    baseline: -0.06,
    angle: spread([-0.05, -0.055, -0.06]),
    magnitude: spread([-0.06, -0.06, -0.06]),
    dropAngle: spread([-0.01, -0.005, 0]),
    dropMagnitude: spread([0, 0, 0]),
    test: ttest([-0.01, -0.005, 0], [0, 0, 0]),
    dzSeeds: -1,
    sentence: sentence(-0.005),
    perLayer: [],
    verdict: 'no evidence that rotation lowers alignment (synthetic)',
    compare: [],
  } satisfies M.E7Summary;
  const md = prose.proseMarkdown(prose.qkProse(runOf(null), e7));
  assert.match(md, /No evidence that rotation lowers alignment \(synthetic\)\./);
  assert.match(
    md,
    new RegExp(`drop -0\\.0050 under rotation and 0\\.0000 under rescaling \\(published ${P.E7.dropAngle}`),
  );
  assert.match(md, /layers \(12, 13, 14, 15\)/);
});

test('layernormProse: same intervention only when the measured difference is at rounding level', () => {
  const ln = (mode: M.ModeName, rec: number[]): M.LnMode => ({
    mode,
    unrepaired: spread([5]),
    repaired: spread([4.8]),
    damage: 0.7,
    repairedDamage: 0.5,
    recovery: spread(rec),
    recoverySentences: { estimate: rec[0], ci: [0, 1] },
  });
  const e11: M.E11Summary = {
    baseline: 4.2,
    nSentences: 100,
    seeds: 3,
    angle: ln('angle', [13, 14, 15]),
    magnitude: ln('magnitude', [25, 30, 35]),
    test: ttest([25, 30, 35], [13, 14, 15]),
    testSentence: sentence(10),
    compare: [],
  };
  const row = (resid: number): M.EquivalenceRow => ({
    mode: 'angle',
    maxLogprobDiff: resid,
    maxResidDiff: resid,
    residScale: 10,
    maxLossDiff: resid,
  });
  const same = prose.proseMarkdown(
    prose.layernormProse(runOf(null), e11, { parallelResidual: true, rows: [row(1e-6)] }),
  );
  assert.match(same, /Recovery 30\.0 ± 4\.1% for rescaling vs 14\.0 ± 0\.8% for rotation/);
  assert.match(same, /\(parallel block\).*same intervention/);
  const diff = prose.proseMarkdown(
    prose.layernormProse(runOf(null), e11, { parallelResidual: false, rows: [row(0.5)] }),
  );
  assert.match(diff, /\(sequential block\).*different interventions/);
});

test('layersProse: whether the top four match the published ones is computed from the ranking', () => {
  const e5Of = (ranking: number[]): M.E5Summary => ({
    heads: [],
    ranking,
    layerScores: {},
    rows: [
      {
        k: 2,
        publishedK: 2,
        layers: ranking.slice(0, 2),
        recovery: spread([18, 19, 17]),
        pctOfFull: 60,
        pctOfPublishedFull: 63,
        sentence: { estimate: 18, ci: [15, 21] },
        published: null,
      },
    ],
    fullRepair: 30,
    seeds: 3,
    nSentences: 50,
    compare: [],
  });
  const e6 = {
    sets: [],
    randomMean: 16,
    randomStd: 3,
    topVsBottom: ttest([1, 2, 3], [0, 1, 1]),
    topVsRandom: ttest([1, 2, 3], [0, 1, 1]),
    topVsMiddle: ttest([1, 2, 3], [0, 1, 1]),
    topVsBottomSentence: sentence(19),
    seeds: 3,
    nSentences: 50,
    compare: [],
  };
  const pub = prose.proseMarkdown(prose.layersProse(runOf(PYTHIA), e5Of([...P.E5.ranking]), e6));
  assert.match(pub, /the top four are the published top four/);
  assert.match(pub, /the top 2: 18\.0 ± 0\.8% \(60% of full\)/);
  const other = prose.proseMarkdown(prose.layersProse(runOf(PYTHIA), e5Of([8, 9, 10, 11, 12, 13, 14, 15]), e6));
  assert.match(other, /the top four are not the published top four/);
  assert.match(other, /no top or bottom set/);
});
