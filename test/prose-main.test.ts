/** Prose of notebooks 05 and 08 on small synthetic summaries: numbers come from the inputs, verdicts from the run. */
import test from 'node:test';
import assert from 'node:assert/strict';
import * as prose from '../lib/src/prose';
import type { BlimpSummary } from '../lib/src/experiments/e2-blimp';
import type { RobustnessRow } from '../lib/src/experiments/robustness';
import { deltaRow, e1Of, runOf, ttest } from './prose-fixtures';

const PYTHIA = 'EleutherAI/pythia-410m';

function e2Of(magAcc: number[], angAcc: number[]): BlimpSummary {
  const side = (acc: number[]) => {
    const m = acc.reduce((a, b) => a + b, 0) / acc.length;
    return { acc, mean: m, std: 0.5, drop: 90 - m };
  };
  const magnitude = side(magAcc),
    angle = side(angAcc);
  const seedTest = ttest(angAcc, magAcc);
  return {
    scoring: 'sum',
    baseline: 90,
    pairs: 200,
    rows: [
      {
        publishedDelta: 5,
        magnitude,
        angle,
        diff: magnitude.drop - angle.drop,
        seedTest,
        pairLevel: { n: 200, test: seedTest, ci: [0, 1] },
      },
    ],
  };
}

test('summaryProse: the δ=5 BLiMP drops and the ratio at the largest δ are the inputs; quick run → not comparable', () => {
  const e1 = e1Of([deltaRow(1, [0.4, 0.5, 0.45], [0.01, 0.012, 0.011]), deltaRow(20, [7, 7.2, 7.1], [5, 5.1, 5.2])]);
  const p = prose.summaryProse(runOf(null), e1, e2Of([70, 71, 72], [86, 87, 88]));
  const md = prose.proseMarkdown(p);
  assert.match(md, /at δ=5 magnitude lowers accuracy by 19\.0 points and angular lowers accuracy by 3\.0 points/);
  assert.match(md, /ratio is 40\.9× at δ=1 and 1\.4× at δ=20/);
  assert.match(md, /Rotation hurts more than rescaling at 2 of 2 δ values/);
  assert.match(md, /not comparable/);
  assert.doesNotMatch(md, /agree with the published number/);
  const up = prose.proseMarkdown(prose.summaryProse(runOf(null), e1, e2Of([92, 92, 92], [86, 87, 88])));
  assert.match(up, /magnitude raises accuracy by 2\.0 points/);
});

test('statisticsRows: the published model gets t-value verdicts; a differing t is "differs"', () => {
  // published t at δ=1 is 71.29; a near-zero-difference sample gives a small t
  const rows = prose.statisticsRows(runOf(PYTHIA), e1Of([deltaRow(1, [0.4, 0.5, 0.45], [0.39, 0.52, 0.44])]));
  const t1 = rows.find((r) => r.quantity === 'E1 paired t over seeds, δ=1')!;
  assert.ok(t1.reproduced && Math.abs(t1.reproduced.value) < 5);
  assert.match(t1.verdict, /^differs/);
  assert.equal(rows.find((r) => r.quantity.endsWith('δ=2'))!.verdict, 'not run');
  const table = prose.verdictTable(rows, 2);
  assert.ok(table.columns.some((c) => c.name === 'verdict'));
});

test('statisticsProse: counts δ values significant at seed and sentence level, and the variants that break the claim', () => {
  const e1 = e1Of([
    deltaRow(1, [0.4, 0.5, 0.45], [0.01, 0.012, 0.011], 0.3, 0.8),
    deltaRow(5, [3.7, 3.8, 3.75], [0.7, 0.72, 0.69], 1e-6, 4),
  ]);
  const rob: RobustnessRow[] = [
    {
      matching: 'legacy',
      noise: 'legacy',
      ratio1: 40,
      ratio5: 5,
      p5: 1e-5,
      blimpDropAngle: 2,
      blimpDropMagnitude: 20,
      blimpP: 0.01,
    },
    {
      matching: 'exact',
      noise: 'independent',
      ratio1: 0.8,
      ratio5: 3,
      p5: 1e-3,
      blimpDropAngle: 9,
      blimpDropMagnitude: 4,
      blimpP: 0.9,
    },
  ];
  const md = prose.proseMarkdown(prose.statisticsProse(runOf(null), e1, rob));
  assert.match(
    md,
    /sentence level \(40 sentences\): p < 0\.05 at 1 of 2, and the 95% interval of the ratio lies above 1 at 1 of 2/,
  );
  assert.match(md, /under 1 of 2 operator variants \(not under exact matching \/ independent noise\)/);
  assert.match(md, /magnitude lowers BLiMP accuracy more under 1 of 2/);
  assert.match(md, /Two regimes: not computed for this run/);
});
