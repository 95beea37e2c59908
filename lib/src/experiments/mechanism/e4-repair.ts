/**
 * E4 (original idx 12, "Cell 13: Causal Attention Repair"): patch the clean attention outputs
 * (hook_attn_out) of the perturbed layers into perturbed runs. Per sentence: clean pass (B, and the
 * cache), unrepaired (U) and repaired (R) passes. Angle: same noise for U and R (the original
 * cleared its cache per sentence → noiseKey ['item'], one stream per seed). Magnitude: different
 * signs for U and R (signKey includes 'pass': U is pass 0, R pass 1).
 */
import {
  mean,
  type TTestResult,
  recoveryPerSentence,
  recoverySeed,
  type RecoverySpread,
  bootstrapCI,
  ttestPairedOrNA,
} from '../../stats';
import { plan } from '../../engine/plan';
import type { Item } from '../../engine/types';
import { Study } from '../study';
import { modeName, pairBySeedIndex } from '../settings';
import { Condition, runConditions } from '../runs';
import {
  CompareRow,
  MECH_MODES,
  MechRecordBase,
  MechanismOptions,
  MechanismSettings,
  MeanStd,
  ModeName,
  PatchSet,
  SentenceTest,
  attnHooks,
  commonFields,
  lossesOf,
  mechanismItems,
  mechanismSettings,
  meanStd,
  repairPasses,
  repairStream,
  seedAveraged,
  seedOf,
  sentencePaired,
  sentenceRecovery,
} from './common';
import { PUBLISHED_MECHANISM } from './published';

/** One repair condition of one seed and mode: per-sentence losses, U and each patch set's R. */
export interface RepairRecord extends MechRecordBase {
  /** baseline record: clean per-sentence losses */
  losses?: number[];
  unrepaired?: number[];
  repaired?: Record<string, number[]>;
  /** the patched layers per patch set */
  patched?: Record<string, number[]>;
  seconds: number;
  [k: string]: unknown;
}

export function e4Settings(study: Study, opts: MechanismOptions = {}): Promise<MechanismSettings> {
  return mechanismSettings(study, 'E4', opts);
}

export async function baselineLosses(study: Study, items: Item[]): Promise<RepairRecord> {
  const res = await study.model.runWithHooks(items, plan('logprobs'));
  return { key: 'baseline', kind: 'baseline', losses: lossesOf(res), seconds: res.seconds };
}

/** One (seed, mode) repair condition for any list of patch sets (E4, E5, E6, E9, E11 share it). */
export async function repairRecord(
  study: Study,
  s: MechanismSettings,
  items: Item[],
  key: string,
  seedIndex: number,
  mode: ModeName,
  sets: (PatchSet & { layers: number[] })[],
  extra: Record<string, unknown> = {},
): Promise<RepairRecord> {
  const seed = seedOf(s, seedIndex);
  const r = await repairPasses(study, items, {
    mode: MECH_MODES[mode],
    layers: s.layers,
    delta: s.delta,
    seed,
    stream: repairStream(s.experiment, s.publishedDelta, mode),
    sets,
    legacyIters: s.legacyIters,
    chunk: s.chunk,
  });
  return {
    key,
    kind: 'condition',
    seed,
    seedIndex,
    mode,
    op: modeName(MECH_MODES[mode]),
    unrepaired: r.unrepaired,
    repaired: r.repaired,
    patched: Object.fromEntries(sets.map((p) => [p.name, p.layers])),
    seconds: r.seconds,
    ...extra,
  };
}

export async function runE4(study: Study, s: MechanismSettings): Promise<RepairRecord[]> {
  const { items, source } = await mechanismItems(study, s);
  const sets = [{ name: 'attn', hooks: attnHooks(s.layers), layers: s.layers }];
  const conds: Condition<RepairRecord>[] = [{ key: 'baseline', run: () => baselineLosses(study, items) }];
  for (let si = 0; si < s.seeds; si++)
    for (const mode of ['angle', 'magnitude'] as const) {
      const key = `s${si}|${mode}`;
      conds.push({ key, run: () => repairRecord(study, s, items, key, si, mode, sets) });
    }
  return runConditions(study, s.experiment, conds, commonFields(study, s, items, source, { patch: 'hook_attn_out' }));
}

export interface ModeRepair {
  mode: ModeName;
  /** mean losses per seed */
  unrepaired: MeanStd;
  repaired: MeanStd;
  /** U − B and R − B per seed */
  damage: MeanStd;
  repairedDamage: MeanStd;
  /** D − D′ per seed (nats recovered) */
  recoveredNats: MeanStd;
  /** the original's R-seed (with ε = 1e-8 unless stated) */
  recoverySeed: RecoverySpread;
  /** standard recovery over sentences: 100·Σ(U−R)/Σ(U−B) on seed-averaged sentence losses, with a sentence bootstrap CI */
  recoverySentences: { estimate: number; ci: [number, number] };
  /** mean over sentences of 100·(U_i−R_i)/(U_i−B_i) (recoveryPerSentence); unstable where a sentence's damage is ≈ 0; null if some damage is exactly 0 */
  recoveryPerSentenceMean: number | null;
  /** seed-level paired t of D vs D′ (two-sided, tests 1/2) */
  test: TTestResult;
  /** sentence level: seed-averaged D_i vs D′_i */
  sentence: SentenceTest;
}

/** Seed- and sentence-level summary of one mode and one patch set of repair records. */
export function modeRepair(
  base: RepairRecord,
  recs: RepairRecord[],
  mode: ModeName,
  set: string,
  epsilon = 1e-8,
): ModeRepair {
  const B0 = mean(base.losses!);
  const U = recs.map((r) => mean(r.unrepaired!));
  const R = recs.map((r) => mean(r.repaired![set]));
  const Bs = U.map(() => B0);
  const Bi = base.losses!;
  const Ui = seedAveraged(recs, (r) => r.unrepaired!);
  const Ri = seedAveraged(recs, (r) => r.repaired![set]);
  let perSentence: number | null;
  try {
    perSentence = recoveryPerSentence({ baseline: Bi, unrepaired: Ui, repaired: Ri });
  } catch {
    perSentence = null;
  }
  return {
    mode,
    unrepaired: meanStd(U),
    repaired: meanStd(R),
    damage: meanStd(U.map((u) => u - B0)),
    repairedDamage: meanStd(R.map((r) => r - B0)),
    recoveredNats: meanStd(U.map((u, i) => u - R[i])),
    recoverySeed: recoverySeed({ baseline: Bs, unrepaired: U, repaired: R }, { epsilon }),
    recoverySentences: sentenceRecovery(Bi, Ui, Ri),
    recoveryPerSentenceMean: perSentence,
    test: ttestPairedOrNA(
      U.map((u) => u - B0),
      R.map((r) => r - B0),
      'seeds',
    ),
    sentence: sentencePaired(
      Ui.map((u, i) => u - Bi[i]),
      Ri.map((r, i) => r - Bi[i]),
      11,
    ),
  };
}

/**
 * Sentence-level comparison of two recoveries (ratio of means): the per-sentence gains
 * g_i = 100·(U_i − R_i)/D̄ (D̄ = that mode's mean damage) have means equal to the two recoveries;
 * the paired t over sentences treats D̄ as fixed, the bootstrap CI of the difference resamples
 * sentences and recomputes both ratios.
 */
export function sentenceRecoveryDiff(
  Bi: number[],
  a: { U: number[]; R: number[] },
  b: { U: number[]; R: number[] },
  seed = 12,
): SentenceTest {
  const n = Bi.length;
  const dBar = (x: { U: number[] }) => mean(x.U.map((u, i) => u - Bi[i]));
  const ga = a.U.map((u, i) => (100 * (u - a.R[i])) / dBar(a));
  const gb = b.U.map((u, i) => (100 * (u - b.R[i])) / dBar(b));
  const rec = (idx: readonly number[], x: { U: number[]; R: number[] }) => {
    let num = 0,
      den = 0;
    for (const i of idx) {
      num += x.U[i] - x.R[i];
      den += x.U[i] - Bi[i];
    }
    return (100 * num) / den;
  };
  const ci = bootstrapCI(
    Array.from({ length: n }, (_, i) => i),
    (idx) => rec(idx, a) - rec(idx, b),
    { seed, reps: 4000 },
  );
  const base = sentencePaired(ga, gb, seed);
  return {
    ...base,
    meanDiff:
      rec(
        Array.from({ length: n }, (_, i) => i),
        a,
      ) -
      rec(
        Array.from({ length: n }, (_, i) => i),
        b,
      ),
    ci: [ci.lower, ci.upper],
  };
}

export interface E4Summary {
  nSentences: number;
  seeds: number;
  baseline: number;
  angle: ModeRepair;
  magnitude: ModeRepair;
  /** test 3: paired t of R-seed recoveries, angle vs magnitude, one-sided p = pGreater */
  test3: TTestResult;
  /** test 3 at sentence level (ratio-of-means recoveries, see sentenceRecoveryDiff) */
  test3Sentence: SentenceTest;
  compare: CompareRow[];
}

export function pairedSeeds(records: RepairRecord[], a: ModeName, b: ModeName): [RepairRecord[], RepairRecord[]] {
  const pick = (m: ModeName) => records.filter((r) => r.kind === 'condition' && r.mode === m);
  return pairBySeedIndex(pick(a), pick(b));
}

export function summarizeE4(records: RepairRecord[]): E4Summary {
  const base = records.find((r) => r.kind === 'baseline');
  if (!base) throw new Error('E4: no baseline record; run E4 first');
  const [A, M] = pairedSeeds(records, 'angle', 'magnitude');
  if (!A.length) throw new Error('E4: no paired angle/magnitude records');
  const angle = modeRepair(base, A, 'angle', 'attn');
  const magnitude = modeRepair(base, M, 'magnitude', 'attn');
  const Bi = base.losses!;
  const side = (rs: RepairRecord[]) => ({
    U: seedAveraged(rs, (r) => r.unrepaired!),
    R: seedAveraged(rs, (r) => r.repaired!.attn),
  });
  const test3 = ttestPairedOrNA(angle.recoverySeed.perSeed, magnitude.recoverySeed.perSeed, 'seeds');
  const P = PUBLISHED_MECHANISM.E4;
  return {
    nSentences: Bi.length,
    seeds: A.length,
    baseline: mean(Bi),
    angle,
    magnitude,
    test3,
    test3Sentence: sentenceRecoveryDiff(Bi, side(A), side(M)),
    compare: [
      { experiment: 'E4', quantity: 'baseline loss', published: P.baseline, reproduced: mean(Bi) },
      { experiment: 'E4', quantity: 'angle damage U−B', published: P.angle.damage, reproduced: angle.damage.mean },
      {
        experiment: 'E4',
        quantity: 'angle repaired damage R−B',
        published: P.angle.repairedDamage,
        reproduced: angle.repairedDamage.mean,
      },
      {
        experiment: 'E4',
        quantity: 'angle recovery % (mean of per-seed recoveries)',
        published: P.angle.recovery.mean,
        reproduced: angle.recoverySeed.mean,
      },
      {
        experiment: 'E4',
        quantity: 'angle recovery % (sentences, Σ(U−R)/Σ(U−B))',
        published: null,
        reproduced: angle.recoverySentences.estimate,
        note: 'not in the original',
      },
      {
        experiment: 'E4',
        quantity: 'magnitude damage U−B',
        published: P.magnitude.damage,
        reproduced: magnitude.damage.mean,
      },
      {
        experiment: 'E4',
        quantity: 'magnitude repaired damage R−B',
        published: P.magnitude.repairedDamage,
        reproduced: magnitude.repairedDamage.mean,
      },
      {
        experiment: 'E4',
        quantity: 'magnitude recovery % (mean of per-seed recoveries)',
        published: P.magnitude.recovery.mean,
        reproduced: magnitude.recoverySeed.mean,
      },
      {
        experiment: 'E4',
        quantity: 'magnitude recovery % (sentences, Σ(U−R)/Σ(U−B))',
        published: null,
        reproduced: magnitude.recoverySentences.estimate,
        note: 'not in the original',
      },
      { experiment: 'E4', quantity: 'test 1 t (angle D vs D′)', published: P.test1.t, reproduced: angle.test.t },
      {
        experiment: 'E4',
        quantity: 'test 2 t (magnitude D vs D′)',
        published: P.test2.t,
        reproduced: magnitude.test.t,
      },
      {
        experiment: 'E4',
        quantity: 'test 3 t (recovery angle vs magnitude)',
        published: P.test3.t,
        reproduced: test3.t,
      },
      { experiment: 'E4', quantity: 'test 3 p one-sided', published: P.test3.pOneSided, reproduced: test3.pGreater },
    ],
  };
}
