/**
 * The claims recap (original idx 11, "Final Summary with Mediation Result"): each claim of the study
 * (EXPERIMENTS.md §1.1) restated with this run's numbers, whether its direction holds in this run, and
 * the verdicts of its numbers against the published ones. The published side is built from the
 * published constants (report/published-main.ts, experiments/mechanism/published.ts, the cross-model
 * registry); everything else from the summaries passed in.
 */
import { PUBLISHED_MAIN } from '../report/published-main';
import { PUBLISHED_MECHANISM } from '../experiments/mechanism/published';
import { PUBLISHED_CROSSMODEL, CROSSMODEL_REGISTRY } from '../experiments/crossmodel/registry';
import { crossModelSummary } from '../experiments/crossmodel/summary';
import { PUBLISHED } from '../experiments/settings';
import { comparability, type ComparedRun } from '../report/reproduce';
import type { PaperResults } from '../report/paper-results';
import { row, type Comparability, type ReportRow } from '../report/verdict';
import { resultsTable, type ResultsTable } from '../tables';
import { comparabilityLine, verdictCounts, type ExperimentProse } from './experiment';
import { mainRows } from './main';

export type ClaimsInput = Pick<PaperResults, 'e1' | 'e2' | 'e3' | 'e4' | 'e11' | 'replication'>;

export interface Claim {
  /** '1', '2', '3a', … as in EXPERIMENTS.md §1.1 */
  id: string;
  title: string;
  /** the claim as published, its numbers taken from the published constants */
  published: string;
  /** the same claim with this run's numbers */
  found: string;
  /** whether the claim's direction holds in this run; null when this run cannot say */
  holds: boolean | null;
  /** this run's numbers against the published ones, with verdicts */
  rows: ReportRow[];
}

const x1 = (v: number) => `${v.toFixed(1)}×`;
const pp = (v: number) => `${v.toFixed(1)} pp`;
const p = (v: number) => (!Number.isFinite(v) ? 'n/a' : v < 1e-4 ? v.toExponential(1) : v.toFixed(4));
const seeds = (m: { mean: number; std: number; perSeed: number[] }) => ({
  value: m.mean,
  std: m.std,
  n: m.perSeed.length,
});

function lossClaim(study: ComparedRun, x: ClaimsInput): Claim {
  const P = PUBLISHED_MAIN.e1;
  const rows = x.e1.rows;
  const larger = rows.filter((r) => r.angle.mean > r.magnitude.mean).length;
  const first = rows[0];
  const last = rows[rows.length - 1];
  return {
    id: '1',
    title: 'Loss asymmetry',
    published:
      `At equal displacement δ rotating hidden vectors raises next-token loss more than rescaling them: ratio ` +
      `${x1(P[0].ratio)} at δ=${P[0].delta}, falling to ${x1(P[P.length - 1].ratio)} at δ=${P[P.length - 1].delta}.`,
    found: first
      ? `Angular damage exceeds magnitude damage at ${larger} of ${rows.length} δ values; ratio ${x1(first.ratio)} ` +
        `at δ=${first.publishedDelta}${rows.length > 1 ? `, ${x1(last.ratio)} at δ=${last.publishedDelta}` : ''}.`
      : 'No δ condition has results.',
    holds: rows.length ? larger === rows.length : null,
    rows: mainRows(study, x.e1, null, 'E1').filter((r) => r.quantity.startsWith('E1')),
  };
}

function crossOverClaim(study: ComparedRun, x: ClaimsInput): Claim {
  const base = PUBLISHED_MAIN.blimpBaseline;
  const [p0, ...rest] = PUBLISHED_MAIN.e2;
  const rows = x.e2.rows;
  const more = rows.filter((r) => r.magnitude.drop > r.angle.drop).length;
  const at = rows.find((r) => r.publishedDelta === p0.delta) ?? rows[0];
  return {
    id: '2',
    title: 'Cross-over on grammar (BLiMP)',
    published:
      `On BLiMP subject–verb agreement (${PUBLISHED.e2.items} pairs) magnitude perturbation lowers accuracy more: ` +
      `drops of ${pp(base - p0.mag[0])} vs ${pp(base - p0.ang[0])} at δ=${p0.delta} ` +
      `(also δ=${rest.map((r) => r.delta).join(', ')}).`,
    found: at
      ? `Magnitude lowers accuracy more than angular at ${more} of ${rows.length} δ values (${x.e2.pairs} pairs, ` +
        `baseline ${x.e2.baseline.toFixed(1)}%); at δ=${at.publishedDelta} drops of ${pp(at.magnitude.drop)} vs ` +
        `${pp(at.angle.drop)} (one-sided p = ${at.seedTest.na ?? p(at.seedTest.pGreater)}).`
      : 'No δ condition has results.',
    holds: rows.length ? more === rows.length : null,
    rows: mainRows(study, null, x.e2, 'E2'),
  };
}

function entropyClaim(ctx: Comparability, x: ClaimsInput): Claim {
  const P = PUBLISHED_MECHANISM.E3;
  const e = x.e3;
  return {
    id: '3a',
    title: 'Mechanism: attention entropy',
    published:
      `Angular perturbation raises mean attention entropy ${x1(P.ratio)} more than magnitude ` +
      `(ΔH ${P.dAngle.mean} vs ${P.dMagnitude.mean} nats).`,
    found:
      `ΔH ${e.dAngle.mean.toFixed(4)} (angular) vs ${e.dMagnitude.mean.toFixed(4)} (magnitude) nats, ratio ` +
      `${x1(e.ratio)}; one-sided p = ${e.test.na ?? p(e.test.pGreater)} over ${e.seeds} seeds.`,
    holds: e.dAngle.mean > e.dMagnitude.mean,
    rows: [
      row('E3 ΔH angle', { value: P.dAngle.mean, std: P.dAngle.std, n: P.seeds }, seeds(e.dAngle), ctx),
      row('E3 ΔH magnitude', { value: P.dMagnitude.mean, std: P.dMagnitude.std, n: P.seeds }, seeds(e.dMagnitude), ctx),
      row('E3 ratio ΔH angle / ΔH magnitude', { value: P.ratio }, { value: e.ratio }, ctx),
    ],
  };
}

function repairClaim(
  ctx: Comparability,
  id: string,
  title: string,
  what: string,
  pub: { angle: { mean: number; std: number }; magnitude: { mean: number; std: number }; seeds: number },
  ours: { angle: { mean: number; std: number; perSeed: number[] }; magnitude: typeof ours.angle },
  larger: 'angle' | 'magnitude',
  experiment: string,
): Claim {
  const other = larger === 'angle' ? 'magnitude' : 'angle';
  const name = (m: string) => (m === 'angle' ? 'angular' : 'magnitude');
  const pubRow = (m: 'angle' | 'magnitude') => ({ value: pub[m].mean, std: pub[m].std, n: pub.seeds });
  return {
    id,
    title,
    published:
      `Patching clean ${what} into the perturbed layers recovers ${pub[larger].mean}% of ${name(larger)} vs ` +
      `${pub[other].mean}% of ${name(other)} loss damage.`,
    found:
      `Patching ${what} recovers ${ours[larger].mean.toFixed(1)}% of ${name(larger)} ` +
      `vs ${ours[other].mean.toFixed(1)}% of ${name(other)} damage (${ours.angle.perSeed.length} seeds).`,
    holds: ours[larger].mean > ours[other].mean,
    rows: (['angle', 'magnitude'] as const).map((m) =>
      row(`${experiment} ${name(m)} recovery %`, pubRow(m), seeds(ours[m]), ctx),
    ),
  };
}

/** Claim 4's published side: the models whose published angular damage exceeds magnitude at every δ. */
function publishedReplication(): string {
  const held: string[] = [];
  const not: string[] = [];
  const none: string[] = [];
  for (const e of CROSSMODEL_REGISTRY.filter((x) => x.runner)) {
    const loss = PUBLISHED_CROSSMODEL[e.key]?.loss ?? [];
    if (!loss.length) none.push(e.label);
    else (loss.every((r) => r.angular.mean > r.magnitude.mean) ? held : not).push(e.label);
  }
  return (
    `The loss asymmetry (angular damage above magnitude at every published δ) replicates in ${held.join(', ')}` +
    `${not.length ? `; not in ${not.join(', ')}` : ''}${none.length ? `; ${none.join(', ')} never finished` : ''}.`
  );
}

function replicationClaim(study: ComparedRun, x: ClaimsInput): Claim {
  const rows = crossModelSummary(x.replication);
  const ctx: Comparability = study.quick
    ? { comparable: false, comparability: 'quick mode: the other models ran with scaled settings' }
    : { comparable: true, comparability: "each model's results folder under its published id" };
  const models = [...new Set(rows.map((r) => r.model))];
  const per = models.map((m) => {
    const rs = rows.filter((r) => r.model === m);
    return { m, k: rs.filter((r) => r.angular > r.magnitude).length, n: rs.length };
  });
  return {
    id: '4',
    title: 'Replication in other models',
    published: publishedReplication(),
    found: per.length
      ? `Angular damage above magnitude at ${per.map((q) => `${q.k} of ${q.n} δ in ${q.m}`).join('; ')}.`
      : 'No other model has stored loss results (notebooks 20–25 store them).',
    holds: per.length ? per.every((q) => q.k === q.n) : null,
    rows: rows.map((r) =>
      row(
        `${r.model} ratio angular/magnitude, δ=${r.delta}`,
        r.publishedRatio === null ? null : { value: r.publishedRatio },
        { value: r.ratio },
        ctx,
      ),
    ),
  };
}

/** Every claim of §1.1 with this run's numbers and verdicts. */
export function claims(study: ComparedRun, x: ClaimsInput): Claim[] {
  const ctx = comparability(study);
  const E4 = PUBLISHED_MECHANISM.E4;
  const E11 = PUBLISHED_MECHANISM.E11;
  const spread = (m: { recovery: { mean: number; std: number } }) => m.recovery;
  return [
    lossClaim(study, x),
    crossOverClaim(study, x),
    entropyClaim(ctx, x),
    repairClaim(
      ctx,
      '3b',
      'Mechanism: attention repair',
      'attention outputs',
      { angle: spread(E4.angle), magnitude: spread(E4.magnitude), seeds: E4.seeds },
      { angle: x.e4.angle.recoverySeed, magnitude: x.e4.magnitude.recoverySeed },
      'angle',
      'E4',
    ),
    repairClaim(
      ctx,
      '3c',
      'Mechanism: LayerNorm repair',
      'LayerNorm outputs',
      { angle: spread(E11.angle), magnitude: spread(E11.magnitude), seeds: E11.seeds },
      { angle: x.e11.angle.recovery, magnitude: x.e11.magnitude.recovery },
      'magnitude',
      'E11',
    ),
    replicationClaim(study, x),
  ];
}

const holdsText = (h: boolean | null) => (h === null ? 'cannot say' : h ? 'holds' : 'does not hold');

/** One row per claim: as published, this run, whether it holds here, and how its numbers' verdicts came out. */
export function claimsTable(cs: readonly Claim[]): ResultsTable {
  return resultsTable(
    cs.map((c) => ({
      claim: `${c.id}. ${c.title}`,
      published: c.published,
      'this run': c.found,
      'holds here': holdsText(c.holds),
      verdicts: c.rows.length ? verdictCounts(c.rows) : 'no published number to compare',
    })),
  );
}

/** The recap's four-part note. */
export function claimsProse(study: ComparedRun, cs: readonly Claim[]): ExperimentProse {
  const said = cs.filter((c) => c.holds !== null);
  const held = said.filter((c) => c.holds);
  const failed = said.filter((c) => !c.holds);
  return {
    question: "Which of the study's claims hold in this run, and do its numbers agree with the published ones?",
    method:
      'Each claim is restated with the numbers this run computed. "Holds here" is the claim\'s direction in this ' +
      'run (for example angular damage above magnitude damage at every δ); the verdicts compare each number with ' +
      'the published one (consistent when within 3 standard errors, or within 5% where the original gave no spread).',
    found: [
      `${held.length} of ${cs.length} claims hold in this run` +
        (failed.length
          ? `; ${failed.length > 1 ? 'claims' : 'claim'} ${failed.map((c) => c.id).join(', ')} ${failed.length > 1 ? 'do' : 'does'} not`
          : '') +
        (cs.length > said.length ? `; ${cs.length - said.length} cannot be said from the stored results` : '') +
        '.',
      `Verdicts over all numbers: ${verdictCounts(cs.flatMap((c) => c.rows))}. ${comparabilityLine(study)}`,
    ],
    limits: [
      "The original's own recap printed its numbers as typed-in text; here they are recomputed, so a claim can " +
        'hold in direction while its numbers differ.',
      'Entropy is correlational, and in Pythia both LayerNorms read the block input, so the LayerNorm repair ' +
        'restores the whole block output rather than testing normalisation alone.',
      'Replication reads only the other models whose results are stored; their own notebooks (20–25) give the ' +
        'per-model verdicts with each run’s settings.',
    ],
    doc: 'docs/experiments.md#the-claims-recap',
  };
}
