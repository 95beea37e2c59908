/** Small synthetic runs and summaries for the prose tests: a comparable or quick run, seed and sentence statistics. */
import { publishedTarget, type ComparedRun } from '../lib/src/report/reproduce';
import { ttestPaired, type TTestResult } from '../lib/src/stats';
import type { DeltaRow, E1Summary } from '../lib/src/experiments/e1-stats';

/** A run of the published model (comparable) or of a small one in quick mode. */
export function runOf(hfId: string | null): ComparedRun {
  if (!hfId)
    return {
      quick: true,
      reduced: null,
      opts: { model: 'EleutherAI/pythia-70m' },
      model: {
        cfg: { ...publishedTarget('EleutherAI/pythia-410m').arch, nLayers: 6, dModel: 512, nHeads: 8 },
        revision: null,
      },
    };
  const t = publishedTarget(hfId);
  return { quick: false, reduced: null, opts: { model: hfId }, model: { cfg: t.arch, revision: t.revision ?? null } };
}

export const meanStd = (perSeed: number[]) => {
  const m = perSeed.reduce((a, b) => a + b, 0) / perSeed.length;
  return { perSeed, mean: m, std: Math.sqrt(perSeed.reduce((a, b) => a + (b - m) ** 2, 0) / perSeed.length) };
};

export const ttest = (a: number[], b: number[]): TTestResult => ttestPaired(a, b);

/** One E1 δ row from per-seed damages, with a chosen sentence-level p and ratio interval. */
export function deltaRow(publishedDelta: number, ang: number[], mag: number[], pSent = 1e-4, ratioLo = 2): DeltaRow {
  const a = meanStd(ang),
    m = meanStd(mag);
  const t = ttest(ang, mag);
  return {
    publishedDelta,
    delta: publishedDelta,
    angle: { mode: 'angle_legacy/legacy', ...a },
    magnitude: { mode: 'magnitude', ...m },
    ratio: a.mean / (m.mean + 1e-8),
    seedTest: t,
    stars: '',
    dOriginal: NaN,
    dzSeeds: NaN,
    sentence: {
      n: 40,
      test: { ...t, pTwoSided: pSent },
      dz: 1,
      meanDiff: a.mean - m.mean,
      ci: [0, 1],
      ratioCi: [ratioLo, ratioLo + 1],
    },
  };
}

export function e1Of(rows: DeltaRow[]): E1Summary {
  return { baseline: 4.2, baselineStd: 0.8, nSentences: 40, angleMode: 'angle_legacy/legacy', rows, regimes: null };
}
