/**
 * The numbers the original notebook published for its main result (EXPERIMENTS.md idx 4–8,
 * Pythia-410M on a Tesla T4), and the report rows comparing them with ours.
 */
import { E1Summary } from '../experiments/e1-stats';
import { BlimpSummary } from '../experiments/e2-blimp';
import { ReportRow, row } from './verdict';

export const PUBLISHED_MODEL = {
  id: 'EleutherAI/pythia-410m',
  modelType: 'gpt_neox',
  nLayers: 24,
  dModel: 1024,
  nHeads: 16,
  vocabSize: 50304,
};

export const PUBLISHED_MAIN = {
  data: { sentences: 281, tokensMin: 10, tokensMax: 64, tokensMean: 42.6 },
  baseline: { value: 4.107, std: 0.8 },
  /** idx 5: δ → magnitude / angular damage (mean ± popstd over 5 seeds), ratio */
  e1: [
    { delta: 1, mag: [0.009, 0.002], ang: [0.368, 0.011], ratio: 42.87, t: 71.29 },
    { delta: 2, mag: [0.042, 0.002], ang: [0.983, 0.026], ratio: 23.21, t: 70.98 },
    { delta: 5, mag: [0.7, 0.028], ang: [3.757, 0.06], ratio: 5.37, t: 80.28 },
    { delta: 10, mag: [3.262, 0.033], ang: [7.061, 0.044], ratio: 2.16, t: 182.68 },
    { delta: 15, mag: [4.6, 0.045], ang: [7.718, 0.05], ratio: 1.68, t: 78.42 },
    { delta: 20, mag: [5.433, 0.033], ang: [7.75, 0.087], ratio: 1.43, t: 57.23 },
  ],
  regimes: { lowRatio: 6.8, highRatio: 1.69, reduction: 0.75 },
  /** idx 7: baseline 89.5%; δ → magnitude / angular accuracy (mean ± popstd over 5 seeds) */
  blimpBaseline: 89.5,
  e2: [
    { delta: 5, mag: [69.1, 2.2], ang: [87.9, 1.6], t: 17.61 },
    { delta: 10, mag: [56.0, 5.3], ang: [77.1, 2.0], t: 6.15 },
    { delta: 15, mag: [53.5, 2.3], ang: [67.4, 2.6], t: 12.64 },
  ],
  seeds: 5,
};

export function mainReportRows(
  e1: E1Summary,
  e2: BlimpSummary | null,
  comparable: boolean,
  data?: { sentences: number; tokensMin: number; tokensMax: number; tokensMean: number },
): ReportRow[] {
  const P = PUBLISHED_MAIN;
  const n = P.seeds;
  const rows: ReportRow[] = [];
  if (data) {
    rows.push(row('WikiText sentences after filtering', { value: P.data.sentences }, { value: data.sentences }, true));
    rows.push(
      row(
        "token length mean (the model's tokenizer, ≤ 64; published: Pythia)",
        { value: P.data.tokensMean },
        { value: data.tokensMean },
        comparable,
      ),
    );
  }
  rows.push(
    row('baseline loss (mean per-sentence CE)', { value: P.baseline.value }, { value: e1.baseline }, comparable),
  );
  for (const p of P.e1) {
    const r = e1.rows.find((x) => x.publishedDelta === p.delta);
    const ours = (m: { mean: number; std: number; perSeed: number[] } | undefined) =>
      m ? { value: m.mean, std: m.std, n: m.perSeed.length } : null;
    rows.push(
      row(`E1 magnitude damage, δ=${p.delta}`, { value: p.mag[0], std: p.mag[1], n }, ours(r?.magnitude), comparable),
    );
    rows.push(
      row(`E1 angular damage, δ=${p.delta}`, { value: p.ang[0], std: p.ang[1], n }, ours(r?.angle), comparable),
    );
    rows.push(
      row(`E1 ratio angular/magnitude, δ=${p.delta}`, { value: p.ratio }, r ? { value: r.ratio } : null, comparable),
    );
  }
  if (e1.regimes) {
    rows.push(row('E1 low-δ regime ratio', { value: P.regimes.lowRatio }, { value: e1.regimes.low.ratio }, comparable));
    rows.push(
      row('E1 high-δ regime ratio', { value: P.regimes.highRatio }, { value: e1.regimes.high.ratio }, comparable),
    );
  }
  if (e2) {
    rows.push(row('E2 BLiMP baseline accuracy %', { value: P.blimpBaseline }, { value: e2.baseline }, comparable));
    for (const p of P.e2) {
      const r = e2.rows.find((x) => x.publishedDelta === p.delta);
      rows.push(
        row(
          `E2 magnitude accuracy %, δ=${p.delta}`,
          { value: p.mag[0], std: p.mag[1], n },
          r ? { value: r.magnitude.mean, std: r.magnitude.std, n: r.magnitude.acc.length } : null,
          comparable,
        ),
      );
      rows.push(
        row(
          `E2 angular accuracy %, δ=${p.delta}`,
          { value: p.ang[0], std: p.ang[1], n },
          r ? { value: r.angle.mean, std: r.angle.std, n: r.angle.acc.length } : null,
          comparable,
        ),
      );
    }
  }
  return rows;
}
