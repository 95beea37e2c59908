/**
 * E9 (original idx 17, "Cell 18: MLP vs Attention", run there on Pythia-1.4B): patch the clean
 * attention output, the clean MLP output, or both, at the perturbed layers. Recovery R-of-means
 * (§1.5.5) plus the standard sentence-level recovery; test: paired t of per-seed (U − R_mlp) vs
 * (U − R_attn) for the angle, one-sided (H1: MLP recovers more). Seeds 42+s+900.
 *
 * E11 (original idx 24, "Cell 25: LayerNorm Pathway Test"): patch both LayerNorms at the perturbed
 * layers (ln1/ln2.hook_normalized, the values before γ and β, so both norms' outputs become the
 * clean ones). Recovery R-pooled-baseline;
 * test: paired t of magnitude vs angular recovery, one-sided (H1: magnitude larger). Seeds
 * 42+s+1200. In a parallel-residual block both norms read the block input, so this repair equals
 * "patch attention + MLP outputs" — `parallelEquivalence` computes that on the model at hand. (The
 * same holds in any pre-norm block whose sublayers read nothing but their norm's output — a
 * sequential block's MLP reads ln2(resid_mid), which the patch also makes clean; stories260k shows
 * it too. The LN patch never tests normalisation itself: the perturbed residual flows on.)
 *
 * Passes as E4: angle noise shared by every pass of a sentence, magnitude signs fresh per pass.
 */
import type { HookName } from '../../engine/hooks';
import { hooks } from '../../engine/hooks';
import { plan } from '../../engine/plan';
import type { Item } from '../../engine/types';
import {
  mean,
  recoveryOfMeans,
  recoveryPooledBaseline,
  type RecoverySpread,
  type TTestResult,
  ttestPairedOrNA,
} from '../../stats';
import { Study } from '../study';
import { Condition, perturbedPlan, runConditions } from '../runs';
import { seedFor } from '../settings';
import {
  CompareRow,
  MECH_MODES,
  MechanismOptions,
  MechanismSettings,
  MeanStd,
  ModeName,
  SentenceTest,
  attnHooks,
  commonFields,
  lnHooks,
  mechanismItems,
  mechanismSettings,
  meanStd,
  mlpHooks,
  repairStream,
  seedAveraged,
  sentencePaired,
  sentenceRecovery,
} from './common';
import { RepairRecord, baselineLosses, pairedSeeds, repairRecord, sentenceRecoveryDiff } from './e4-repair';
import { PUBLISHED_MECHANISM } from './published';

export function e9Settings(study: Study, opts: MechanismOptions = {}): Promise<MechanismSettings> {
  return mechanismSettings(study, 'E9', opts);
}

export const E9_SETS = ['attn', 'mlp', 'both'] as const;

export async function runE9(study: Study, s: MechanismSettings): Promise<RepairRecord[]> {
  const { items, source } = await mechanismItems(study, s);
  const sets = [
    { name: 'attn', hooks: attnHooks(s.layers), layers: s.layers },
    { name: 'mlp', hooks: mlpHooks(s.layers), layers: s.layers },
    { name: 'both', hooks: [...attnHooks(s.layers), ...mlpHooks(s.layers)], layers: s.layers },
  ];
  const conds: Condition<RepairRecord>[] = [{ key: 'baseline', run: () => baselineLosses(study, items) }];
  for (let si = 0; si < s.seeds; si++)
    for (const mode of ['angle', 'magnitude'] as const) {
      const key = `s${si}|${mode}`;
      conds.push({ key, run: () => repairRecord(study, s, items, key, si, mode, sets) });
    }
  return runConditions(
    study,
    s.experiment,
    conds,
    commonFields(study, s, items, source, { patch: 'attn / mlp / both' }),
  );
}

export interface PathwayMode {
  mode: ModeName;
  unrepaired: MeanStd;
  repaired: Record<(typeof E9_SETS)[number], MeanStd>;
  /** R-of-means (the original's): one number per set */
  recoveryOfMeans: Record<(typeof E9_SETS)[number], number>;
  /** standard: Σ(U−R)/Σ(U−B) over seed-averaged sentences, with a bootstrap CI */
  recoverySentences: Record<(typeof E9_SETS)[number], { estimate: number; ci: [number, number] }>;
  /** paired t over seeds of (U − R_mlp) vs (U − R_attn); one-sided p = pGreater (H1: MLP recovers more) */
  mlpVsAttn: TTestResult;
  /** the same over sentences (seed-averaged) */
  mlpVsAttnSentence: SentenceTest;
}

export interface E9Summary {
  baseline: number;
  nSentences: number;
  seeds: number;
  angle: PathwayMode;
  magnitude: PathwayMode;
  compare: CompareRow[];
}

function pathwayMode(base: RepairRecord, recs: RepairRecord[], mode: ModeName): PathwayMode {
  const B0 = mean(base.losses!);
  const U = recs.map((r) => mean(r.unrepaired!));
  const Ui = seedAveraged(recs, (r) => r.unrepaired!);
  const per = <T>(f: (set: (typeof E9_SETS)[number]) => T) =>
    Object.fromEntries(E9_SETS.map((x) => [x, f(x)])) as Record<(typeof E9_SETS)[number], T>;
  const R = per((x) => recs.map((r) => mean(r.repaired![x])));
  const Ri = per((x) => seedAveraged(recs, (r) => r.repaired![x]));
  return {
    mode,
    unrepaired: meanStd(U),
    repaired: per((x) => meanStd(R[x])),
    recoveryOfMeans: per((x) => recoveryOfMeans({ baseline: U.map(() => B0), unrepaired: U, repaired: R[x] })),
    recoverySentences: per((x) => sentenceRecovery(base.losses!, Ui, Ri[x])),
    mlpVsAttn: ttestPairedOrNA(
      U.map((u, i) => u - R.mlp[i]),
      U.map((u, i) => u - R.attn[i]),
      'seeds',
    ),
    mlpVsAttnSentence: sentencePaired(
      Ui.map((u, i) => u - Ri.mlp[i]),
      Ui.map((u, i) => u - Ri.attn[i]),
      15,
    ),
  };
}

export function summarizeE9(records: RepairRecord[]): E9Summary {
  const base = records.find((r) => r.kind === 'baseline');
  if (!base) throw new Error('E9: no baseline record; run E9 first');
  const [A, M] = pairedSeeds(records, 'angle', 'magnitude');
  if (!A.length) throw new Error('E9: no paired records');
  const angle = pathwayMode(base, A, 'angle');
  const magnitude = pathwayMode(base, M, 'magnitude');
  const P = PUBLISHED_MECHANISM.E9;
  const note = 'published on Pythia-1.4B';
  const compare: CompareRow[] = [
    { experiment: 'E9', quantity: 'baseline loss', published: P.baseline, reproduced: mean(base.losses!), note },
  ];
  for (const [m, pm, pub] of [
    ['angle', angle, P.angle],
    ['magnitude', magnitude, P.magnitude],
  ] as const)
    for (const x of E9_SETS)
      compare.push({
        experiment: 'E9',
        quantity: `${m} + ${x} recovery % (R-of-means)`,
        published: pub.recovery[x],
        reproduced: pm.recoveryOfMeans[x],
        note,
      });
  compare.push(
    {
      experiment: 'E9',
      quantity: 't (angle, U−R_mlp vs U−R_attn)',
      published: P.t,
      reproduced: angle.mlpVsAttn.t,
      note,
    },
    {
      experiment: 'E9',
      quantity: 'p one-sided (MLP recovers more)',
      published: P.pOneSided,
      reproduced: angle.mlpVsAttn.pGreater,
      note,
    },
  );
  return { baseline: mean(base.losses!), nSentences: base.losses!.length, seeds: A.length, angle, magnitude, compare };
}

// ───────────────────────────── E11 ─────────────────────────────

export function e11Settings(study: Study, opts: MechanismOptions = {}): Promise<MechanismSettings> {
  return mechanismSettings(study, 'E11', opts);
}

export async function runE11(study: Study, s: MechanismSettings): Promise<RepairRecord[]> {
  const { items, source } = await mechanismItems(study, s);
  const sets = [{ name: 'ln', hooks: lnHooks(s.layers), layers: s.layers }];
  const conds: Condition<RepairRecord>[] = [{ key: 'baseline', run: () => baselineLosses(study, items) }];
  for (let si = 0; si < s.seeds; si++)
    for (const mode of ['angle', 'magnitude'] as const) {
      const key = `s${si}|${mode}`;
      conds.push({ key, run: () => repairRecord(study, s, items, key, si, mode, sets) });
    }
  return runConditions(
    study,
    'E11',
    conds,
    commonFields(study, s, items, source, { patch: 'ln1+ln2 hook_normalized' }),
  );
}

export interface LnMode {
  mode: ModeName;
  unrepaired: MeanStd;
  repaired: MeanStd;
  damage: number;
  repairedDamage: number;
  /** R-pooled-baseline (the original's) */
  recovery: RecoverySpread;
  recoverySentences: { estimate: number; ci: [number, number] };
}

export interface E11Summary {
  baseline: number;
  nSentences: number;
  seeds: number;
  angle: LnMode;
  magnitude: LnMode;
  /** paired t of magnitude vs angular R-pooled-baseline recoveries; one-sided p = pGreater (H1: magnitude larger) */
  test: TTestResult;
  /** sentence level: magnitude vs angle recovery (ratio of means) paired over sentences */
  testSentence: SentenceTest;
  compare: CompareRow[];
}

function lnMode(base: RepairRecord, recs: RepairRecord[], mode: ModeName): LnMode {
  const B0 = mean(base.losses!);
  const U = recs.map((r) => mean(r.unrepaired!));
  const R = recs.map((r) => mean(r.repaired!.ln));
  return {
    mode,
    unrepaired: meanStd(U),
    repaired: meanStd(R),
    damage: mean(U) - B0,
    repairedDamage: mean(R) - B0,
    recovery: recoveryPooledBaseline({ baseline: U.map(() => B0), unrepaired: U, repaired: R }),
    recoverySentences: sentenceRecovery(
      base.losses!,
      seedAveraged(recs, (r) => r.unrepaired!),
      seedAveraged(recs, (r) => r.repaired!.ln),
    ),
  };
}

export function summarizeE11(records: RepairRecord[]): E11Summary {
  const base = records.find((r) => r.kind === 'baseline');
  if (!base) throw new Error('E11: no baseline record; run E11 first');
  const [A, M] = pairedSeeds(records, 'angle', 'magnitude');
  if (!A.length) throw new Error('E11: no paired records');
  const angle = lnMode(base, A, 'angle');
  const magnitude = lnMode(base, M, 'magnitude');
  const test = ttestPairedOrNA(magnitude.recovery.perSeed, angle.recovery.perSeed, 'seeds');
  const side = (rs: RepairRecord[]) => ({
    U: seedAveraged(rs, (r) => r.unrepaired!),
    R: seedAveraged(rs, (r) => r.repaired!.ln),
  });
  const P = PUBLISHED_MECHANISM.E11;
  return {
    baseline: mean(base.losses!),
    nSentences: base.losses!.length,
    seeds: A.length,
    angle,
    magnitude,
    test,
    testSentence: sentenceRecoveryDiff(base.losses!, side(M), side(A), 16),
    compare: [
      { experiment: 'E11', quantity: 'baseline loss', published: P.baseline, reproduced: mean(base.losses!) },
      { experiment: 'E11', quantity: 'angle damage U−B', published: P.angle.damage, reproduced: angle.damage },
      {
        experiment: 'E11',
        quantity: 'angle + LN recovery % (R-pooled-baseline)',
        published: P.angle.recovery.mean,
        reproduced: angle.recovery.mean,
      },
      {
        experiment: 'E11',
        quantity: 'magnitude damage U−B',
        published: P.magnitude.damage,
        reproduced: magnitude.damage,
      },
      {
        experiment: 'E11',
        quantity: 'magnitude + LN recovery % (R-pooled-baseline)',
        published: P.magnitude.recovery.mean,
        reproduced: magnitude.recovery.mean,
      },
      { experiment: 'E11', quantity: 't (magnitude vs angle recovery)', published: P.t, reproduced: test.t },
      {
        experiment: 'E11',
        quantity: 'p one-sided (magnitude larger)',
        published: P.pOneSided,
        reproduced: test.pGreater,
      },
    ],
  };
}

export interface EquivalenceRow {
  mode: ModeName;
  /** max |Δ| of per-token log-probs between the LN-patched and the attn+MLP-patched perturbed runs */
  maxLogprobDiff: number;
  /** max |Δ| of the last layer's hook_resid_post, and that tensor's max |value| for scale */
  maxResidDiff: number;
  residScale: number;
  /** max |Δ| of the per-sentence losses */
  maxLossDiff: number;
}

/**
 * Computes, on the model at hand, how far patching both LayerNorm outputs at the perturbed layers
 * is from patching the attention and MLP outputs there (equal by construction when attention and
 * MLP read only the norm outputs, e.g. GPT-NeoX's parallel block; expected to agree to float32
 * rounding). Both perturbed runs use the same noise and the same signs (same pass).
 */
export async function parallelEquivalence(
  study: Study,
  s: MechanismSettings,
  opts: { sentences?: number } = {},
): Promise<{ parallelResidual: boolean; rows: EquivalenceRow[] }> {
  const { items: all } = await mechanismItems(study, s);
  const items: Item[] = all.slice(0, opts.sentences ?? 8);
  const last = hooks.residPost(study.model.cfg.nLayers - 1);
  const ln = lnHooks(s.layers),
    am = [...attnHooks(s.layers), ...mlpHooks(s.layers)];
  const { cache: clean } = await study.model.runWithCache(items, [...ln, ...am], { onDevice: true });
  const rows: EquivalenceRow[] = [];
  for (const mode of ['angle', 'magnitude'] as const) {
    const run = (patched: HookName[]) =>
      study.model.runWithHooks(
        items,
        perturbedPlan(
          { mode: MECH_MODES[mode], layers: s.layers, delta: s.delta, noiseScope: 'item', legacyIters: s.legacyIters },
          plan('logprobs').patch(patched, clean).capture(last),
        ),
        { seed: seedFor(s.seedOffset, 0), stream: repairStream('E11-equivalence', s.publishedDelta, mode), pass: 1 },
      );
    const a = await run(ln),
      b = await run(am);
    let lp = 0,
      rd = 0,
      sc = 0,
      ld = 0;
    a.items.forEach((x, i) => {
      const y = b.items[i];
      let la = 0,
        lb = 0;
      x.logprobs!.forEach((v, t) => {
        lp = Math.max(lp, Math.abs(v - y.logprobs![t]));
        la -= v;
        lb -= y.logprobs![t];
      });
      ld = Math.max(ld, Math.abs(la - lb) / x.logprobs!.length);
      const ra = x.captures[last].data,
        rb = y.captures[last].data;
      for (let k = 0; k < ra.length; k++) {
        rd = Math.max(rd, Math.abs(ra[k] - rb[k]));
        sc = Math.max(sc, Math.abs(ra[k]));
      }
    });
    rows.push({ mode, maxLogprobDiff: lp, maxResidDiff: rd, residScale: sc, maxLossDiff: ld });
  }
  clean.dispose();
  return { parallelResidual: study.model.cfg.parallelResidual, rows };
}
