/**
 * Prose for the cross-model notebooks (21–26): one registry cell on its own model (OPT-1.3B,
 * TinyLlama, OPT-IML, Zephyr, and Pythia-1.4B's loss part), the TinyLlama reversal, and the
 * cross-model summary. Every number comes from the results passed in or the registry's published values.
 */
import * as C from '../experiments/crossmodel';
import type { E1Summary } from '../experiments/e1-stats';
import type { E3Record, RepairRecord } from '../experiments/mechanism';
import { cellTarget, crossModelCellRows } from '../report/crossmodel-step';
import { comparableWith, type ComparedRun } from '../report/reproduce';
import { row, type Comparability, type ReportRow } from '../report/verdict';
import { comparabilityLine, verdictCounts, type ExperimentProse } from './experiment';

const pFmt = (p: number) => (!Number.isFinite(p) ? 'n/a' : p < 1e-3 ? p.toExponential(1) : p.toFixed(3));
const list = (xs: readonly (string | number)[]) => xs.join(', ');

/** What each cell asks, in the original's order. */
const QUESTIONS: Record<string, string> = {
  'pythia-1.4b':
    'Does the loss asymmetry hold in a larger model of the same family (Pythia-1.4B), and does attention entropy rise as in Pythia-410M?',
  'opt-1.3b':
    'Does rotation hurt more than rescaling in another architecture (OPT-1.3B: sequential blocks, learned positions), and does restoring attention recover more of the rotation damage there?',
  'tinyllama-1.1b-chat':
    'Does the asymmetry hold in a Llama-family model with RMSNorm (TinyLlama-1.1B-Chat), where the original reported the opposite at small δ?',
  'opt-iml-1.3b': 'Does instruction tuning change the asymmetry (OPT-IML-1.3B, the instruction-tuned OPT-1.3B)?',
  'zephyr-7b-beta':
    'Does the asymmetry hold at 7B parameters (Zephyr-7B-β, Mistral architecture)? The original never finished this run.',
};

function sentencesInWords(s: C.SentenceSet): string {
  return s.source === 'e12'
    ? `the original's 10 hand-written sentences repeated to ${s.n}`
    : `the first ${s.n} WikiText sentences`;
}

/** The cell's rows against its own model's published numbers, with the comparability of this run to that model. */
export function cellVerdictRows(
  study: ComparedRun,
  entry: C.CrossModelEntry,
  r: { lossSummary?: E1Summary | null; entropy?: E3Record[]; repair?: RepairRecord[] },
): { rows: ReportRow[]; ctx: Comparability } {
  const ctx = comparableWith(study, cellTarget(entry));
  return { rows: crossModelCellRows(entry, ctx, r, false), ctx };
}

/** Notebooks 21–24: one registry cell (loss sweep, plus repair or entropy where the cell has them). */
export function cellProse(
  study: ComparedRun,
  entry: C.CrossModelEntry,
  r: { lossSummary: E1Summary; entropy?: E3Record[]; repair?: RepairRecord[] },
): ExperimentProse {
  const pub = C.PUBLISHED_CROSSMODEL[entry.key];
  const e1 = r.lossSummary;
  const { rows, ctx } = cellVerdictRows(study, entry, r);
  const L = entry.loss;
  const method = [
    `The published cell (this run's layers and δ are printed above): a loss sweep at δ = ${list(L.deltas)} on ${sentencesInWords(L.sentences)}, ${L.seeds} seeds, perturbing layers ${list(entry.layers)} of ${entry.arch.nLayers}, with the original's angular operator (one rotation amount per sentence found by ${entry.legacyIters} bisection steps, so only the average displacement is δ).`,
    entry.originalDtype === 'float16'
      ? 'The original computed in fp16; dirmag computes in float32, so agreement can only be statistical.'
      : '',
    entry.repair
      ? `Attention repair at δ = ${entry.repair.delta}: the clean attention outputs of the perturbed layers are patched into perturbed runs (${entry.repair.seeds} seeds, ${sentencesInWords(entry.repair.sentences)}); recovery per seed is measured against the clean loss averaged over seeds, as the original did in this cell.`
      : '',
    entry.entropy
      ? `Attention entropy at δ = ${entry.entropy.delta} (${entry.entropy.seeds} seeds), as in notebook 10.`
      : '',
    entry.notes.length ? `Differences from the original: ${entry.notes.join('; ')}.` : '',
  ]
    .filter(Boolean)
    .join(' ');
  const larger = e1.rows.filter((x) => x.angle.mean > x.magnitude.mean);
  const perDelta = e1.rows.map((x) => {
    const p = pub?.loss.find((y) => y.delta === x.publishedDelta);
    return `δ=${x.publishedDelta}: ${x.angle.mean.toFixed(3)} vs ${x.magnitude.mean.toFixed(3)} nats, ratio ${x.ratio.toFixed(1)}×${p?.ratio != null ? ` (published ${p.ratio.toFixed(1)}×)` : ''}, one-sided p ${pFmt(x.angle.perSeed.length > 1 ? x.seedTest.pGreater : NaN)}`;
  });
  const found = [
    `Clean loss ${e1.baseline.toFixed(3)} over ${e1.nSentences} sentences${pub?.baseline != null ? ` (published ${pub.baseline})` : ''}.`,
    `Rotation vs rescaling damage — ${perDelta.join('; ')}.`,
    `Rotation hurts more at ${larger.length} of ${e1.rows.length} δ values${pub ? `; the original concluded: ${pub.verdict}` : ''}.`,
  ];
  if (r.repair?.length && C.pairedSeedCount(r.repair) > 0) {
    const rep = C.summarizeRepair(r.repair);
    found.push(
      `Attention repair recovers ${rep.angular.mean.toFixed(1)} ± ${rep.angular.std.toFixed(1)}% of the rotation damage and ${rep.magnitude.mean.toFixed(1)} ± ${rep.magnitude.std.toFixed(1)}% of the rescaling damage; one-sided p (rotation recovers more) = ${pFmt(rep.pOneSided)}` +
        (pub?.repair
          ? ` (published ${pub.repair.angular.mean} vs ${pub.repair.magnitude.mean}%${pub.repair.pOneSided !== undefined ? `, p = ${pub.repair.pOneSided}` : ''}).`
          : '.'),
    );
  }
  if (r.entropy?.length && C.pairedSeedCount(r.entropy) > 1) {
    const e = C.summarizeEntropy(r.entropy);
    found.push(
      `Attention entropy rises by ${e.deltaAngle.mean.toFixed(4)} under rotation and ${e.deltaMagnitude.mean.toFixed(4)} under rescaling (one-sided p = ${pFmt(e.pOneSided)})` +
        (pub?.entropy ? ` (published ${pub.entropy.deltaAngle.mean} vs ${pub.entropy.deltaMagnitude.mean}).` : '.'),
    );
  }
  found.push(
    rows.length
      ? `Verdicts: ${verdictCounts(rows)}. ${comparabilityLine(study, ctx)}`
      : 'No published numbers to compare with: the original never finished this model.',
  );
  return {
    question: QUESTIONS[entry.key] ?? `Does the loss asymmetry hold in ${entry.label}?`,
    method,
    found,
    limits: [
      "δ is an absolute distance while hidden-state norms differ by model and layer (the norm profile below gives this model's), so ratios are not comparable across models.",
      `${L.seeds} seeds over the same sentences: the seed-level test measures operator noise, not generalisation over text.`,
    ],
    doc: 'docs/experiments.md#e8e13-other-models',
  };
}

/** Notebook 25: is the TinyLlama reversal the operator's or the model's? */
export function reversalProse(study: ComparedRun, rev: C.ReversalResult): ExperimentProse {
  const ran = rev.rows.filter((x) => !x.skipped);
  const at = (m: 'legacy' | 'exact', n?: 'legacy' | 'independent') =>
    ran.filter((x) => x.matching === m && (n === undefined || x.noise === n));
  const legacy = at('legacy', 'legacy');
  const exact = at('exact');
  const rev0 = (xs: C.ReversalRow[]) => xs.filter((x) => x.reversed);
  const pert = rev.profile.filter((p) => rev.layers.includes(p.layer));
  const maxRatio = pert.length ? Math.max(...pert.map((p) => p.ratio)) : NaN;
  const legacyBudget = rev.budget.filter((b) => b.mode.startsWith('angle_legacy'));
  const share = legacyBudget.length ? legacyBudget.reduce((a, b) => a + b.firstShare, 0) / legacyBudget.length : NaN;
  const even = legacyBudget.length ? legacyBudget.reduce((a, b) => a + b.evenShare, 0) / legacyBudget.length : NaN;
  const where = (xs: C.ReversalRow[]) =>
    xs.length ? xs.map((x) => `${x.matching}/${x.noise} δ=${x.delta}`).join('; ') : 'none';
  return {
    question:
      'The original found rescaling more damaging than rotation in TinyLlama at small δ. Is that a property of the model, or of the original angular operator?',
    method: `The original's angular operator matches only the average displacement over tokens, so each token moves in proportion to its norm and a first token with a very large norm takes most of the budget; its noise is also shared by all sentences of one length and all layers. The TinyLlama sweep (layers ${list(rev.layers)}, δ = ${list(rev.deltas.map((d) => d.toFixed(3)))} as run) is repeated with the angle matched on average (legacy) or per token (exact), and the noise shared (legacy) or drawn per sentence and layer (independent), next to the clean norms per layer and how each operator spends δ across tokens.`,
    found: [
      `With the original operator (legacy matching and noise) rescaling hurts more at ${rev0(legacy).length} of ${legacy.length} δ values${rev0(legacy).length ? ` (δ = ${list(rev0(legacy).map((x) => x.delta))})` : ''}.`,
      `With the angle matched per token the reversal appears at ${rev0(exact).length} of ${exact.length} conditions (${where(rev0(exact))}).`,
      pert.length
        ? `At the perturbed layers the first token's norm is up to ${maxRatio.toFixed(1)}× the other tokens' mean${Number.isFinite(share) ? `; the original operator spends ${(100 * share).toFixed(1)}% of its displacement on it, against ${(100 * even).toFixed(1)}% for an even spread` : ''}.`
        : 'No norm profile at the perturbed layers.',
      ...(rev.rows.length > ran.length
        ? [`${rev.rows.length - ran.length} condition(s) could not run (listed above).`]
        : []),
    ],
    limits: [
      'This notebook has no published counterpart: it tests an explanation of the published reversal, so it carries no verdicts.',
      `${rev.entry.loss.seeds} seeds over ${sentencesInWords(rev.entry.loss.sentences)}: repeated sentences share the original's noise, so the sentence-level p overstates the sample.`,
    ],
    doc: 'docs/experiments.md#e8e13-other-models',
  };
}

/** Notebook 26's compare table: each model's ratio against the published one, comparable only at the published settings. */
export function crossModelRatioRows(rows: readonly C.CrossModelRow[], quick: boolean): ReportRow[] {
  return rows.map((r) => {
    const entry = C.registryEntry(r.key);
    const pubSentences = entry.loss.sentences.n;
    const ctx: Comparability = quick
      ? { comparable: false, comparability: 'quick mode: tiny checkpoints stand in for the models' }
      : r.seeds !== entry.loss.seeds || r.sentences !== pubSentences
        ? {
            comparable: false,
            comparability: `${r.seeds} seeds × ${r.sentences} sentences, published ${entry.loss.seeds} × ${pubSentences}`,
          }
        : { comparable: true, comparability: 'published seeds and sentences' };
    return row(
      `${r.model} ratio angular/magnitude, δ=${r.delta}`,
      r.publishedRatio === null ? null : { value: r.publishedRatio },
      { value: r.ratio },
      ctx,
    );
  });
}

/** Notebook 26: the cross-model summary. */
export function crossModelProse(
  rows: readonly C.CrossModelRow[],
  missing: readonly string[],
  quick: boolean,
): ExperimentProse {
  const models = [...new Set(rows.map((r) => r.model))];
  const perModel = models.map((m) => {
    const rs = rows.filter((r) => r.model === m);
    const larger = rs.filter((r) => r.angular > r.magnitude);
    return `${m} (${rs[0].norm}, ${rs[0].residual} block): rotation hurts more at ${larger.length} of ${rs.length} δ values, ratios ${rs.map((r) => `${r.ratio.toFixed(1)}×`).join(' / ')} at δ = ${list(rs.map((r) => r.delta))}`;
  });
  const holds = models.filter((m) => rows.filter((r) => r.model === m).every((r) => r.angular > r.magnitude));
  const verdictRows = crossModelRatioRows(rows, quick);
  return {
    question:
      'Across models, does rotating hidden states hurt next-token loss more than rescaling them by the same distance?',
    method:
      "Every number is read from the result files of notebooks 04 and 20–24; norm type and block layout come from the configs recorded with the results. The original typed Pythia-1.4B's ratios and every repair bar into its figure; here they are computed. Each model runs with its own cell's layers, δ values, seeds and sentences, as the original did.",
    found: [
      ...(perModel.length ? perModel.map((x) => `${x}.`) : ['No model has results yet.']),
      `Rotation hurts more at every δ in ${holds.length} of ${models.length} models${holds.length < models.length ? ` (not in ${models.filter((m) => !holds.includes(m)).join(', ')})` : ''}.`,
      ...(missing.length ? [`Not run yet: ${missing.length} model(s) (listed above).`] : []),
      `Ratios against the published ones: ${verdictCounts(verdictRows) || 'none'}.${quick ? ' Quick mode runs tiny checkpoints of each architecture: the table shows the pipeline, not the models.' : ''}`,
    ],
    limits: [
      'δ is an absolute distance and hidden-state norms differ by model (see the norm profiles in notebooks 20–25), so a ratio at the same δ is not the same relative perturbation in two models.',
      'The models differ in more than architecture: layers, sentences, seeds and the original dtype all change between cells.',
    ],
    doc: 'docs/experiments.md#e8e13-other-models',
  };
}
