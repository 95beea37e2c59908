/**
 * Prose for the mechanism notebooks (10–13, 15, 16): E3 attention entropy, E4 attention repair, E5/E6
 * which layers carry the repair, E7 query–key alignment, Figure 2 and E11 LayerNorm repair. One builder
 * per experiment; every number comes from the summary passed in or the original's published values.
 */
import * as M from '../experiments/mechanism';
import { mechanismRows } from '../report/mechanism-step';
import { comparability, type ComparedRun } from '../report/reproduce';
import type { ReportRow } from '../report/verdict';
import { comparabilityLine, verdictCounts, type ExperimentProse } from './experiment';

const P = M.PUBLISHED_MECHANISM;

const pFmt = (p: number) => (!Number.isFinite(p) ? 'n/a' : p < 1e-3 ? p.toExponential(1) : p.toFixed(3));
const tFmt = (t: number) => (Number.isFinite(t) ? t.toFixed(2) : 'n/a');
const pct = (x: number) => `${x.toFixed(1)}%`;
const ci = (c: [number, number], d = 1) => `${c[0].toFixed(d)} to ${c[1].toFixed(d)}`;
const pm = (m: { mean: number; std: number }, d = 1) => `${m.mean.toFixed(d)} ± ${m.std.toFixed(d)}`;

/** Published-vs-this-run rows of mechanism summaries, with verdicts (the quantity without the cell label). */
export function mechanismVerdictRows(study: ComparedRun, summaries: { compare: M.CompareRow[] }[]): ReportRow[] {
  return mechanismRows(summaries, study, comparability(study), false);
}

const verdictLine = (study: ComparedRun, summaries: { compare: M.CompareRow[] }[]) =>
  `Verdicts: ${verdictCounts(mechanismVerdictRows(study, summaries))}. ${comparabilityLine(study)}`;

const SETUP =
  'The angular perturbation is the original\'s ("legacy") one: one rotation amount for all tokens, found by bisection so that only the average displacement is δ, with noise shared by sentences of the same length; magnitude signs are drawn per token.';

const sentenceLine = (what: string, s: M.SentenceTest) =>
  `Over ${s.n} sentences (each averaged over seeds) ${what}: mean difference ${s.meanDiff.toFixed(4)} (95% interval ${s.ci[0].toFixed(4)} to ${s.ci[1].toFixed(4)}), p two-sided ${pFmt(s.test.pTwoSided)}.`;

/** Notebook 10: E3 attention entropy. */
export function entropyProse(study: ComparedRun, e3: M.E3Summary): ExperimentProse {
  const pert = e3.layers.filter((l) => l.perturbed);
  const after = e3.layers.filter((l) => !l.perturbed && l.layer > Math.max(...pert.map((x) => x.layer)));
  const angHigher = e3.layers.filter((l) => l.dAngle > l.dMagnitude).length;
  return {
    question: 'Does rotating hidden states make attention more diffuse than rescaling them by the same distance?',
    method: `The entropy of every attention row is computed with the original's formula, which adds 1e-10 to every probability, so the masked (future) keys contribute too; a layer's entropy is the mean over heads and query positions and a sentence's is the mean over all layers, including the unperturbed ones. δ=5 at the perturbed layers (${pert.length} layers), first ${e3.nSentences} sentences, ${e3.seeds} seeds. ${SETUP}`,
    found: [
      `Entropy rises by ${e3.dAngle.mean.toFixed(4)} under rotation and ${e3.dMagnitude.mean.toFixed(4)} under rescaling, ratio ${e3.ratio.toFixed(1)}× (published +${P.E3.dAngle.mean} vs +${P.E3.dMagnitude.mean}, ${P.E3.ratio}×).`,
      `Paired over seeds: t = ${tFmt(e3.test.t)}, one-sided p = ${pFmt(e3.test.pGreater)} (published t = ${P.E3.t}).`,
      sentenceLine('rotation minus rescaling', e3.sentence),
      `Rotation raises entropy more than rescaling at ${angHigher} of ${e3.layers.length} layers${after.length ? `; after the perturbed layers the rise averages ${(after.reduce((a, l) => a + l.dAngle, 0) / after.length).toFixed(4)} (rotation) vs ${(after.reduce((a, l) => a + l.dMagnitude, 0) / after.length).toFixed(4)} (rescaling)` : ''}.`,
      verdictLine(study, [e3]),
    ],
    limits: [
      'Correlational: more diffuse attention does not show that attention carries the loss damage (the repair in notebook 11 tests that).',
      'Averaging over all layers dilutes the effect with layers before the perturbation; the original\'s "d" pools population stds and is not a textbook effect size (d_z is shown beside it).',
    ],
    doc: 'docs/experiments.md#e3-attention-entropy',
  };
}

/** Notebook 11: E4 attention repair. */
export function repairProse(study: ComparedRun, e4: M.E4Summary): ExperimentProse {
  const a = e4.angle,
    m = e4.magnitude;
  return {
    question:
      'How much of the loss damage disappears when the attention outputs of the perturbed layers are restored to their clean values?',
    method: `Each sentence is run clean (to record the attention outputs), perturbed, and perturbed with the clean attention outputs patched in. Recovery per seed is 100·(unrepaired − repaired damage) ÷ unrepaired damage, as the original computed it ("per-seed recovery"), next to the standard ratio over sentences Σ(U−R)/Σ(U−B) with a bootstrap interval. The angular noise is the same in both perturbed passes; the magnitude signs are drawn afresh for the repaired pass, as in the original, so part of the magnitude "recovery" is a different perturbation. δ=5, first ${e4.nSentences} sentences, ${e4.seeds} seeds. ${SETUP}`,
    found: [
      `Per-seed recovery: ${pm(a.recoverySeed)}% under rotation vs ${pm(m.recoverySeed)}% under rescaling (published ${pm(P.E4.angle.recovery)}% vs ${pm(P.E4.magnitude.recovery)}%).`,
      `Over sentences: ${pct(a.recoverySentences.estimate)} (95% interval ${ci(a.recoverySentences.ci)}) vs ${pct(m.recoverySentences.estimate)} (${ci(m.recoverySentences.ci)}).`,
      `Damage ${a.damage.mean.toFixed(3)} → ${a.repairedDamage.mean.toFixed(3)} nats (rotation) and ${m.damage.mean.toFixed(3)} → ${m.repairedDamage.mean.toFixed(3)} (rescaling); rotation recovers ${a.recoverySeed.mean > m.recoverySeed.mean ? 'more' : 'less'} than rescaling: t = ${tFmt(e4.test3.t)}, one-sided p = ${pFmt(e4.test3.pGreater)} over seeds (published p = ${P.E4.test3.pOneSided}), p = ${pFmt(e4.test3Sentence.test.pGreater)} over sentences.`,
      verdictLine(study, [e4]),
    ],
    limits: [
      'Patching clean attention outputs also removes any effect the perturbation had through the residual stream into those layers; recovery is an upper bound on what attention mediates.',
      `The magnitude repair runs with different random signs than its unrepaired pass, which adds noise to its recovery (seed spread ${m.recoverySeed.std.toFixed(1)} points here, ${a.recoverySeed.std.toFixed(1)} for rotation).`,
    ],
    doc: 'docs/experiments.md#e4e6-repairing-attention',
  };
}

/** Notebook 12: E5 top-k layer repair and E6 layer-set controls. */
export function layersProse(study: ComparedRun, e5: M.E5Summary, e6: M.E6Summary): ExperimentProse {
  const set = (n: string) => e6.sets.find((s) => s.name === n);
  const top = set('top'),
    bottom = set('bottom');
  const samePub = P.E5.ranking.slice(0, 4).every((l) => e5.ranking.slice(0, 4).includes(l));
  return {
    question: 'Is the attention repair carried by a few layers, and are they the layers whose attention changed most?',
    method: `Each perturbed layer is scored by the sum of its heads' entropy rise under rotation; the top-k layers (k scaled to ${e5.rows.map((r) => r.k).join(', ')}) are repaired alone, angular perturbation only, with the per-seed recovery but without the original's small constant in the denominator. "% of full repair" divides by this run's own attention recovery from notebook 11, where the original divided by a typed-in 28.4. The control repairs the top, middle and bottom halves of the ranking and three random sets (the original's fixed NumPy draws when the layers are 8–15) and compares them with independent t tests, as the original did. ${e5.nSentences} sentences, ${e5.seeds} seeds.`,
    found: [
      `Ranking: ${e5.ranking.join(' > ')} (published ${P.E5.ranking.join(' > ')}); the top four ${samePub ? 'are' : 'are not'} the published top four.`,
      `Repairing ${e5.rows.map((r) => `the top ${r.k}: ${pm(r.recovery)}%${r.pctOfFull === null ? '' : ` (${r.pctOfFull.toFixed(0)}% of full)`}`).join('; ')}.`,
      top && bottom
        ? `Top half ${pm(top.recovery)}% vs bottom half ${pm(bottom.recovery)}% (published ${pm(P.E6.sets.top)} vs ${pm(P.E6.sets.bottom)}): t = ${tFmt(e6.topVsBottom.t)}, one-sided p = ${pFmt(e6.topVsBottom.pGreater)}; random sets average ${e6.randomMean.toFixed(1)} ± ${e6.randomStd.toFixed(1)}% (published ${P.E6.randomMean} ± ${P.E6.randomStdOfSetMeans}).`
        : 'The layer-set control has no top or bottom set.',
      `Over sentences, top minus bottom recovery: ${e6.topVsBottomSentence.meanDiff.toFixed(1)} points (95% interval ${e6.topVsBottomSentence.ci[0].toFixed(1)} to ${e6.topVsBottomSentence.ci[1].toFixed(1)}).`,
      verdictLine(study, [e5, e6]),
    ],
    limits: [
      'The ranking and the repairs use the same sentences, so the "top" layers are chosen on the data they are tested on.',
      'Independent t tests over three seeds treat seeds of the same sentences as independent samples; the sentence-level difference is the sturdier number.',
    ],
    doc: 'docs/experiments.md#e4e6-repairing-attention',
  };
}

/** Notebook 13: E7 same-position query–key alignment. */
export function qkProse(study: ComparedRun, e7: M.E7Summary): ExperimentProse {
  return {
    question: 'Does rotating hidden states disturb how queries line up with keys, more than rescaling does?',
    method: `The cosine between each head's query and key at the same position is averaged over heads, positions and the upper half of the perturbed layers (${e7.layers.join(', ')}); the "drop" is clean minus perturbed, so a negative drop means alignment rose. δ=5, first ${e7.nSentences} sentences, ${e7.seeds} seeds. The same-position cosine is not the attention logit between a query and other keys. ${SETUP}`,
    found: [
      `Clean alignment ${e7.baseline.toFixed(4)}; drop ${e7.dropAngle.mean.toFixed(4)} under rotation and ${e7.dropMagnitude.mean.toFixed(4)} under rescaling (published ${P.E7.dropAngle} and ${P.E7.dropMagnitude}).`,
      `Rotation vs rescaling over seeds: t = ${tFmt(e7.test.t)}, one-sided p = ${pFmt(e7.test.pGreater)} (published t = ${P.E7.t}, p = ${P.E7.pOneSided}).`,
      sentenceLine('rotation drop minus rescaling drop', e7.sentence),
      `${e7.verdict.charAt(0).toUpperCase()}${e7.verdict.slice(1)}${e7.verdict.endsWith('.') ? '' : '.'}`,
      verdictLine(study, [e7]),
    ],
    limits: [
      'The original found no effect (the angular drop was negative), although later summaries said rotation "disrupts Q·K alignment"; this measure cannot show disruption of query–key matching across positions.',
      'Three seeds over the same sentences: the seed-level test measures operator noise.',
    ],
    doc: 'docs/experiments.md#e7-querykey-alignment',
  };
}

/** Notebook 15: Figure 2 from E4 (panel A) and E6 (panel B). */
export function figure2Prose(study: ComparedRun, e4: M.E4Summary, e6: M.E6Summary): ExperimentProse {
  const F = P.figure2;
  const set = (n: string) => e6.sets.find((s) => s.name === n);
  const top = set('top'),
    bottom = set('bottom');
  const hurts = [e4.angle, e4.magnitude]
    .filter((m) => m.repairedDamage.mean > m.damage.mean)
    .map((m) => (m.mode === 'angle' ? 'rotation' : 'rescaling'));
  return {
    question:
      'Figure 2: restoring attention removes part of the damage (A), and the layers whose attention changed most carry most of that repair (B).',
    method:
      "Panel A draws the unrepaired and attention-repaired damage of both operators from this run's attention-repair results (notebook 11). The original's saved figure paired Pythia-1.4B's unrepaired numbers with Pythia-410M's repaired bars, which made repair look harmful; here both bars come from the same run. Panel B draws the recovery of each layer set from notebook 12 (random = mean ± std of the three random sets' means) with the one-sided top-vs-bottom test.",
    found: [
      `A: rotation ${e4.angle.damage.mean.toFixed(3)} → ${e4.angle.repairedDamage.mean.toFixed(3)}, rescaling ${e4.magnitude.damage.mean.toFixed(3)} → ${e4.magnitude.repairedDamage.mean.toFixed(3)} nats (published correct values ${F.panelA.angular.unrepaired} → ${F.panelA.angular.repaired} and ${F.panelA.magnitude.unrepaired} → ${F.panelA.magnitude.repaired}); repair ${hurts.length ? `raises the damage under ${hurts.join(' and ')}` : 'lowers the damage for both operators'}.`,
      top && bottom
        ? `B: top ${top.recovery.mean.toFixed(1)}%, bottom ${bottom.recovery.mean.toFixed(1)}%, random ${e6.randomMean.toFixed(1)} ± ${e6.randomStd.toFixed(1)}% (published ${F.panelB.top}, ${F.panelB.bottom}, ${F.panelB.random} ± ${F.panelB.randomStd}; the published top bar is the top-4 repair, not the layer-set one); top vs bottom one-sided p = ${pFmt(e6.topVsBottom.pGreater)}.`
        : 'B: the layer-set results have no top or bottom set.',
      verdictLine(study, [e4, e6]),
    ],
    limits: [
      "Panel B's published top bar came from a different run (the top-4 repair) than its other bars; here all bars are the layer-set run.",
    ],
    doc: 'docs/experiments.md#e4e6-repairing-attention',
  };
}

/** Notebook 16: E11 LayerNorm repair, with the parallel-block equivalence measured on this model. */
export function layernormProse(
  study: ComparedRun,
  e11: M.E11Summary,
  eq: { parallelResidual: boolean; rows: M.EquivalenceRow[] },
): ExperimentProse {
  const maxLoss = Math.max(...eq.rows.map((r) => r.maxLossDiff));
  // float32 rounding of the final residual: the two repairs are one intervention
  const same = eq.rows.every((r) => r.maxResidDiff <= 1e-4 * Math.max(r.residScale, 1));
  return {
    question: 'Does restoring the normalisation layers repair rescaling damage more than rotation damage?',
    method: `Both layer norms of the perturbed layers are given their clean outputs (before the learned scale and shift). Recovery per seed is measured against the seed-averaged clean loss, as the original did; the test is a one-sided paired t of magnitude vs angular recovery. δ=5, first ${e11.nSentences} sentences, ${e11.seeds} seeds. ${SETUP}`,
    found: [
      `Recovery ${pm(e11.magnitude.recovery)}% for rescaling vs ${pm(e11.angle.recovery)}% for rotation (published ${pm(P.E11.magnitude.recovery)}% vs ${pm(P.E11.angle.recovery)}%); t = ${tFmt(e11.test.t)}, one-sided p = ${pFmt(e11.test.pGreater)} (published p = ${P.E11.pOneSided}).`,
      `Over sentences: ${pct(e11.magnitude.recoverySentences.estimate)} vs ${pct(e11.angle.recoverySentences.estimate)}.`,
      same
        ? `On this model (${eq.parallelResidual ? 'parallel' : 'sequential'} block) patching the norms and patching the attention and MLP outputs ${maxLoss === 0 ? 'give identical losses' : `differ by at most ${maxLoss.toExponential(1)} nats per sentence (float32 rounding)`}: the LayerNorm repair is the same intervention as repairing both sublayers, not a test of normalisation.`
        : `On this model (${eq.parallelResidual ? 'parallel' : 'sequential'} block) patching the norms and patching the attention and MLP outputs differ by up to ${maxLoss.toExponential(1)} nats per sentence: here they are different interventions.`,
      verdictLine(study, [e11]),
    ],
    limits: [
      'The perturbed residual stream still flows past the patched layers, so neither recovery is the share of damage "caused by" normalisation.',
    ],
    doc: 'docs/experiments.md#e11-repairing-the-normalisation-layers',
  };
}
