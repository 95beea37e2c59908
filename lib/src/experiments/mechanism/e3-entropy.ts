/**
 * E3 (original idx 10, "Cell 11: Attention Entropy Mediation Analysis"): does each operator make
 * attention more diffuse? Row entropy with the original's formula over every layer's pattern;
 * layer = mean over heads and queries; sentence = mean over all layers (unperturbed ones too).
 * Noise: the legacy shape-keyed cache cleared once per (seed, mode) → noiseKey ['length'] with one
 * stream per (seed, mode). The baseline is deterministic and stored once (the original recomputed it
 * per seed and got std 0).
 */
import { hooks } from '../../engine/hooks';
import { plan } from '../../engine/plan';
import type { Item } from '../../engine/types';
import { cohenDPooledPopulation, cohenDz, mean, type TTestResult, ttestPairedOrNA } from '../../stats';
import { Study } from '../study';
import { modeName, pairBySeedIndex } from '../settings';
import { Condition, conditionStream, perturbedPlan, runConditions } from '../runs';
import {
  CompareRow,
  MECH_MODES,
  MechRecordBase,
  MechanismOptions,
  MechanismSettings,
  MeanStd,
  ModeName,
  SentenceTest,
  chunkSize,
  chunks,
  commonFields,
  mechanismItems,
  mechanismSettings,
  meanStd,
  patternEntropy,
  seedAveraged,
  seedOf,
  sentencePaired,
} from './common';
import { PUBLISHED_MECHANISM } from './published';

export interface E3Record extends MechRecordBase {
  /** per sentence: mean entropy over all layers */
  sentence: number[];
  /** per sentence, per layer (all layers, 0..L−1): mean over heads and query positions */
  byLayer: number[][];
  /** the perturbed layers (a common field of every record) */
  layers?: number[];
  seconds: number;
  [k: string]: unknown;
}

export function e3Settings(study: Study, opts: MechanismOptions = {}): Promise<MechanismSettings> {
  return mechanismSettings(study, 'E3', opts);
}

/** Entropy per sentence and layer for one pass (chunked: patterns are [H,T,T] per layer per item). */
async function entropyPass(
  study: Study,
  s: MechanismSettings,
  items: Item[],
  mode: ModeName | null,
  seed = 0,
): Promise<{ sentence: number[]; byLayer: number[][]; seconds: number }> {
  const t0 = performance.now();
  const L = study.model.cfg.nLayers;
  const all = Array.from({ length: L }, (_, l) => l);
  const caps = plan().capture(all.map(hooks.attn.pattern));
  const p = mode
    ? perturbedPlan({ mode: MECH_MODES[mode], layers: s.layers, delta: s.delta, legacyIters: s.legacyIters }, caps)
    : caps;
  const maxT = Math.max(...items.map((it) => it.ids.length));
  const size = chunkSize(L * study.model.cfg.nHeads * maxT * maxT, s.chunk, study.model.captureBudgetBytes);
  const byLayer: number[][] = [];
  for (const part of chunks(items, size)) {
    const res = await study.model.runWithHooks(
      part,
      p,
      mode ? { seed, stream: conditionStream(s.experiment, s.publishedDelta, MECH_MODES[mode]) } : {},
    );
    for (const it of res.items) byLayer.push(all.map((l) => patternEntropy(it.captures[hooks.attn.pattern(l)]).layer));
  }
  return { sentence: byLayer.map((ls) => mean(ls)), byLayer, seconds: (performance.now() - t0) / 1000 };
}

export async function runE3(study: Study, s: MechanismSettings): Promise<E3Record[]> {
  const { items, source } = await mechanismItems(study, s);
  const conds: Condition<E3Record>[] = [
    {
      key: 'baseline',
      run: async () => ({ key: 'baseline', kind: 'baseline', ...(await entropyPass(study, s, items, null)) }),
    },
  ];
  for (let si = 0; si < s.seeds; si++)
    for (const mode of ['angle', 'magnitude'] as const) {
      const key = `s${si}|${mode}`;
      const seed = seedOf(s, si);
      conds.push({
        key,
        run: async () => ({
          key,
          kind: 'condition',
          seed,
          seedIndex: si,
          mode,
          op: modeName(MECH_MODES[mode]),
          ...(await entropyPass(study, s, items, mode, seed)),
        }),
      });
    }
  return runConditions(study, s.experiment, conds, commonFields(study, s, items, source));
}

export interface E3LayerRow {
  layer: number;
  perturbed: boolean;
  dAngle: number;
  dMagnitude: number;
  /** ΔH_ang/ΔH_mag, printed by the original only when |ΔH_mag| > 1e-4 */
  ratio: number | null;
  publishedAngle: number | null;
  publishedMagnitude: number | null;
}

export interface E3Summary {
  nSentences: number;
  seeds: number;
  baseline: number;
  angle: MeanStd;
  magnitude: MeanStd;
  dAngle: MeanStd;
  dMagnitude: MeanStd;
  ratio: number;
  /** seed level, paired t(Δ_ang, Δ_mag), one-sided p = test.pGreater (idx 10) */
  test: TTestResult;
  /** idx 10's d: (mean Δ_ang − mean Δ_mag)/(√((popstd² + popstd²)/2) + 1e-8) */
  dOriginal: number;
  /** textbook paired d_z over seeds */
  dzSeeds: number;
  /** sentence level: per-sentence Δ averaged over seeds, angle vs magnitude */
  sentence: SentenceTest;
  layers: E3LayerRow[];
  compare: CompareRow[];
}

export function summarizeE3(records: E3Record[], perturbedLayers?: number[]): E3Summary {
  const base = records.find((r) => r.kind === 'baseline');
  if (!base) throw new Error('E3: no baseline record; run E3 first');
  const pick = (m: ModeName) => records.filter((r) => r.kind === 'condition' && r.mode === m);
  const [A, M] = pairBySeedIndex(pick('angle'), pick('magnitude'));
  const n = A.length;
  if (!n) throw new Error('E3: no perturbed records with the same seed index in both modes');
  const B = mean(base.sentence);
  const seedVal = (rs: E3Record[]) => rs.map((r) => mean(r.sentence));
  const dA = seedVal(A).map((x) => x - B),
    dM = seedVal(M).map((x) => x - B);
  const pl = perturbedLayers ?? base.layers;
  const nL = base.byLayer[0].length;
  const layerMean = (rs: E3Record[], l: number) => mean(rs.map((r) => mean(r.byLayer.map((ls) => ls[l]))));
  const P = PUBLISHED_MECHANISM.E3;
  const layers: E3LayerRow[] = Array.from({ length: nL }, (_, l) => {
    const b = mean(base.byLayer.map((ls) => ls[l]));
    const da = layerMean(A, l) - b,
      dm = layerMean(M, l) - b;
    return {
      layer: l,
      perturbed: Array.isArray(pl) ? pl.includes(l) : false,
      dAngle: da,
      dMagnitude: dm,
      ratio: Math.abs(dm) > 1e-4 ? da / dm : null,
      publishedAngle: nL === 24 ? (P.perLayer.angle[l] ?? 0) : null,
      publishedMagnitude: nL === 24 ? (P.perLayer.magnitude[l] ?? 0) : null,
    };
  });
  const sa = seedAveraged(A, (r) => r.sentence).map((x, i) => x - base.sentence[i]);
  const sm = seedAveraged(M, (r) => r.sentence).map((x, i) => x - base.sentence[i]);
  const dAngle = meanStd(dA),
    dMagnitude = meanStd(dM);
  const test = ttestPairedOrNA(dA, dM, 'seeds');
  const ratio = dAngle.mean / dMagnitude.mean;
  const dOriginal = cohenDPooledPopulation(dA, dM);
  return {
    nSentences: base.sentence.length,
    seeds: n,
    baseline: B,
    angle: meanStd(seedVal(A)),
    magnitude: meanStd(seedVal(M)),
    dAngle,
    dMagnitude,
    ratio,
    test,
    dOriginal,
    dzSeeds: n > 1 ? cohenDz(dA, dM) : NaN,
    sentence: sentencePaired(sa, sm, 10),
    layers,
    compare: [
      { experiment: 'E3', quantity: 'baseline mean entropy (nats)', published: P.baseline, reproduced: B },
      { experiment: 'E3', quantity: 'ΔH angle', published: P.dAngle.mean, reproduced: dAngle.mean },
      { experiment: 'E3', quantity: 'ΔH magnitude', published: P.dMagnitude.mean, reproduced: dMagnitude.mean },
      { experiment: 'E3', quantity: 'ratio ΔH_ang/ΔH_mag', published: P.ratio, reproduced: ratio },
      { experiment: 'E3', quantity: 't (paired, seeds)', published: P.t, reproduced: test.t },
      { experiment: 'E3', quantity: 'p one-sided (Δ_ang > Δ_mag)', published: P.pOneSided, reproduced: test.pGreater },
      {
        experiment: 'E3',
        quantity: "Cohen's d as the original computed it (pooled population stds)",
        published: P.d,
        reproduced: dOriginal,
      },
    ],
  };
}
