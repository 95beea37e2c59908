/**
 * Question / method / result / limits of each "beyond" experiment as markdown, with every number
 * and every comparison word taken from the results (the notebooks print these; nothing typed in).
 */
import type { NormViewSummary, PerturbLayer } from './norm-view';
import type { InterferenceSummary, InterferenceTarget } from './interference';
import type { ContrastSummary } from './contrast';
import { curveAt } from './interference';
import { mean } from './geometry';

const f = (x: number, d = 3) =>
  !Number.isFinite(x) ? String(x) : x !== 0 && Math.abs(x) < 1e-3 ? x.toExponential(1) : x.toPrecision(d);
const pct = (x: number, d = 1) => `${(100 * x).toFixed(d)}%`;
const normName = (n: string) => (n === 'layernorm' ? 'LayerNorm' : 'RMSNorm');

function argmaxBy<T>(xs: readonly T[], key: (x: T) => number): T {
  return xs.reduce((a, b) => (key(b) > key(a) ? b : a));
}

export function describeNormView(s: NormViewSummary): string {
  const nm = normName(s.norm);
  const first = s.clean[0],
    last = s.clean[s.clean.length - 1];
  const kmax = String(Math.max(...s.kappas));
  const mag = s.perturb.magnitude?.[kmax] ?? [];
  const ang = s.perturb.angle_exact?.[kmax] ?? [];
  const survM = mean(mag.map((r) => r.survival)),
    survA = mean(ang.map((r) => r.survival));
  const maxSurvM = mag.length ? argmaxBy(mag, (r) => r.survival) : undefined;
  const resc = s.controls.rescale,
    flip = s.controls.flip,
    shift = s.controls.meanShift;
  const worstCos = (rows?: { cosOutMin: number }[]) => (rows ? Math.min(...rows.map((r) => r.cosOutMin)) : NaN);
  const meanEnergy = mean(s.clean.map((c) => c.meanEnergy));
  const lines = [
    `### B1 · What each component sees — ${s.model} (${nm}${s.parallelResidual ? ', parallel residual' : ''})`,
    '',
    `**Question.** The attention block of layer L does not read the residual stream h = \`resid_pre\`; it reads ln1(h). How much of a change in ‖h‖, and how much of a change in h's direction, is still there after ln1?`,
    '',
    `**Method.** ${s.sentences} WikiText sentences, every real token, layers ${s.clean[0].layer}–${last.layer}. At one layer at a time the engine perturbs \`blocks.L.hook_resid_pre\` with δ = κ · min‖h‖ (κ = ${s.kappas.join(', ')}), by magnitude (h′ = (1 ± δ/‖h‖)·h) or exact angle (rotation, ‖h′‖ = ‖h‖). We compare \`ln1.hook_out\` with the clean pass: surviving share = (‖n′−n‖/‖n‖) / (‖h′−h‖/‖h‖), averaged over tokens. Controls patch \`resid_pre\` exactly: a positive factor per token in [½, 2], a sign flip, and a shift along (1,…,1).`,
    '',
    `**Result.** Residual norms go from ${f(first.normMean)} (layer ${first.layer}) to ${f(last.normMean)} (layer ${last.layer}) on average, while ln1's output norm (γ and β included) lies between ${f(Math.min(...s.clean.map((c) => c.normalizedNorm)))} and ${f(Math.max(...s.clean.map((c) => c.normalizedNorm)))} across layers. ` +
      (mag.length && ang.length
        ? `At κ = ${kmax}, ${pct(survM)} of a magnitude perturbation's relative size survives ln1 (largest at layer ${maxSurvM!.layer}: ${pct(maxSurvM!.survival)}), against ${pct(survA)} of an angular one — ` +
          (survA > survM
            ? `the norm passes direction changes ${f(survA / Math.max(survM, 1e-12), 2)}× more than magnitude changes.`
            : `here magnitude survives at least as much as direction.`)
        : '') +
      (resc
        ? ` A positive per-token rescaling leaves the output direction unchanged (worst cosine ${f(worstCos(resc), 10)}, largest relative change ${f(Math.max(...resc.map((r) => r.relChangeOutMax)), 2)}, from ε).`
        : '') +
      (flip
        ? ` A sign flip gives worst/best cosine ${f(worstCos(flip), 4)}/${f(Math.max(...flip.map((r) => r.cosOutMax)), 4)}; n + n′ is the same vector for every token up to ${f(Math.max(...flip.map((r) => r.sumSpread)), 2)} (relative), i.e. n′ = 2β − n${s.norm === 'rmsnorm' ? ' with β = 0: the output flips sign exactly' : ''}.`
        : '') +
      (shift
        ? ` Adding a constant to every feature ${worstCos(shift) > 1 - 1e-6 ? `is invisible to ${nm} (worst cosine ${f(worstCos(shift), 10)})` : `changes ${nm}'s output (mean cosine ${f(mean(shift.map((r) => r.cosOutMean)), 4)}, worst ${f(worstCos(shift), 4)})`}; the clean residual keeps ${pct(meanEnergy, 2)} of its energy in the mean component on average.`
        : ''),
    '',
    `**Limits.** Only ln1 of the same layer is measured (${s.parallelResidual ? 'with a parallel residual, ln2 reads the same h and sees the same thing' : 'ln2 reads resid_mid, which the attention output has already changed'}); later layers see the perturbation through the residual stream unnormalised. Survival of a magnitude perturbation comes only from ε in the norm and, for LayerNorm, from β; δ is tied to the smallest token norm, so high-norm tokens get small relative perturbations. ${s.sentences} sentences, one seed.`,
  ];
  return lines.join('\n');
}

/** One-line per-layer view of a perturb series, for tables. */
export function normViewRows(s: NormViewSummary): Record<string, number | string>[] {
  const out: Record<string, number | string>[] = [];
  for (const c of s.clean) {
    const row: Record<string, number | string> = {
      layer: c.layer,
      norm: c.normMean,
      scale: c.scaleMean,
      meanEnergy: c.meanEnergy,
    };
    for (const [op, byK] of Object.entries(s.perturb))
      for (const [k, rows] of Object.entries(byK)) {
        const r = rows.find((x: PerturbLayer) => x.layer === c.layer);
        if (r) row[`${op === 'magnitude' ? 'mag' : 'ang'} κ=${k}`] = r.survival;
      }
    for (const [name, rows] of Object.entries(s.controls)) {
      const r = rows!.find((x) => x.layer === c.layer);
      if (r) row[`${name} cos min`] = r.cosOutMin;
    }
    out.push(row);
  }
  return out;
}

export function describeInterference(s: InterferenceSummary, model: string): string {
  const emax = Math.max(...s.eps);
  const at = (t: InterferenceTarget) => curveAt(s, t, emax);
  const zero = s.curves.filter((c) => c.eps === 0);
  const maxZero = zero.length ? Math.max(...zero.map((c) => Math.max(c.local, c.downstream))) : NaN;
  const present = s.targets.filter((t) => at(t));
  const worst = present.length ? argmaxBy(present, (t) => at(t)!.local) : undefined;
  let worstHead = '';
  if (worst) {
    const m = s.heads[worst][String(emax)];
    let best = { l: 0, h: 0, v: -1 };
    m.forEach((row, li) => row.forEach((v, h) => v > best.v && (best = { l: s.layers[li], h, v })));
    worstHead = ` The most fragile head is layer ${best.l} head ${best.h} (${pct(best.v)} of its rows switch under ${worst}).`;
  }
  const line = (t: InterferenceTarget) => {
    const c = at(t);
    return c ? `${t}: ${pct(c.local)} local (max ${pct(c.localMax)}), ${pct(c.downstream)} downstream` : '';
  };
  const rp = at('resid_pre'),
    k = at('k'),
    q = at('q'),
    v = at('v'),
    ln = at('ln1_out');
  const cmp =
    rp && k
      ? (rp.local < k.local
          ? `Through the pre-attention norm (resid_pre) the local effect is ${rp.local === 0 ? 'nil (no row switched)' : `${pct(rp.local, 3)}, ${f(k.local / rp.local, 2)}× smaller`} against ${pct(k.local)} for keys perturbed after the norm; `
          : `Through the norm (resid_pre, ${pct(rp.local)}) the local effect is not smaller than after it (keys, ${pct(k.local)}); `) +
        `downstream, resid_pre reaches ${pct(rp.downstream)} because the residual stream keeps the rescaled tokens.`
      : '';
  return [
    `### B2 · Norm interference — ${model}`,
    '',
    `**Question.** If only the lengths of queries, keys or values change by a few percent, which heads' attention targets (the argmax key of each query row) change — and does it matter whether the change happens before the pre-attention norm or after it?`,
    '',
    `**Method.** At one layer at a time, the clean tensor of the target is captured, every row (a token, or a token × head for q/k/v) is multiplied by 1 ± ε with a random sign, and the result is patched back (exact, no engine change). ε = ${s.eps.map((e) => pct(e, 0)).join(', ')}. For every head we count query rows (t ≥ 1, ${s.rows} rows per head) whose argmax over keys of \`hook_pattern\` differs from the clean pass, at the perturbed layer (local) and at every later layer (downstream). Targets: ${s.targets.join(', ')}; layers ${s.layers.join(', ')}.`,
    '',
    `**Result.** At ε = ${pct(emax, 0)}: ${present.map(line).join('; ')}. ` +
      `With ε = 0 the largest switch rate is ${pct(maxZero, 2)}. ` +
      (q
        ? `Scaling a query row by a positive factor scales that row's scores, so q switches ${pct(q.local, 2)} locally — only its downstream effect (${pct(q.downstream)}) is real. `
        : '') +
      (v ? `Values do not enter the local pattern (${pct(v.local, 2)} local). ` : '') +
      (ln ? `Rescaling ln1's output per token (${pct(ln.local)} local) moves q, k and v together. ` : '') +
      cmp +
      worstHead,
    '',
    `**Limits.** Argmax switches ignore how much probability moves (the mean total-variation distance is in the records); near-ties switch under tiny changes, so switch rates on short sentences and with few heads are noisy. Per-row signs are independent; a coordinated perturbation (all keys of a head scaled alike) switches nothing by construction. ${s.rows} query rows per head.`,
  ].join('\n');
}

export function describeContrast(s: ContrastSummary, model: string, skipped: string[] = []): string {
  const pre = s.byHook.resid_pre ?? [];
  const mid = s.byHook.resid_mid;
  if (!pre.length) return `### B3 · Residual geometry — ${model}\n\nNo resid_pre results.`;
  // layer 0's resid_pre is the last token's embedding alone (often the final punctuation mark)
  const inner = pre.length > 1 ? pre.slice(1) : pre;
  const minCos = argmaxBy(inner, (r) => -r.cosMeans);
  const maxRel = argmaxBy(inner, (r) => r.relMeanDiff);
  const growth = pre[pre.length - 1].norm / pre[0].norm;
  const maxGrowth = argmaxBy(pre.slice(1), (r) => r.growth);
  const varTop = argmaxBy(pre, (r) => r.varMax / Math.max(r.varMean, 1e-30));
  return [
    `### B3 · Residual geometry from contrastive sets — ${model}`,
    '',
    `**Question.** Where along depth do two sets of prompts (${s.labelA} vs ${s.labelB}) separate in the residual stream, and is the separation a change of direction of the mean, of spread, or only of scale?`,
    '',
    `**Method.** Last-token activations of ${s.nA} + ${s.nB} prompts at \`resid_pre\` of every layer (the last point is the final \`resid_post\`)${mid ? ' and at `resid_mid`' : ''}. Per layer: cosine of the two set means, ‖μ_A − μ_B‖ relative to the mean norm, per-feature variance over both sets (mean and max over features), and the mean norm with its growth from the previous layer.`,
    '',
    `**Result.** At layer 0 (the last token's embedding alone) the set means have cosine ${f(pre[0].cosMeans, 4)}. After the first block they are least aligned at layer ${minCos.layer} (cosine ${f(minCos.cosMeans, 4)}) and most aligned at layer ${argmaxBy(inner, (r) => r.cosMeans).layer} (${f(Math.max(...inner.map((r) => r.cosMeans)), 4)}); the final residual has ${f(pre[pre.length - 1].cosMeans, 4)}. The mean difference is largest relative to the norm at layer ${maxRel.layer} (${f(maxRel.relMeanDiff, 3)} of ‖h‖). ` +
      `The mean norm grows ${f(growth, 3)}× from layer 0 to the end, fastest into layer ${maxGrowth.layer} (×${f(maxGrowth.growth, 3)}). ` +
      `The variance is most concentrated at layer ${varTop.layer}: its largest feature (${varTop.varArgmax}) has ${f(varTop.varMax / varTop.varMean, 3)}× the mean feature variance. ` +
      (mid
        ? `At resid_mid the cosine of the means ranges ${f(Math.min(...mid.map((r) => r.cosMeans)), 4)}–${f(Math.max(...mid.map((r) => r.cosMeans)), 4)}.`
        : ''),
    '',
    `**Limits.** ${skipped.length ? skipped.join('; ') + '. ' : ''}${s.nA} and ${s.nB} prompts, last token only, no held-out split: the mean difference includes sampling noise of order √(var/n). The sets differ in more than the contrast (length, final punctuation token), and a cosine of means near 1 can hide a large difference when the shared mean dominates.`,
  ].join('\n');
}
