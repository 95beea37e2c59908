/**
 * Per-token norm profiles and the TinyLlama reversal investigation (EXPERIMENTS.md idx 26 caveat,
 * §1.5.3a): does the first token (BOS in Llama-family models) carry a massive residual norm, and how
 * does each operator spend its δ budget across tokens? And does the reversal survive exact per-token
 * matching and independent noise (all four matching × noise combinations)?
 */
import { UnreachableDelta } from '../../engine/errors';
import { hooks } from '../../engine/hooks';
import type { Item, RunResult } from '../../engine/types';
import { Study } from '../study';
import { Mode, SEED, modeName } from '../settings';
import { Condition, cleanNorms, conditionStream, meanOf, perturbedPlan, runConditions } from '../runs';
import { SweepRecord } from '../e1-sweep';
import { summarizeE1 } from '../e1-stats';
import { CrossModelEntry, registryEntry } from './registry';
import { runSweep } from '../e1-sweep';
import { crossModelSweepSettings, layersFor, sentenceItems } from './runners';

export interface NormProfileRow {
  layer: number;
  /** mean ‖h‖ of the first token (position 0) over sentences */
  first: number;
  /** mean ‖h‖ of tokens 1.. over sentences (token-weighted) */
  rest: number;
  ratio: number;
  /** largest ‖h‖ among tokens 1.. */
  restMax: number;
}

function rowNorms(t: { dims: number[]; data: Float32Array }): number[] {
  const [T, D] = t.dims;
  const out: number[] = [];
  for (let i = 0; i < T; i++) {
    let s = 0;
    for (let j = 0; j < D; j++) s += t.data[i * D + j] ** 2;
    out.push(Math.sqrt(s));
  }
  return out;
}

/** Clean hook_resid_post norms per layer: first token vs the rest. */
export async function normProfile(study: Study, items: Item[]): Promise<NormProfileRow[]> {
  const nL = study.model.cfg.nLayers;
  const layers = Array.from({ length: nL }, (_, l) => l);
  const { cache } = await study.model.runWithCache(items, layers.map(hooks.residPost));
  return layers.map((l) => {
    const first: number[] = [],
      rest: number[] = [];
    for (const it of items) {
      const n = rowNorms(cache.get(hooks.residPost(l), it.id));
      first.push(n[0]);
      rest.push(...n.slice(1));
    }
    const f = meanOf(first),
      r = meanOf(rest);
    return { layer: l, first: f, rest: r, ratio: f / r, restMax: Math.max(...rest) };
  });
}

export interface BudgetRow {
  mode: string;
  delta: number;
  layer: number;
  /** mean ‖h′−h‖ at the first token / at the others */
  dispFirst: number;
  dispRest: number;
  /** share of the layer's total displacement Σ_t ‖h′_t−h_t‖ spent on the first token (summed over sentences) */
  firstShare: number;
  /** what an even spread would give: sentences / total tokens */
  evenShare: number;
}

/** How each operator spends its displacement budget across tokens at the perturbed layers (one pass). */
export async function budgetSpend(
  study: Study,
  items: Item[],
  layers: number[],
  delta: number,
  modes: Mode[],
  o: { seed?: number; legacyIters?: number } = {},
): Promise<{ rows: BudgetRow[]; skipped: string[] }> {
  const rows: BudgetRow[] = [];
  const skipped: string[] = [];
  const tokens = items.reduce((a, it) => a + it.ids.length, 0);
  for (const mode of modes) {
    let res: RunResult;
    try {
      res = await study.model.runWithHooks(items, perturbedPlan({ mode, layers, delta, legacyIters: o.legacyIters }), {
        seed: o.seed ?? SEED,
        stream: conditionStream('budget', delta, mode),
      });
    } catch (e) {
      if (e instanceof UnreachableDelta) {
        skipped.push(`${modeName(mode)} δ=${delta.toPrecision(3)}: ${e.message.split(';')[0]}`);
        continue;
      }
      throw e;
    }
    layers.forEach((layer, li) => {
      let first = 0,
        rest = 0,
        nRest = 0;
      for (const it of res.items) {
        const d = it.perturbation![li].disp;
        first += d[0];
        for (let t = 1; t < d.length; t++) rest += d[t];
        nRest += d.length - 1;
      }
      rows.push({
        mode: modeName(mode),
        delta,
        layer,
        dispFirst: first / res.items.length,
        dispRest: rest / Math.max(1, nRest),
        firstShare: first / (first + rest),
        evenShare: items.length / tokens,
      });
    });
  }
  return { rows, skipped };
}

export const REVERSAL_MODES: Mode[] = [
  { op: 'magnitude', noise: 'legacy' },
  { op: 'angle_legacy', noise: 'legacy' },
  { op: 'angle_legacy', noise: 'independent' },
  { op: 'angle_exact', noise: 'legacy' },
  { op: 'angle_exact', noise: 'independent' },
];

export interface ReversalRow {
  matching: 'legacy' | 'exact';
  noise: 'legacy' | 'independent';
  delta: number;
  angular: number;
  magnitude: number;
  ratio: number;
  /** one-sided p (H1 angle > magnitude), seeds */
  pSeeds: number;
  /** two-sided p, sentence-level pairing */
  pSentences: number;
  /** angle damage < magnitude damage */
  reversed: boolean;
  /** reason when this combination could not run at this δ */
  skipped?: string;
}

export interface ReversalResult {
  entry: CrossModelEntry;
  layers: number[];
  deltas: number[];
  records: SweepRecord[];
  rows: ReversalRow[];
  profile: NormProfileRow[];
  budget: BudgetRow[];
  budgetSkipped: string[];
  bos: number | null;
  scale: string;
}

/**
 * The E12 loss sweep under all four matching × noise combinations (plus magnitude) with the cell's
 * sentences, layers, seeds and δ; per-layer norm profiles; and the δ budget split at δ = the cell's
 * middle δ. Records go to <store>-reversal.jsonl and <store>-norms.jsonl (resumable).
 */
export async function runReversal(
  study: Study,
  o: { entry?: string; quick?: boolean; wikitextFile?: string } = {},
): Promise<ReversalResult> {
  const entry = registryEntry(o.entry ?? 'E12');
  const quick = o.quick ?? study.quick;
  const s = await crossModelSweepSettings(study, entry, {
    quick,
    modes: REVERSAL_MODES,
    store: `${entry.loss.store}-reversal`,
    wikitextFile: o.wikitextFile,
  });
  const { items, source } = await sentenceItems(study, entry.loss.sentences, s.sentences, o.wikitextFile);
  const records = await runSweep(study, s, { input: { items, source }, unreachable: 'skip' });
  const rows: ReversalRow[] = [];
  for (const m of REVERSAL_MODES.slice(1)) {
    const sum = summarizeE1(records, modeName(m));
    for (const [di, pd] of s.publishedDeltas.entries()) {
      const r = sum.rows.find((x) => x.publishedDelta === pd);
      const base = {
        matching: m.op === 'angle_exact' ? ('exact' as const) : ('legacy' as const),
        noise: m.noise,
        delta: pd,
      };
      if (!r) {
        const sk = records.find(
          (x) => x.kind === ('skipped' as string) && x.mode === modeName(m) && x.publishedDelta === pd,
        );
        rows.push({
          ...base,
          angular: NaN,
          magnitude: NaN,
          ratio: NaN,
          pSeeds: NaN,
          pSentences: NaN,
          reversed: false,
          skipped: String(sk?.reason ?? `not run (δ=${s.deltas[di]})`),
        });
        continue;
      }
      rows.push({
        ...base,
        angular: r.angle.mean,
        magnitude: r.magnitude.mean,
        ratio: r.ratio,
        pSeeds: r.seedTest.pGreater,
        pSentences: r.sentence.test.pTwoSided,
        reversed: r.angle.mean < r.magnitude.mean,
      });
    }
  }
  // norm profiles and the budget split, stored so that the summary can read them without the model
  const mid = s.deltas[Math.floor(s.deltas.length / 2)];
  type NormRec = {
    key: string;
    kind: string;
    profile?: NormProfileRow[];
    budget?: BudgetRow[];
    skipped?: string[];
    seconds: number;
  };
  const normConds: Condition<NormRec>[] = [
    {
      key: 'profile',
      run: async () => {
        const t0 = performance.now();
        return {
          key: 'profile',
          kind: 'profile',
          profile: await normProfile(study, items),
          seconds: (performance.now() - t0) / 1000,
        };
      },
    },
    {
      key: `budget|d${s.publishedDeltas[Math.floor(s.deltas.length / 2)]}`,
      run: async () => {
        const t0 = performance.now();
        const b = await budgetSpend(
          study,
          items,
          s.layers,
          mid,
          [REVERSAL_MODES[0], REVERSAL_MODES[1], REVERSAL_MODES[3]],
          { legacyIters: entry.legacyIters },
        );
        return {
          key: `budget|d${s.publishedDeltas[Math.floor(s.deltas.length / 2)]}`,
          kind: 'budget',
          budget: b.rows,
          skipped: b.skipped,
          seconds: (performance.now() - t0) / 1000,
        };
      },
    },
  ];
  const normRecs = await runConditions(study, `${entry.loss.store}-norms`, normConds, {
    experiment: `${entry.loss.store}-norms`,
    layers: s.layers,
    sentences: items.length,
    dataSource: source,
    scale: s.scale.note,
    delta: mid,
    env: study.environment(),
  });
  const prof = normRecs.find((r) => r.kind === 'profile')!;
  const bud = normRecs.find((r) => r.kind === 'budget')!;
  return {
    entry,
    layers: s.layers,
    deltas: s.deltas,
    records,
    rows,
    profile: prof.profile!,
    budget: bud.budget!,
    budgetSkipped: bud.skipped ?? [],
    bos: study.tokenizer.bos,
    scale: s.scale.note,
  };
}

/** Clean norm profile of any model on a cell's sentences (no records): for the per-model notebooks. */
export async function cellNormProfile(
  study: Study,
  name: string,
  o: { quick?: boolean; wikitextFile?: string } = {},
): Promise<{ layers: number[]; profile: NormProfileRow[]; minNorm: number }> {
  const entry = registryEntry(name);
  const n = study.cap(
    'sentences',
    (o.quick ?? study.quick) ? Math.min(entry.loss.sentences.n, 12) : entry.loss.sentences.n,
  );
  const { items } = await sentenceItems(study, entry.loss.sentences, n, o.wikitextFile);
  const layers = layersFor(entry, study);
  return { layers, profile: await normProfile(study, items), minNorm: (await cleanNorms(study, items, layers)).min };
}
