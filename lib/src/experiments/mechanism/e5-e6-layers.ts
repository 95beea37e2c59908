/**
 * E5 (original idx 13, "Cell 14: Head-Level Attention Ablation") and E6 (idx 14, "Cell 15: Layer
 * Selection Control").
 *
 * E5 step 1: per-head entropy Δ (angle − baseline) at the perturbed layers, one angle run with the
 * legacy noise cleared once for all sentences (noiseKey ['length'], one stream); layer score = sum
 * of its heads' Δ → ranking. The original did not reseed here (it continued from idx 12's RNG); we
 * use seed 42+400 with its own stream. Step 2: whole-layer attention repair of the top-k layers,
 * k ∈ {2,4,6,8} (scaled to the number of perturbed layers), angle only, seeds 42+s+400, R-seed
 * without ε; "% of full repair" divides by *our* E4 angular recovery (the original hard-coded 28.4).
 *
 * E6: repair of layer sets taken from our E5 ranking — top / middle (ranks 3–6 of 8) / bottom,
 * plus three random sets. The original drew those with NumPy seed 999: [10,11,14,15],
 * [10,12,13,14], [9,11,12,14]; we use these fixed lists when the perturbed range is 8–15 and a
 * seeded generator (mulberry32(999)) otherwise. Seeds 42+s+500, R-seed with ε.
 *
 * Both cells re-seeded per (k or set, seed): every k/set of one seed saw the same noise sequence, so
 * here one record per seed holds U once and R for every set (common random numbers).
 */
import { mean, mulberry32, recoverySeed, std, ttestIndOrNA, type RecoverySpread, type TTestResult } from '../../stats';
import { hooks } from '../../engine/hooks';
import { plan } from '../../engine/plan';
import type { Item } from '../../engine/types';
import { Study } from '../study';
import { seedFor } from '../settings';
import { Condition, conditionStream, perturbedPlan, runConditions } from '../runs';
import { settingsFingerprint } from '../store-settings';
import {
  CompareRow,
  MECH_MODES,
  MechanismOptions,
  MechanismSettings,
  SentenceTest,
  attnHooks,
  chunkSize,
  chunks,
  commonFields,
  mechanismItems,
  mechanismSettings,
  patternEntropy,
  seedAveraged,
  sentenceRecovery,
} from './common';
import { RepairRecord, baselineLosses, repairRecord, sentenceRecoveryDiff, type E4Summary } from './e4-repair';
import { PUBLISHED_MECHANISM } from './published';

export const E5_PUBLISHED_K = [2, 4, 6, 8];

/** k ∈ {2,4,6,8} of 8 layers scaled to n perturbed layers (rounded, at least 1, duplicates dropped). */
export function scaledK(n: number, published = E5_PUBLISHED_K): number[] {
  return [...new Set(published.map((k) => Math.min(n, Math.max(1, Math.round((k * n) / 8)))))];
}

export interface HeadDelta {
  layer: number;
  head: number;
  base: number;
  angle: number;
  delta: number;
}

export interface E5Record extends RepairRecord {
  heads?: HeadDelta[];
  ranking?: number[];
  layerScores?: Record<string, number>;
}

export function e5Settings(study: Study, opts: MechanismOptions = {}): Promise<MechanismSettings> {
  return mechanismSettings(study, 'E5', opts);
}

/** Step 1: per-head entropy Δ at the perturbed layers and the layer ranking (sum of head Δ, descending). */
export async function headEntropyRanking(study: Study, s: MechanismSettings, items: Item[]): Promise<E5Record> {
  const t0 = performance.now();
  const caps = plan().capture(s.layers.map(hooks.attn.pattern));
  const H = study.model.cfg.nHeads;
  const maxT = Math.max(...items.map((it) => it.ids.length));
  const size = chunkSize(s.layers.length * H * maxT * maxT, s.chunk, study.model.captureBudgetBytes);
  const perHead = async (perturbed: boolean): Promise<number[][]> => {
    const sums = s.layers.map(() => new Array<number>(H).fill(0));
    const p = perturbed
      ? perturbedPlan({ mode: MECH_MODES.angle, layers: s.layers, delta: s.delta, legacyIters: s.legacyIters }, caps)
      : caps;
    for (const part of chunks(items, size)) {
      const res = await study.model.runWithHooks(
        part,
        p,
        perturbed
          ? {
              seed: seedFor(s.seedOffset, 0),
              stream: conditionStream('E5-ranking', s.publishedDelta, MECH_MODES.angle),
            }
          : {},
      );
      for (const it of res.items)
        s.layers.forEach((l, li) =>
          patternEntropy(it.captures[hooks.attn.pattern(l)]).perHead.forEach(
            (e, h) => (sums[li][h] += e / items.length),
          ),
        );
    }
    return sums;
  };
  const base = await perHead(false);
  const ang = await perHead(true);
  const heads: HeadDelta[] = [];
  s.layers.forEach((layer, li) =>
    base[li].forEach((b, head) => heads.push({ layer, head, base: b, angle: ang[li][head], delta: ang[li][head] - b })),
  );
  heads.sort((a, b) => b.delta - a.delta);
  const layerScores: Record<string, number> = Object.fromEntries(
    s.layers.map((l) => [String(l), heads.filter((h) => h.layer === l).reduce((a, h) => a + h.delta, 0)]),
  );
  const ranking = [...s.layers].sort((a, b) => layerScores[b] - layerScores[a] || a - b);
  return { key: 'ranking', kind: 'baseline', heads, ranking, layerScores, seconds: (performance.now() - t0) / 1000 };
}

export async function runE5(study: Study, s: MechanismSettings): Promise<E5Record[]> {
  const { items, source } = await mechanismItems(study, s);
  const common = commonFields(study, s, items, source, { patch: 'hook_attn_out', ks: scaledK(s.layers.length) });
  const store = study.store('E5', settingsFingerprint(common));
  let ranking: Promise<E5Record> | null = null;
  // every shard can compute the (deterministic) ranking itself when another shard stored it
  const getRanking = () =>
    (ranking ??= Promise.resolve(
      (store.get('ranking') as E5Record | undefined) ?? headEntropyRanking(study, s, items),
    ));
  const ks = scaledK(s.layers.length);
  const conds: Condition<E5Record>[] = [
    { key: 'ranking', run: getRanking },
    { key: 'baseline', run: () => baselineLosses(study, items) },
  ];
  for (let si = 0; si < s.seeds; si++) {
    const key = `s${si}|angle`;
    conds.push({
      key,
      run: async () => {
        const order = (await getRanking()).ranking!;
        const sets = ks.map((k) => ({
          name: `top${k}`,
          hooks: attnHooks(order.slice(0, k)),
          layers: order.slice(0, k),
        }));
        return repairRecord(study, s, items, key, si, 'angle', sets, { ks });
      },
    });
  }
  return runConditions(study, 'E5', conds, common);
}

export interface E5Row {
  k: number;
  /** the published k this one stands for (k·8/n) */
  publishedK: number;
  layers: number[];
  /** R-seed without ε (as idx 13) */
  recovery: RecoverySpread;
  /** 100·recovery/(our E4 angular R-seed recovery); null without an E4 summary */
  pctOfFull: number | null;
  /** 100·recovery/28.4, the published divisor (the published "% of full" is compared with this) */
  pctOfPublishedFull: number;
  /** sentence level: Σ(U−R)/Σ(U−B) on seed-averaged losses, with a bootstrap CI */
  sentence: { estimate: number; ci: [number, number] };
  /** the published top-k row, only when our top-k are the same layers */
  published: { mean: number; std: number; pctOfFull: number } | null;
  /** the published top-k layers when ours differ (then `published` is null) */
  publishedLayers?: readonly number[];
}

/** The same layers, in any order (a layer set's identity). */
export function sameLayers(a: readonly number[], b: readonly number[]): boolean {
  const A = [...a].sort((x, y) => x - y),
    B = [...b].sort((x, y) => x - y);
  return A.length === B.length && A.every((x, i) => x === B[i]);
}

export interface E5Summary {
  heads: HeadDelta[];
  ranking: number[];
  layerScores: Record<string, number>;
  rows: E5Row[];
  /** the divisor of "% of full repair": our E4 angular recovery (R-seed mean), or null */
  fullRepair: number | null;
  seeds: number;
  nSentences: number;
  compare: CompareRow[];
}

export function e5Ranking(records: E5Record[]): number[] {
  const r = records.find((x) => x.key === 'ranking');
  if (!r) throw new Error('E5: no ranking record; run E5 first');
  return r.ranking!;
}

/**
 * The E5 ranking for E6: from this study's E5 store, or computed afresh (deterministic; needed on
 * shards other than the one that stored it, before `dirmag merge`).
 */
export async function ensureE5Ranking(study: Study, s: MechanismSettings): Promise<number[]> {
  const e5 = study.store('E5');
  const stored = e5.get('ranking') as E5Record | undefined;
  e5.close();
  if (stored?.ranking) return stored.ranking;
  const { items } = await mechanismItems(study, s);
  return (await headEntropyRanking(study, s, items)).ranking!;
}

export function summarizeE5(records: E5Record[], e4?: E4Summary): E5Summary {
  const rank = records.find((x) => x.key === 'ranking');
  const base = records.find((x) => x.key === 'baseline');
  if (!rank || !base) throw new Error('E5: ranking or baseline record missing; run E5 first');
  const recs = records.filter((r) => r.kind === 'condition').sort((a, b) => a.seedIndex! - b.seedIndex!);
  if (!recs.length) throw new Error('E5: no repair records');
  const n = rank.ranking!.length;
  const fullRepair = e4 ? e4.angle.recoverySeed.mean : null;
  const B0 = mean(base.losses!);
  const P = PUBLISHED_MECHANISM.E5;
  const rows: E5Row[] = Object.keys(recs[0].repaired!).map((name) => {
    const k = Number(name.slice(3));
    const U = recs.map((r) => mean(r.unrepaired!));
    const R = recs.map((r) => mean(r.repaired![name]));
    const recovery = recoverySeed({ baseline: U.map(() => B0), unrepaired: U, repaired: R }, { epsilon: 0 });
    const publishedK = Math.round((k * 8) / n);
    const layers = recs[0].patched![name];
    // compared by layer identity: only when our top-k are the published top-k layers
    const pub = n === 8 && P.topK[k] && sameLayers(P.topK[k].layers, layers) ? P.topK[k] : null;
    return {
      k,
      publishedK,
      layers,
      recovery,
      pctOfFull: fullRepair === null ? null : (100 * recovery.mean) / fullRepair,
      pctOfPublishedFull: (100 * recovery.mean) / P.fullRepairDivisor,
      ...(n === 8 && P.topK[k] && !pub ? { publishedLayers: P.topK[k].layers } : {}),
      sentence: sentenceRecovery(
        base.losses!,
        seedAveraged(recs, (r) => r.unrepaired!),
        seedAveraged(recs, (r) => r.repaired![name]),
      ),
      published: pub ? { mean: pub.mean, std: pub.std, pctOfFull: pub.pctOfFull } : null,
    };
  });
  const other = (r: E5Row) =>
    r.publishedLayers
      ? `not the published layers: ours [${r.layers.join(', ')}], published top-${r.k} [${r.publishedLayers.join(', ')}]`
      : undefined;
  const compare: CompareRow[] = rows.map((r) => ({
    experiment: 'E5',
    quantity: `repair of layers [${r.layers.join(', ')}] (top-${r.k}) recovery % (mean of per-seed recoveries, no ε)`,
    published: r.published?.mean ?? null,
    reproduced: r.recovery.mean,
    ...(other(r) ? { note: other(r) } : {}),
  }));
  for (const r of rows) {
    compare.push({
      experiment: 'E5',
      quantity: `repair of layers [${r.layers.join(', ')}] (top-${r.k}) % of full repair, both ÷ the published ${P.fullRepairDivisor}`,
      published: r.published?.pctOfFull ?? null,
      reproduced: r.pctOfPublishedFull,
      ...(other(r) ? { note: other(r) } : {}),
    });
    if (r.pctOfFull !== null)
      compare.push({
        experiment: 'E5',
        quantity: `repair of layers [${r.layers.join(', ')}] (top-${r.k}) % of full repair ÷ our E4 (${fullRepair!.toFixed(1)})`,
        published: null,
        reproduced: r.pctOfFull,
        note: `ours only: the published column divides by ${P.fullRepairDivisor}`,
      });
  }
  return {
    heads: rank.heads!,
    ranking: rank.ranking!,
    layerScores: rank.layerScores!,
    rows,
    fullRepair,
    seeds: recs.length,
    nSentences: base.losses!.length,
    compare,
  };
}

// ───────────────────────────── E6 ─────────────────────────────

export interface LayerSet {
  name: 'top' | 'middle' | 'bottom' | 'random1' | 'random2' | 'random3';
  label: string;
  layers: number[];
}

/** Draws `count` distinct sorted `size`-subsets of `layers` with mulberry32(seed) (partial Fisher–Yates). */
export function randomLayerSets(layers: number[], size: number, count = 3, seed = 999): number[][] {
  const rnd = mulberry32(seed);
  const out: number[][] = [];
  for (let c = 0; c < count; c++) {
    const pool = [...layers];
    for (let i = 0; i < size; i++) {
      const j = i + Math.floor(rnd() * (pool.length - i));
      [pool[i], pool[j]] = [pool[j], pool[i]];
    }
    out.push(pool.slice(0, size).sort((a, b) => a - b));
  }
  return out;
}

/**
 * The six E6 sets from a ranking (most affected first): top m, middle m (ranks 3–6 of 8, i.e.
 * starting at ⌊(n−m)/2⌋), bottom m, and three random m-subsets; m = round(n/2) (4 of 8).
 */
export function layerSets(ranking: number[]): LayerSet[] {
  const n = ranking.length;
  const m = Math.max(1, Math.round(n / 2));
  const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
  const range = (xs: number[]) => (xs.length > 1 ? `${xs[0]}-${xs[xs.length - 1]}` : `${xs[0]}`);
  const inRange = sorted(ranking);
  const isPublishedRange = n === 8 && inRange.every((l, i) => l === 8 + i);
  const random = isPublishedRange
    ? PUBLISHED_MECHANISM.E6.randomSetsNumpy999.map((x) => [...x])
    : randomLayerSets(inRange, m);
  const start = Math.floor((n - m) / 2);
  const top = sorted(ranking.slice(0, m)),
    middle = sorted(ranking.slice(start, start + m)),
    bottom = sorted(ranking.slice(n - m));
  return [
    { name: 'top', label: `Top ${m} (${range(top)})`, layers: top },
    { name: 'middle', label: `Middle ${m} (${middle.join(',')})`, layers: middle },
    { name: 'bottom', label: `Bottom ${m} (${range(bottom)})`, layers: bottom },
    ...random.map((r, i) => ({
      name: `random${i + 1}` as LayerSet['name'],
      label: `Random ${i + 1} (${r.join(',')})`,
      layers: r,
    })),
  ];
}

export function e6Settings(study: Study, opts: MechanismOptions = {}): Promise<MechanismSettings> {
  return mechanismSettings(study, 'E6', opts);
}

/** E6 over the sets from `ranking` (our E5 ranking: `e5Ranking(e5Records)`). */
export async function runE6(study: Study, s: MechanismSettings, ranking: number[]): Promise<RepairRecord[]> {
  const { items, source } = await mechanismItems(study, s);
  const sets = layerSets(ranking);
  const conds: Condition<RepairRecord>[] = [{ key: 'baseline', run: () => baselineLosses(study, items) }];
  for (let si = 0; si < s.seeds; si++) {
    const key = `s${si}|angle`;
    conds.push({
      key,
      run: () =>
        repairRecord(
          study,
          s,
          items,
          key,
          si,
          'angle',
          sets.map((x) => ({ name: x.name, hooks: attnHooks(x.layers), layers: x.layers })),
        ),
    });
  }
  return runConditions(study, 'E6', conds, commonFields(study, s, items, source, { patch: 'hook_attn_out', sets }));
}

export interface E6SetRow extends LayerSet {
  recovery: RecoverySpread;
  sentence: { estimate: number; ci: [number, number] };
  published: { mean: number; std: number; layers: number[] } | null;
}

export interface E6Summary {
  sets: E6SetRow[];
  /** mean of the three random sets' means, and the population std of those set means (the original's "16.4 ± 3.5") */
  randomMean: number;
  randomStd: number;
  /** independent t, top vs bottom per-seed recoveries, one-sided p = pGreater (as idx 14) */
  topVsBottom: TTestResult;
  /** independent t, top (n seeds) vs all random per-seed values (3n), two-sided (as idx 14) */
  topVsRandom: TTestResult;
  /** not run by the original (its Table 4 printed "<0.001"): independent t, top vs middle, one-sided pGreater */
  topVsMiddle: TTestResult;
  /** sentence level: top vs bottom recovery (ratio of means) paired over sentences */
  topVsBottomSentence: SentenceTest;
  seeds: number;
  nSentences: number;
  compare: CompareRow[];
}

export function summarizeE6(records: RepairRecord[]): E6Summary {
  const base = records.find((x) => x.key === 'baseline');
  const recs = records.filter((r) => r.kind === 'condition').sort((a, b) => a.seedIndex! - b.seedIndex!);
  if (!base || !recs.length) throw new Error('E6: no records; run E6 first');
  const setsMeta = (records[0].sets as LayerSet[] | undefined) ?? [];
  const B0 = mean(base.losses!);
  const U = recs.map((r) => mean(r.unrepaired!));
  const Ui = seedAveraged(recs, (r) => r.unrepaired!);
  const P = PUBLISHED_MECHANISM.E6;
  const published8 = setsMeta.length && setsMeta.find((x) => x.name === 'top')!.layers.length === 4;
  const sets: E6SetRow[] = setsMeta.map((meta) => {
    const R = recs.map((r) => mean(r.repaired![meta.name]));
    const pub = P.sets[meta.name] && sameLayers(P.sets[meta.name].layers, meta.layers) ? P.sets[meta.name] : undefined;
    return {
      ...meta,
      recovery: recoverySeed({ baseline: U.map(() => B0), unrepaired: U, repaired: R }),
      sentence: sentenceRecovery(
        base.losses!,
        Ui,
        seedAveraged(recs, (r) => r.repaired![meta.name]),
      ),
      published: published8 && pub ? { mean: pub.mean, std: pub.std, layers: [...pub.layers] } : null,
    };
  });
  const get = (n: string) => sets.find((x) => x.name === n)!;
  const randoms = sets.filter((x) => x.name.startsWith('random'));
  const setMeans = randoms.map((x) => x.recovery.mean);
  const side = (name: string) => ({ U: Ui, R: seedAveraged(recs, (r) => r.repaired![name]) });
  const topVsBottom = ttestIndOrNA(get('top').recovery.perSeed, get('bottom').recovery.perSeed, 'seeds');
  const topVsRandom = ttestIndOrNA(
    get('top').recovery.perSeed,
    randoms.flatMap((x) => x.recovery.perSeed),
    'seeds',
  );
  const compare: CompareRow[] = sets.map((x) => {
    const p = P.sets[x.name];
    const note =
      published8 && p && !x.published
        ? `not the published layers: ours [${x.layers.join(', ')}], published ${x.name} [${p.layers.join(', ')}]`
        : undefined;
    return {
      experiment: 'E6',
      quantity: `repair of layers [${x.layers.join(', ')}] (${x.name}) recovery % (mean of per-seed recoveries)`,
      published: x.published?.mean ?? null,
      reproduced: x.recovery.mean,
      ...(note ? { note } : {}),
    };
  });
  compare.push(
    {
      experiment: 'E6',
      quantity: 'random sets: mean of set means',
      published: P.randomMean,
      reproduced: mean(setMeans),
    },
    {
      experiment: 'E6',
      quantity: 'top vs bottom t (independent)',
      published: P.topVsBottom.t,
      reproduced: topVsBottom.t,
    },
    {
      experiment: 'E6',
      quantity: 'top vs random t (independent, 3 vs 9)',
      published: P.topVsRandom.t,
      reproduced: topVsRandom.t,
    },
    {
      experiment: 'E6',
      quantity: 'top vs random p two-sided',
      published: P.topVsRandom.pTwoSided,
      reproduced: topVsRandom.pTwoSided,
    },
  );
  return {
    sets,
    randomMean: mean(setMeans),
    randomStd: std(setMeans),
    topVsBottom,
    topVsRandom,
    topVsMiddle: ttestIndOrNA(get('top').recovery.perSeed, get('middle').recovery.perSeed, 'seeds'),
    topVsBottomSentence: sentenceRecoveryDiff(base.losses!, side('top'), side('bottom'), 13),
    seeds: recs.length,
    nSentences: base.losses!.length,
    compare,
  };
}
