/** Figure 1 (original Cells 9 and 19) from E1 and E2 results: nothing typed in. */
import { PlotlyFigure, figure1 } from '../plots';
import { E1Summary } from './e1-stats';
import { BlimpSummary } from './e2-blimp';

export function figure1FromResults(e1: E1Summary, e2: BlimpSummary): PlotlyFigure {
  const std = (xs: number[]) => {
    const m = xs.reduce((a, b) => a + b, 0) / xs.length;
    return Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / xs.length);
  };
  return figure1({
    damage: {
      angular: e1.rows.map((r) => ({ delta: r.publishedDelta, mean: r.angle.mean, std: r.angle.std })),
      magnitude: e1.rows.map((r) => ({ delta: r.publishedDelta, mean: r.magnitude.mean, std: r.magnitude.std })),
    },
    ratioLabelDeltas: [1, 5, 20].filter((d) => e1.rows.some((r) => r.publishedDelta === d)),
    accuracyDrop: {
      angular: e2.rows.map((r) => ({ delta: r.publishedDelta, mean: r.angle.drop, std: std(r.angle.acc) })),
      magnitude: e2.rows.map((r) => ({ delta: r.publishedDelta, mean: r.magnitude.drop, std: std(r.magnitude.acc) })),
    },
    accuracyP: e2.rows.map((r) => ({ delta: r.publishedDelta, p: r.seedTest.pGreater })),
  });
}
