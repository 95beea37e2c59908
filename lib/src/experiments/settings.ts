/**
 * The published settings of every experiment (EXPERIMENTS.md), and how `--quick` scales them to a
 * small model. Every result record stores the settings it ran with.
 */
import { KeyPart, PerturbOp } from '../engine/types';

export type NoisePolicy = 'legacy' | 'independent';

/** One perturbation condition of a sweep. */
export interface Mode {
  op: PerturbOp;
  noise: NoisePolicy;
}

export const SEED = 42;

/** The RNG seed of seed index s of an experiment whose cell reseeds with 42 + offset + s (EXPERIMENTS.md §1.5.4). */
export function seedFor(offset: number, seedIndex: number): number {
  return SEED + offset + seedIndex;
}

/** The random seeds an experiment with this offset draws with, in words: `742–744` (one seed: `742`). */
export function seedRange(offset: number, seeds: number): string {
  const a = seedFor(offset, 0);
  return seeds > 1 ? `${a}–${seedFor(offset, seeds - 1)}` : `${a}`;
}

/**
 * The records of two conditions paired by seed index (not by position): only the seed indices both
 * have, in increasing order, so a partial or unmerged run never pairs different seeds.
 */
export function pairBySeedIndex<R extends { seedIndex?: number }>(a: readonly R[], b: readonly R[]): [R[], R[]] {
  const byIdx = (rs: readonly R[]) =>
    new Map(rs.filter((r) => r.seedIndex !== undefined).map((r) => [r.seedIndex!, r]));
  const A = byIdx(a),
    B = byIdx(b);
  const idx = [...A.keys()].filter((i) => B.has(i)).sort((x, y) => x - y);
  return [idx.map((i) => A.get(i)!), idx.map((i) => B.get(i)!)];
}

/**
 * The grid options a caller chose (CLI, notebook, script), checked before any work: one line
 * naming the first bad value. Layers are checked against the model by the engine's plan.
 */
export function checkGridOptions(o: {
  deltas?: readonly number[];
  seeds?: number;
  sentences?: number;
  perParadigm?: number;
  layers?: readonly number[];
}): void {
  const whole = (name: string, v: number | undefined) => {
    if (v !== undefined && !(Number.isInteger(v) && v >= 1))
      throw new Error(`${name} must be a whole number ≥ 1, got ${v}`);
  };
  whole('seeds', o.seeds);
  whole('sentences', o.sentences);
  whole('pairs per paradigm', o.perParadigm);
  if (o.deltas !== undefined) {
    if (!o.deltas.length) throw new Error('the δ grid is empty');
    const bad = o.deltas.find((d) => !(Number.isFinite(d) && d > 0));
    if (bad !== undefined) throw new Error(`δ must be a positive number, got ${bad}`);
  }
  if (o.layers !== undefined) {
    if (!o.layers.length) throw new Error('no layers to perturb');
    const bad = o.layers.find((l) => !(Number.isInteger(l) && l >= 0));
    if (bad !== undefined) throw new Error(`layers must be whole numbers ≥ 0, got ${bad}`);
  }
}

/** Layers 8–15 of a 24-layer model = [⌊L/3⌋, ⌊2L/3⌋): the published choice, scaled to any depth. */
export function middleLayers(nLayers: number): number[] {
  const a = Math.floor(nLayers / 3);
  const b = Math.max(a + 1, Math.floor((2 * nLayers) / 3));
  return Array.from({ length: b - a }, (_, i) => a + i);
}

export const PUBLISHED = {
  maxLength: 64,
  wikitextCap: 500,
  e1: { deltas: [1, 2, 5, 10, 15, 20], seeds: 5, seedOffset: 0 },
  e2: { deltas: [5, 10, 15], seeds: 5, seedOffset: 100, items: 200 },
  legacyIters: 20,
};

/**
 * Random-key rules. `legacy` reproduces the original's shape-keyed noise cache: one noise tensor
 * per sentence length, shared by all perturbed layers and all sentences of that length, re-drawn
 * per condition (the stream); `independent` keys noise by sentence and layer. Magnitude signs are
 * fresh per token, layer and pass under both (the original never cached them).
 */
export function keyParts(
  noise: NoisePolicy,
  cacheScope: 'length' | 'item' = 'length',
): { noiseKey: KeyPart[]; signKey: KeyPart[] } {
  return noise === 'legacy'
    ? { noiseKey: [cacheScope], signKey: ['item', 'layer', 'pass'] }
    : { noiseKey: ['item', 'layer'], signKey: ['item', 'layer', 'pass'] };
}

export interface Scale {
  quick: boolean;
  /** δ multiplier (1 = published absolute δ) */
  deltaScale: number;
  /** how the settings were scaled, for reports */
  note: string;
}

export const PUBLISHED_SCALE: Scale = { quick: false, deltaScale: 1, note: 'published settings' };

/**
 * Quick mode for small models: δ grid multiplied so that its largest value is 90% of the
 * exact-angle limit 2·min‖h‖ (clean residual norms at the target layers), fewer sentences/seeds.
 */
export function quickScale(minNorm: number, maxDelta: number): Scale {
  const deltaScale = (0.9 * 2 * minNorm) / maxDelta;
  return {
    quick: true,
    deltaScale,
    note: `quick: δ × ${deltaScale.toPrecision(3)} (largest δ = 0.9 · 2·min‖h‖ = ${(0.9 * 2 * minNorm).toPrecision(3)}), fewer sentences and seeds`,
  };
}

export const QUICK = { sentences: 24, seeds: 2, blimpItems: 40 };

export function modeName(m: Mode): string {
  return m.op === 'magnitude' ? 'magnitude' : `${m.op}/${m.noise}`;
}

/** The condition grid every sweep shares: seeds × δ × modes at the given layers. */
export interface GridSettings {
  /** results store name */
  experiment: string;
  layers: number[];
  /** δ as run (published δ × scale.deltaScale) */
  deltas: number[];
  /** δ as published, same order */
  publishedDeltas: number[];
  seeds: number;
  seedOffset: number;
  modes: Mode[];
  scale: Scale;
}
