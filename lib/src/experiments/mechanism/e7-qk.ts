/**
 * E7 (original idx 15, "Cell 16: Q·K Alignment Analysis"): cos(q_i, k_i) of each head's query and
 * key at the *same* position, at the upper half of the perturbed layers (12–15 for 8–15), read
 * at attn.hook_q/hook_k: before rotary, as the original computed them (rotary applies the same
 * orthogonal map to q_i and k_i, so the post-rotary cosine would be the same). With GQA, query head h is compared
 * with its key/value head ⌊h·KVH/H⌋. Noise: legacy cache cleared per (seed, mode) → noiseKey
 * ['length'] with a stream per (seed, mode); seeds 42+s+600. The original found *no* effect (the
 * angular "drop" was negative); this module reports whatever comes out, sign included.
 */
import { hooks } from '../../engine/hooks';
import { plan } from '../../engine/plan';
import type { Item, Tensor } from '../../engine/types';
import { cohenDz, mean, type TTestResult, ttestPairedOrNA } from '../../stats';
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
  seedAveraged,
  seedOf,
  sentencePaired,
} from './common';
import { PUBLISHED_MECHANISM } from './published';

export interface E7Record extends MechRecordBase {
  /** the measured layers */
  qkLayers: number[];
  /** per sentence, per measured layer: mean over positions and heads of cos(q_t, k_t) */
  cos: number[][];
  seconds: number;
  [k: string]: unknown;
}

/** Upper half of the perturbed layers (12–15 of 8–15). */
export function qkLayers(layers: number[]): number[] {
  return layers.slice(Math.floor(layers.length / 2));
}

/** Mean over positions and heads of cos(q_t, k_t); q [T,H,hd], k [T,KVH,hd]; norms + 1e-8 as the original. */
export function sameTokenCos(q: Tensor, k: Tensor): number {
  const [T, H, hd] = q.dims;
  const KVH = k.dims[1];
  let s = 0;
  for (let t = 0; t < T; t++)
    for (let h = 0; h < H; h++) {
      const kh = Math.floor((h * KVH) / H);
      const qo = (t * H + h) * hd,
        ko = (t * KVH + kh) * hd;
      let dot = 0,
        nq = 0,
        nk = 0;
      for (let i = 0; i < hd; i++) {
        const a = q.data[qo + i],
          b = k.data[ko + i];
        dot += a * b;
        nq += a * a;
        nk += b * b;
      }
      s += dot / ((Math.sqrt(nq) + 1e-8) * (Math.sqrt(nk) + 1e-8));
    }
  return s / (T * H);
}

export function e7Settings(study: Study, opts: MechanismOptions = {}): Promise<MechanismSettings> {
  return mechanismSettings(study, 'E7', opts);
}

async function qkPass(
  study: Study,
  s: MechanismSettings,
  items: Item[],
  mode: ModeName | null,
  seed = 0,
): Promise<{ cos: number[][]; seconds: number }> {
  const t0 = performance.now();
  const L = qkLayers(s.layers);
  const caps = plan().capture(L.flatMap((l) => [hooks.attn.q(l), hooks.attn.k(l)]));
  const p = mode
    ? perturbedPlan({ mode: MECH_MODES[mode], layers: s.layers, delta: s.delta, legacyIters: s.legacyIters }, caps)
    : caps;
  const maxT = Math.max(...items.map((it) => it.ids.length));
  const size = chunkSize(2 * L.length * maxT * study.model.cfg.dModel, s.chunk, study.model.captureBudgetBytes);
  const cos: number[][] = [];
  for (const part of chunks(items, size)) {
    const res = await study.model.runWithHooks(
      part,
      p,
      mode ? { seed, stream: conditionStream('E7', s.publishedDelta, MECH_MODES[mode]) } : {},
    );
    for (const it of res.items)
      cos.push(L.map((l) => sameTokenCos(it.captures[hooks.attn.q(l)], it.captures[hooks.attn.k(l)])));
  }
  return { cos, seconds: (performance.now() - t0) / 1000 };
}

export async function runE7(study: Study, s: MechanismSettings): Promise<E7Record[]> {
  const { items, source } = await mechanismItems(study, s);
  const L = qkLayers(s.layers);
  const conds: Condition<E7Record>[] = [
    {
      key: 'baseline',
      run: async () => ({ key: 'baseline', kind: 'baseline', qkLayers: L, ...(await qkPass(study, s, items, null)) }),
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
          qkLayers: L,
          ...(await qkPass(study, s, items, mode, seed)),
        }),
      });
    }
  return runConditions(study, 'E7', conds, commonFields(study, s, items, source, { qkLayers: L }));
}

export interface E7Summary {
  layers: number[];
  nSentences: number;
  seeds: number;
  baseline: number;
  angle: MeanStd;
  magnitude: MeanStd;
  /** baseline − perturbed per seed (positive = alignment fell) */
  dropAngle: MeanStd;
  dropMagnitude: MeanStd;
  /** paired t of angle drops vs magnitude drops, one-sided p = pGreater (H1: angle drop larger) */
  test: TTestResult;
  dzSeeds: number;
  sentence: SentenceTest;
  perLayer: {
    layer: number;
    base: number;
    angle: number;
    magnitude: number;
    published: [number, number, number] | null;
  }[];
  /** plain-language verdict, honest about the sign */
  verdict: string;
  compare: CompareRow[];
}

export function summarizeE7(records: E7Record[]): E7Summary {
  const base = records.find((r) => r.kind === 'baseline');
  if (!base) throw new Error('E7: no baseline record; run E7 first');
  const pick = (m: ModeName) => records.filter((r) => r.kind === 'condition' && r.mode === m);
  const [A, M] = pairBySeedIndex(pick('angle'), pick('magnitude'));
  const n = A.length;
  if (!n) throw new Error('E7: no perturbed records with the same seed index in both modes');
  const seedVal = (r: E7Record) => mean(r.cos.map((ls) => mean(ls)));
  const B = seedVal(base);
  const a = A.slice(0, n).map(seedVal),
    m = M.slice(0, n).map(seedVal);
  const dA = a.map((x) => B - x),
    dM = m.map((x) => B - x);
  const test = ttestPairedOrNA(dA, dM, 'seeds');
  const sentB = base.cos.map((ls) => mean(ls));
  const sa = seedAveraged(A.slice(0, n), (r) => r.cos.map((ls) => mean(ls))).map((x, i) => sentB[i] - x);
  const sm = seedAveraged(M.slice(0, n), (r) => r.cos.map((ls) => mean(ls))).map((x, i) => sentB[i] - x);
  const P = PUBLISHED_MECHANISM.E7;
  const pubLayers = base.qkLayers.length === 4 && base.qkLayers[0] === 12;
  const perLayer = base.qkLayers.map((layer, li) => ({
    layer,
    base: mean(base.cos.map((ls) => ls[li])),
    angle: mean(A.slice(0, n).map((r) => mean(r.cos.map((ls) => ls[li])))),
    magnitude: mean(M.slice(0, n).map((r) => mean(r.cos.map((ls) => ls[li])))),
    published: pubLayers ? P.perLayer[layer] : null,
  }));
  const dropAngle = meanStd(dA),
    dropMagnitude = meanStd(dM);
  const sig = test.pGreater < 0.05;
  const verdict = sig
    ? `angular perturbation lowers same-position q·k alignment more than magnitude (drop ${dropAngle.mean.toFixed(4)} vs ${dropMagnitude.mean.toFixed(4)}, one-sided p = ${test.pGreater.toPrecision(3)})`
    : `no evidence that angular perturbation disrupts q·k alignment more than magnitude: angle drop ${dropAngle.mean.toFixed(4)}${dropAngle.mean < 0 ? ' (alignment increased)' : ''}, magnitude drop ${dropMagnitude.mean.toFixed(4)}, one-sided p = ${test.pGreater.toPrecision(3)} (null result, as the original's)`;
  return {
    layers: base.qkLayers,
    nSentences: sentB.length,
    seeds: n,
    baseline: B,
    angle: meanStd(a),
    magnitude: meanStd(m),
    dropAngle,
    dropMagnitude,
    test,
    dzSeeds: n > 1 ? cohenDz(dA, dM) : NaN,
    sentence: sentencePaired(sa, sm, 14),
    perLayer,
    verdict,
    compare: [
      { experiment: 'E7', quantity: 'baseline mean cos(q_i, k_i)', published: P.baseline, reproduced: B },
      { experiment: 'E7', quantity: 'angle drop', published: P.dropAngle, reproduced: dropAngle.mean },
      { experiment: 'E7', quantity: 'magnitude drop', published: P.dropMagnitude, reproduced: dropMagnitude.mean },
      { experiment: 'E7', quantity: 't (paired, seeds)', published: P.t, reproduced: test.t },
      {
        experiment: 'E7',
        quantity: 'p one-sided (angle drop > magnitude drop)',
        published: P.pOneSided,
        reproduced: test.pGreater,
      },
    ],
  };
}
