/** Prose for the main result: E1 (loss sweep), E2 (BLiMP) and Figure 1, generated from their summaries. */
import type { E1Summary } from '../experiments/e1-stats';
import type { BlimpSummary } from '../experiments/e2-blimp';
import type { RobustnessRow } from '../experiments/robustness';
import { PUBLISHED_MAIN, mainReportRows } from '../report/published-main';
import { comparability, type ComparedRun } from '../report/reproduce';
import { row, type ReportRow } from '../report/verdict';
import { comparabilityLine, verdictCounts, type ExperimentProse } from './experiment';

const OPERATORS =
  'Every token of the hidden state after each perturbed layer is moved by the same distance δ in one of two ways: ' +
  'magnitude (the vector is lengthened or shortened by δ, the sign drawn per token) or angular (the vector is ' +
  'rotated and its length kept). Like the original, the angular operator finds one rotation amount for all tokens ' +
  'by bisection so that only the average displacement is δ, and its noise is shared by every sentence of the same ' +
  'length; the perturbations compound over the perturbed layers.';

/** Published-vs-this-run rows of E1 and/or E2 (the report's rows, so notebooks and REPORT.md agree). */
const NO_E1: E1Summary = { baseline: NaN, baselineStd: 0, nSentences: 0, angleMode: '', rows: [], regimes: null };

export function mainRows(
  study: ComparedRun,
  e1: E1Summary | null,
  e2: BlimpSummary | null,
  only?: 'E1' | 'E2',
): ReportRow[] {
  const rows = mainReportRows(e1 ?? NO_E1, e2, comparability(study).comparable);
  if (!only) return rows;
  return rows.filter((r) => r.quantity.startsWith(only) || (only === 'E1' && r.quantity.startsWith('baseline')));
}

function ratioLine(e1: E1Summary): string {
  const parts = e1.rows.map((r) => {
    const pub = PUBLISHED_MAIN.e1.find((p) => p.delta === r.publishedDelta);
    return `δ=${r.publishedDelta}: ${r.ratio.toFixed(1)}×${pub ? ` (published ${pub.ratio.toFixed(1)}×)` : ''}`;
  });
  return `Angular damage ÷ magnitude damage: ${parts.join(', ')}.`;
}

function asymmetryLine(e1: E1Summary): string {
  const larger = e1.rows.filter((r) => r.angle.mean > r.magnitude.mean);
  const first = e1.rows[0];
  const last = e1.rows[e1.rows.length - 1];
  if (!first) return 'No δ condition has results yet.';
  const shrinks = e1.rows.length > 1 && last.ratio < first.ratio;
  return (
    `Rotation hurts more than rescaling at ${larger.length} of ${e1.rows.length} δ values` +
    (e1.rows.length > 1
      ? `; the ratio is ${first.ratio.toFixed(1)}× at δ=${first.publishedDelta} and ${last.ratio.toFixed(1)}× at δ=${last.publishedDelta}${shrinks ? ' (smaller at large δ)' : ''}`
      : '') +
    ` (the original: more at every δ, 42.9× falling to 1.4×).`
  );
}

export function sweepProse(study: ComparedRun, e1: E1Summary): ExperimentProse {
  const rows = mainRows(study, e1, null, 'E1');
  return {
    question: 'At equal displacement, does rotating hidden states raise next-token loss more than rescaling them?',
    method: `${OPERATORS} Damage is the mean per-sentence loss minus the clean loss, averaged over seeds; ${e1.nSentences} WikiText sentences here (the original: 281).`,
    found: [
      `Clean loss ${e1.baseline.toFixed(3)} (published ${PUBLISHED_MAIN.baseline.value}).`,
      asymmetryLine(e1),
      ratioLine(e1),
      `Verdicts: ${verdictCounts(rows)}. ${comparabilityLine(study)}`,
    ],
    limits: [
      'Seeds only change the random draws; the sentences are the same in every seed, so the ± is operator noise, not sampling error over text (the sentence-level test in notebook 05 addresses that).',
      'δ is an absolute distance while hidden-state norms differ by layer, token and model, so ratios are not comparable across models.',
    ],
    doc: 'docs/experiments.md#e1-loss-under-equal-displacement',
  };
}

export function blimpProse(study: ComparedRun, e2: BlimpSummary): ExperimentProse {
  const rows = mainRows(
    study,
    { baseline: NaN, baselineStd: 0, nSentences: 0, angleMode: '', rows: [], regimes: null },
    e2,
    'E2',
  );
  const cross = e2.rows.filter((r) => r.diff > 0);
  const p5 = PUBLISHED_MAIN.e2.find((p) => p.delta === 5);
  const r5 = e2.rows.find((r) => r.publishedDelta === 5);
  return {
    question: 'Does the picture flip for grammar: does rescaling hurt subject–verb agreement more than rotating?',
    method: `${OPERATORS} Each BLiMP pair is scored correct when the grammatical sentence gets the higher summed log-probability; ${e2.pairs} pairs from the plural subject–verb agreement paradigms. The original's scoring function was deleted from its notebook, so the pair selection and scoring rule are a reconstruction (notebook 06 shows which readings give its 179/200 baseline).`,
    found: [
      `Clean accuracy ${e2.baseline.toFixed(1)}% (published ${PUBLISHED_MAIN.blimpBaseline}%).`,
      `Magnitude lowers accuracy more than angular at ${cross.length} of ${e2.rows.length} δ values` +
        (r5 && p5
          ? `; at δ=5 the drops are ${r5.magnitude.drop.toFixed(1)} vs ${r5.angle.drop.toFixed(1)} points (published ${(PUBLISHED_MAIN.blimpBaseline - p5.mag[0]).toFixed(1)} vs ${(PUBLISHED_MAIN.blimpBaseline - p5.ang[0]).toFixed(1)}).`
          : '.'),
      `Verdicts: ${verdictCounts(rows)}. ${comparabilityLine(study)}`,
    ],
    limits: [
      "With the original's noise sharing, the grammatical and ungrammatical sentence of a pair often get the same angular noise (same token count) while magnitude signs are drawn afresh, which by itself can favour 'magnitude hurts grammar more'.",
      'Five seed-level accuracies over the same pairs: the test measures operator noise, not generalisation over items.',
    ],
    doc: 'docs/experiments.md#e2-grammar-blimp',
  };
}

export function figure1Prose(study: ComparedRun, e1: E1Summary, e2: BlimpSummary): ExperimentProse {
  const rows = mainRows(study, e1, e2);
  const s = blimpProse(study, e2);
  return {
    question:
      'Figure 1 puts the two results side by side: loss damage favours rotation (A), grammar damage favours rescaling (B).',
    method: `Panel A is E1's damage per δ with the ratio labels; panel B is E2's accuracy drop at each δ with the seed-level one-sided test. ${OPERATORS}`,
    found: [
      asymmetryLine(e1),
      s.found[1],
      `Verdicts over both panels: ${verdictCounts(rows)}. ${comparabilityLine(study)}`,
    ],
    limits: [
      "The original's stars above panel A were typed in; here they come from the paired test.",
      ...s.limits.slice(0, 1),
    ],
    doc: 'docs/experiments.md#figure-1',
  };
}

/** An accuracy drop in words: "lowers accuracy by 2.5 points" or "raises it by 1.3". */
const change = (drop: number) =>
  drop >= 0 ? `lowers accuracy by ${drop.toFixed(1)} points` : `raises accuracy by ${(-drop).toFixed(1)} points`;

const pFmt = (p: number) => (!Number.isFinite(p) ? 'n/a' : p < 1e-3 ? p.toExponential(1) : p.toFixed(3));

/** Notebook 08: the main result in a few sentences, with the verdict counts over E1 and E2. */
export function summaryProse(study: ComparedRun, e1: E1Summary, e2: BlimpSummary): ExperimentProse {
  const rows = mainRows(study, e1, e2);
  const first = e1.rows[0];
  const last = e1.rows[e1.rows.length - 1];
  const b5 = e2.rows.find((r) => r.publishedDelta === 5);
  const found = [
    asymmetryLine(e1),
    first
      ? `The angle-vs-magnitude difference has two-sided p = ${pFmt(first.seedTest.pTwoSided)} over seeds and ${pFmt(first.sentence.test.pTwoSided)} over ${first.sentence.n} sentences at δ=${first.publishedDelta}, and ${pFmt(last.seedTest.pTwoSided)} and ${pFmt(last.sentence.test.pTwoSided)} at δ=${last.publishedDelta}.`
      : 'No loss-sweep condition has results yet.',
    b5
      ? `Grammar (${e2.pairs} BLiMP pairs, clean accuracy ${e2.baseline.toFixed(1)}%): at δ=5 magnitude ${change(b5.magnitude.drop)} and angular ${change(b5.angle.drop)} (one-sided p = ${pFmt(b5.seedTest.pGreater)} for "magnitude hurts more").`
      : 'Grammar: no δ=5 condition in the BLiMP results.',
    `Verdicts against the published numbers: ${verdictCounts(rows)}. ${comparabilityLine(study)}`,
  ];
  return {
    question:
      'What did this run reproduce of the main result: rotation hurts next-token loss more than rescaling, rescaling hurts grammar more?',
    method: `The summary reads the stored loss sweep (notebook 04) and BLiMP run (notebook 06). ${OPERATORS}`,
    found,
    limits: [
      'Seed-level tests compare a handful of seed means over the same sentences: they measure operator noise, not how the result generalises over text (notebook 05 gives the sentence-level tests).',
      "The BLiMP scoring is a reconstruction: the original's scoring function is not in its notebook.",
    ],
    doc: 'docs/experiments.md#the-method-in-one-paragraph',
  };
}

/** Published seed-level t per δ, next to ours, and the two-regime ratios: notebook 05's compare table. */
export function statisticsRows(study: ComparedRun, e1: E1Summary): ReportRow[] {
  const comparable = comparability(study).comparable;
  const ts = PUBLISHED_MAIN.e1.map((p) => {
    const r = e1.rows.find((x) => x.publishedDelta === p.delta);
    return row(`E1 paired t over seeds, δ=${p.delta}`, { value: p.t }, r ? { value: r.seedTest.t } : null, comparable);
  });
  return [...ts, ...mainRows(study, e1, null, 'E1').filter((r) => r.quantity.includes('regime'))];
}

/** Notebook 05: seed- vs sentence-level statistics, the two regimes, and the robustness grid. */
export function statisticsProse(study: ComparedRun, e1: E1Summary, rob: readonly RobustnessRow[]): ExperimentProse {
  const n = e1.rows.length;
  const seedSig = e1.rows.filter((r) => r.seedTest.pTwoSided < 0.05).length;
  const sentSig = e1.rows.filter((r) => r.sentence.test.pTwoSided < 0.05).length;
  const ciAbove = e1.rows.filter((r) => r.sentence.ratioCi[0] > 1).length;
  const P = PUBLISHED_MAIN.regimes;
  const rg = e1.regimes;
  const lossHolds = rob.filter((r) => r.ratio1 > 1 && r.ratio5 > 1);
  const grammarHolds = rob.filter((r) => r.blimpDropMagnitude > r.blimpDropAngle);
  const policy = (r: RobustnessRow) => `${r.matching} matching / ${r.noise} noise`;
  return {
    question:
      'Are the loss differences significant when the sentences, not the seeds, are the sample, and do the claims survive the quirks of the original angular operator?',
    method:
      "The original tested five seed means per operator with a two-sided paired t and called difference ÷ (population std of the magnitude group) Cohen's d. Here the same test sits next to the pairing it discarded: each sentence's damage averaged over seeds, paired angle vs magnitude over sentences, with d_z and a bootstrap confidence interval. The two-regime test pools the low-δ and high-δ damages as the original did. The robustness grid reruns δ=1 and 5 (and BLiMP at δ=5) with the angle matched per token instead of on average, and with noise drawn per sentence and layer instead of shared by sentences of the same length.",
    found: [
      `Seed level: p < 0.05 at ${seedSig} of ${n} δ values; sentence level (${e1.nSentences} sentences): p < 0.05 at ${sentSig} of ${n}, and the 95% interval of the ratio lies above 1 at ${ciAbove} of ${n}.`,
      rg
        ? `Two regimes: ratio ${rg.low.ratio.toFixed(2)}× at low δ (${rg.low.deltas.join(', ')}) and ${rg.high.ratio.toFixed(2)}× at high δ (${rg.high.deltas.join(', ')}), a ${(100 * rg.reduction).toFixed(0)}% reduction (published ${P.lowRatio.toFixed(2)}× → ${P.highRatio.toFixed(2)}×, ${(100 * P.reduction).toFixed(0)}%).`
        : `Two regimes: ${e1.regimesNA ?? 'not computed for this run'}.`,
      rob.length
        ? `Robustness: rotation hurts loss more at both δ=1 and δ=5 under ${lossHolds.length} of ${rob.length} operator variants${
            lossHolds.length < rob.length
              ? ` (not under ${rob
                  .filter((r) => !lossHolds.includes(r))
                  .map(policy)
                  .join('; ')})`
              : ''
          }; magnitude lowers BLiMP accuracy more under ${grammarHolds.length} of ${rob.length}.`
        : 'Robustness: no operator variant was run.',
      `Verdicts (t values and regime ratios): ${verdictCounts(statisticsRows(study, e1))}. ${comparabilityLine(study)}`,
    ],
    limits: [
      'Seed-level t values grow with the number of seeds and say nothing about other sentences; the original\'s "d" is not a standardised effect size.',
      'The regime split (which δ are "low") is the original\'s choice, made after seeing the data.',
    ],
    doc: 'docs/experiments.md#seeds-and-statistics',
  };
}
