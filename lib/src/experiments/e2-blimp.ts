/**
 * E2 (original Cell 8): BLiMP accuracy under each perturbation. A pair is correct when the good
 * sentence scores strictly higher than the bad one (ties count as wrong), by summed token
 * log-probability (default, standard BLiMP) and by mean token log-probability — both recorded.
 */
import { Plan, plan } from '../engine/plan';
import type { Item, RunOptions } from '../engine/types';
import { bootstrapCI, mean, std, ttestPairedOrNA, type TTestResult } from '../stats';
import { Study } from './study';
import {
  GridSettings,
  Mode,
  PUBLISHED,
  PUBLISHED_SCALE,
  QUICK,
  Scale,
  checkGridOptions,
  middleLayers,
  modeName,
  seedFor,
} from './settings';
import {
  Condition,
  ConditionRecordBase,
  blimpItems,
  conditionStream,
  perturbedPlan,
  preflight,
  runConditions,
} from './runs';
import { sweepSettings } from './e1-sweep';

/** "irregular + regular plural subject-verb agreement", 100 + 100 (EXPERIMENTS.md idx 7; the _1/_2 choice is unknown). */
export const E2_PARADIGMS = ['irregular_plural_subject_verb_agreement_1', 'regular_plural_subject_verb_agreement_1'];

export interface BlimpSettings extends GridSettings {
  paradigms: string[];
  /** pairs per paradigm (100+100) */
  perParadigm: number;
  blimpDir?: string;
}

export interface BlimpScores {
  /** per pair: log p(good) − log p(bad), summed over tokens / averaged per token */
  marginSum: number[];
  marginMean: number[];
  accSum: number;
  accMean: number;
}

export interface BlimpRecord extends BlimpScores, ConditionRecordBase {
  delta?: number;
  publishedDelta?: number;
  mode?: string;
  seconds: number;
  [k: string]: unknown;
}

export async function blimpSettings(
  study: Study,
  opts: {
    quick?: boolean;
    scale?: Scale;
    modes?: Mode[];
    paradigms?: string[];
    perParadigm?: number;
    seeds?: number;
    layers?: number[];
    /** δ grid as published (default the original's E2 grid); scaled in quick mode */
    deltas?: number[];
    blimpDir?: string;
  } = {},
): Promise<BlimpSettings> {
  checkGridOptions(opts);
  const quick = opts.quick ?? study.quick;
  // quick mode scales δ exactly as E1 does (measured on this model's clean norms)
  const scale = opts.scale ?? (quick ? (await sweepSettings(study, { quick })).scale : PUBLISHED_SCALE);
  const published = opts.deltas ?? PUBLISHED.e2.deltas;
  return {
    experiment: 'E2',
    layers: opts.layers ?? middleLayers(study.model.cfg.nLayers),
    deltas: published.map((d) => d * scale.deltaScale),
    publishedDeltas: published,
    seeds: opts.seeds ?? study.cap('seeds', quick ? QUICK.seeds : PUBLISHED.e2.seeds),
    seedOffset: PUBLISHED.e2.seedOffset,
    modes: opts.modes ?? [
      { op: 'magnitude', noise: 'legacy' },
      { op: 'angle_legacy', noise: 'legacy' },
    ],
    paradigms: opts.paradigms ?? E2_PARADIGMS,
    perParadigm: opts.perParadigm ?? study.cap('perParadigm', (quick ? QUICK.blimpItems : PUBLISHED.e2.items) / 2),
    scale,
    blimpDir: opts.blimpDir,
  };
}

/** Scores every pair from one pass over the 2·pairs items (good = 2i, bad = 2i+1). */
export function scorePairs(items: Item[], logprobs: Float32Array[]): BlimpScores {
  const pairs = items.length / 2;
  const marginSum: number[] = [];
  const marginMean: number[] = [];
  for (let i = 0; i < pairs; i++) {
    const g = logprobs[2 * i],
      b = logprobs[2 * i + 1];
    const sg = g.reduce((a, x) => a + x, 0),
      sb = b.reduce((a, x) => a + x, 0);
    marginSum.push(sg - sb);
    marginMean.push(sg / g.length - sb / b.length);
  }
  const acc = (m: number[]) => (100 * m.filter((x) => x > 0).length) / m.length;
  return { marginSum, marginMean, accSum: acc(marginSum), accMean: acc(marginMean) };
}

async function scoreRun(
  study: Study,
  p: Plan,
  items: Item[],
  opts: RunOptions = {},
): Promise<{ scores: BlimpScores; seconds: number }> {
  const res = await study.model.runWithHooks(items, p, opts);
  return {
    scores: scorePairs(
      items,
      res.items.map((it) => it.logprobs!),
    ),
    seconds: res.seconds,
  };
}

export async function runBlimp(study: Study, s: BlimpSettings): Promise<BlimpRecord[]> {
  const { items, pairs } = await blimpItems(study, s.paradigms, s.perParadigm * s.paradigms.length, {
    perParadigm: s.perParadigm,
    dir: s.blimpDir,
  });
  await preflight(study, items, s.layers, s.modes, s.deltas);
  const common = {
    experiment: s.experiment,
    layers: s.layers,
    pairs,
    paradigms: s.paradigms,
    scale: s.scale.note,
    env: study.environment(),
  };
  const conds: Condition<BlimpRecord>[] = [
    {
      key: 'baseline',
      run: async () => {
        const r = await scoreRun(study, plan('logprobs'), items);
        return { key: 'baseline', kind: 'baseline', ...r.scores, seconds: r.seconds };
      },
    },
  ];
  for (let si = 0; si < s.seeds; si++)
    s.deltas.forEach((delta, di) => {
      for (const mode of s.modes) {
        const pd = s.publishedDeltas[di];
        const key = `s${si}|d${pd}|${modeName(mode)}`;
        conds.push({
          key,
          run: async () => {
            const seed = seedFor(s.seedOffset, si);
            const r = await scoreRun(study, perturbedPlan({ mode, layers: s.layers, delta }), items, {
              seed,
              stream: conditionStream(s.experiment, pd, mode),
            });
            return {
              key,
              kind: 'condition',
              seed,
              seedIndex: si,
              delta,
              publishedDelta: pd,
              mode: modeName(mode),
              ...r.scores,
              seconds: r.seconds,
            };
          },
        });
      }
    });
  return runConditions(study, s.experiment, conds, common);
}

export interface BlimpRow {
  publishedDelta: number;
  magnitude: { acc: number[]; mean: number; std: number; drop: number };
  angle: { acc: number[]; mean: number; std: number; drop: number };
  /** mean magnitude drop − mean angular drop */
  diff: number;
  /** paired over seeds, H1: magnitude drop > angular drop */
  seedTest: TTestResult;
  /** pair level: per-pair correctness averaged over seeds, magnitude vs angle */
  pairLevel: { n: number; test: TTestResult; ci: [number, number] };
}

export interface BlimpSummary {
  scoring: 'sum' | 'mean';
  baseline: number;
  pairs: number;
  rows: BlimpRow[];
}

export function summarizeBlimp(
  records: BlimpRecord[],
  scoring: 'sum' | 'mean' = 'sum',
  angleMode = 'angle_legacy/legacy',
  magnitudeMode = 'magnitude',
): BlimpSummary {
  const base = records.find((r) => r.kind === 'baseline');
  if (!base) throw new Error('no BLiMP baseline record: run E2 first');
  const acc = (r: BlimpRecord) => (scoring === 'sum' ? r.accSum : r.accMean);
  const margins = (r: BlimpRecord) => (scoring === 'sum' ? r.marginSum : r.marginMean);
  const b = acc(base);
  const conds = records.filter((r) => r.kind === 'condition');
  const deltas = [...new Set(conds.map((r) => r.publishedDelta!))].sort((x, y) => x - y);
  const rows: BlimpRow[] = [];
  for (const d of deltas) {
    const pick = (m: string) =>
      conds.filter((r) => r.publishedDelta === d && r.mode === m).sort((x, y) => x.seedIndex! - y.seedIndex!);
    const mag = pick(magnitudeMode),
      ang = pick(angleMode);
    if (!mag.length || mag.length !== ang.length) continue;
    const side = (rs: BlimpRecord[]) => {
      const a = rs.map(acc);
      return { acc: a, mean: mean(a), std: std(a), drop: b - mean(a) };
    };
    const n = margins(base).length;
    const perPair = (rs: BlimpRecord[]) =>
      Array.from({ length: n }, (_, i) => mean(rs.map((r) => (margins(r)[i] > 0 ? 1 : 0))));
    const pm = perPair(mag),
      pa = perPair(ang);
    const ci = bootstrapCI(
      pm.map((x, i) => [x, pa[i]] as [number, number]),
      (p) => 100 * (mean(p.map(([, y]) => y)) - mean(p.map(([x]) => x))),
      { seed: 3, reps: 4000 },
    );
    const M = side(mag),
      A = side(ang);
    rows.push({
      publishedDelta: d,
      magnitude: M,
      angle: A,
      diff: M.drop - A.drop,
      seedTest: ttestPairedOrNA(
        M.acc.map((x) => b - x),
        A.acc.map((x) => b - x),
        'seeds',
      ),
      // accuracy difference angle − magnitude per pair = magnitude drop − angle drop
      pairLevel: { n, test: ttestPairedOrNA(pa, pm, 'pairs'), ci: [ci.lower, ci.upper] },
    });
  }
  return { scoring, baseline: b, pairs: margins(base).length, rows };
}

export interface BaselineVariant {
  paradigms: string[];
  pooling: '100+100' | 'first 200';
  accSum: number;
  accMean: number;
  correctSum: number;
  /** pairs right under mean (per-token) log-probability scoring */
  correctMean: number;
  pairs: number;
}

/**
 * The readings (variant × scoring) whose unperturbed accuracy is the published one, compared as
 * counts: round(accuracy% · pairs / 100) correct pairs out of the published number of pairs.
 * Every scoring is checked, not only sum.
 */
export function readingsReproducing(
  variants: readonly BaselineVariant[],
  published: { accuracy: number; pairs: number },
): { variant: BaselineVariant; scoring: 'sum' | 'mean' }[] {
  const correct = Math.round((published.accuracy * published.pairs) / 100);
  return variants
    .filter((v) => v.pairs === published.pairs)
    .flatMap((v) =>
      (['sum', 'mean'] as const)
        .filter((s) => (s === 'sum' ? v.correctSum : v.correctMean) === correct)
        .map((scoring) => ({ variant: v, scoring })),
    );
}

/**
 * Which reading of the deleted "Cell 7" reproduces the published baseline (89.5% = 179/200 on
 * Pythia-410M)? Every combination of paradigm suffix, pooling and scoring, unperturbed.
 */
export async function blimpBaselineVariants(
  study: Study,
  opts: { total?: number; blimpDir?: string } = {},
): Promise<BaselineVariant[]> {
  const total = opts.total ?? PUBLISHED.e2.items;
  const out: BaselineVariant[] = [];
  for (const suffix of ['_1', '_2'])
    for (const pooling of ['100+100', 'first 200'] as const) {
      const paradigms = [
        `irregular_plural_subject_verb_agreement${suffix}`,
        `regular_plural_subject_verb_agreement${suffix}`,
      ];
      const { items, pairs } = await blimpItems(study, paradigms, total, {
        perParadigm: pooling === '100+100' ? total / 2 : undefined,
        dir: opts.blimpDir,
      });
      const { scores } = await scoreRun(study, plan('logprobs'), items);
      out.push({
        paradigms,
        pooling,
        accSum: scores.accSum,
        accMean: scores.accMean,
        correctSum: scores.marginSum.filter((x) => x > 0).length,
        correctMean: scores.marginMean.filter((x) => x > 0).length,
        pairs,
      });
    }
  return out;
}
