/** Prose for the main result: E1 (loss sweep), E2 (BLiMP) and Figure 1, generated from their summaries. */
import type { E1Summary } from '../experiments/e1-stats';
import type { BlimpSummary } from '../experiments/e2-blimp';
import type { Study } from '../experiments/study';
import { PUBLISHED_MAIN, mainReportRows } from '../report/published-main';
import { comparability, type ComparedRun } from '../report/reproduce';
import type { ReportRow } from '../report/verdict';
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

export function sweepProse(study: Study, e1: E1Summary): ExperimentProse {
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

export function blimpProse(study: Study, e2: BlimpSummary): ExperimentProse {
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

export function figure1Prose(study: Study, e1: E1Summary, e2: BlimpSummary): ExperimentProse {
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
