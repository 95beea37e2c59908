/**
 * B1 "What each component sees" (issue 9.1): per layer, the residual norm, the pre-attention norm's
 * scale, and how much of a magnitude vs an angular perturbation of `hook_resid_pre` survives
 * `ln1` (cosine and relative change of `ln1.hook_out`). Plus three controls with known
 * answers, applied exactly by patching `hook_resid_pre`:
 *   rescale   — a positive factor per token (log-uniform in [½, 2]): invisible to both norm types (cos 1);
 *   flip      — factor −1: the norm output becomes 2β − n (so n + n′ is the same vector for every token);
 *   meanShift — add c·(1,…,1) per token: invisible to LayerNorm (it subtracts the mean), visible to RMSNorm.
 */
import { ActivationCache } from '../../engine/cache';
import { hooks } from '../../engine/hooks';
import { plan } from '../../engine/plan';
import type { Item, Tensor } from '../../engine/types';
import { Study } from '../study';
import { TensorSpill } from '../../util/spill';
import { SEED } from '../settings';
import { checkLayers, runConditions, wikitextItems, Condition } from '../runs';
import { streamId } from '../../engine/rng';
import {
  maxOf,
  mean,
  meanEnergyFraction,
  median,
  minOf,
  rngFor,
  rowCosine,
  rowDistance,
  rowNorm,
  scaleRows,
  shiftRows,
} from './geometry';

export type NormViewOp = 'magnitude' | 'angle_exact';
export type NormControl = 'rescale' | 'flip' | 'meanShift';
export const NORM_CONTROLS: readonly NormControl[] = ['rescale', 'flip', 'meanShift'];

export interface NormViewSettings {
  experiment: string;
  layers: number[];
  /** δ at layer L = κ · min over tokens of ‖resid_pre_L‖ (κ < 1 keeps every magnitude factor positive and every rotation possible) */
  kappas: number[];
  ops: NormViewOp[];
  controls: NormControl[];
  sentences: number;
  seed: number;
  wikitextFile?: string;
}

export function normViewSettings(
  study: Study,
  opts: Partial<NormViewSettings> & { quick?: boolean } = {},
): NormViewSettings {
  const quick = opts.quick ?? study.quick;
  const layers = opts.layers ?? Array.from({ length: study.model.cfg.nLayers }, (_, i) => i);
  checkLayers(study, layers);
  const kappas = opts.kappas ?? [0.1, 0.5, 0.9];
  for (const k of kappas)
    if (!(k > 0 && k < 1)) throw new Error(`κ = ${k}: need 0 < κ < 1 (δ = κ·min‖h‖ keeps magnitude factors positive)`);
  return {
    experiment: opts.experiment ?? 'B1-norm-view',
    layers,
    kappas,
    ops: opts.ops ?? ['magnitude', 'angle_exact'],
    controls: opts.controls ?? [...NORM_CONTROLS],
    sentences: opts.sentences ?? study.cap('sentences', quick ? 16 : 100),
    seed: opts.seed ?? SEED,
    wikitextFile: opts.wikitextFile,
  };
}

export interface CleanLayer {
  layer: number;
  normMean: number;
  normMedian: number;
  normMin: number;
  normMax: number;
  /** ln1.hook_scale: σ (LayerNorm) or RMS (RMSNorm), incl. ε */
  scaleMean: number;
  /** mean over tokens of ‖x‖ / (√D·scale): 1 for RMSNorm (up to ε); ‖x‖/‖x − μ‖ ≥ 1 for LayerNorm */
  normOverScale: number;
  /** mean fraction of ‖x‖² in the mean component D·μ² */
  meanEnergy: number;
  /** mean ‖ln1.hook_out‖ */
  normalizedNorm: number;
}

export interface PerturbLayer {
  layer: number;
  delta: number;
  /** mean ‖h′ − h‖/‖h‖ at resid_pre */
  inRel: number;
  /** mean ‖n′ − n‖/‖n‖ at ln1.hook_out */
  outRel: number;
  cosIn: number;
  cosOut: number;
  cosOutMin: number;
  /** mean |‖h′‖/‖h‖ − 1| and |‖n′‖/‖n‖ − 1| */
  normChangeIn: number;
  normChangeOut: number;
  /** mean over tokens of outRel/inRel: the share of the relative displacement the norm lets through */
  survival: number;
}

export interface ControlLayer {
  layer: number;
  cosOutMin: number;
  cosOutMean: number;
  cosOutMax: number;
  /** max over tokens of ‖n′ − n‖/‖n‖ */
  relChangeOutMax: number;
  /** max over tokens of ‖(n + n′) − mean(n + n′)‖ / mean‖n‖ (0 when n′ = 2β − n) */
  sumSpread: number;
}

export interface NormViewRecord {
  key: string;
  kind: 'clean' | 'perturb' | 'control';
  op?: NormViewOp;
  kappa?: number;
  control?: NormControl;
  layers: (CleanLayer | PerturbLayer | ControlLayer)[];
  seconds: number;
  [k: string]: unknown;
}

const pre = hooks.residPre;
const scaleHook = hooks.ln1.scale;
/** what attention reads: ln1's output, γ and β applied */
const normed = hooks.ln1.out;

/** One layer's clean values, per item. */
interface CleanAt {
  pre: Tensor[];
  scale: Tensor[];
  normed: Tensor[];
}

/**
 * The clean values of every layer's hooks, kept on disk per layer (util/spill.ts: they grow with
 * sentences × layers). Captured a few layers per pass, each pass's output within the model's capture
 * budget; the values are those of one clean pass. Returns each layer's reader and its smallest ‖resid_pre‖.
 */
async function cleanCaptures(
  study: Study,
  items: Item[],
  layers: number[],
  spill: TensorSpill,
): Promise<{ at: (layer: number) => CleanAt; minNorm: Map<number, number> }> {
  const tokens = items.reduce((n, it) => n + it.ids.length, 0);
  const D = study.model.cfg.dModel;
  const bytesPerLayer = 2 * tokens * D * 4; // pre and normed [T, D] (the scale is [T, 1])
  const perPass = Math.max(1, Math.floor(study.model.captureBudgetBytes / bytesPerLayer));
  const minNorm = new Map<number, number>();
  for (let i = 0; i < layers.length; i += perPass) {
    const group = layers.slice(i, i + perPass);
    const res = await study.model.runWithHooks(
      items,
      plan().capture(group.flatMap((l) => [pre(l), scaleHook(l), normed(l)])),
    );
    for (const l of group) {
      const x = res.items.map((it) => it.captures[pre(l)]);
      let m = Infinity;
      for (const t of x) for (let r = 0; r < t.dims[0]; r++) m = Math.min(m, rowNorm(t.data, r, D));
      minNorm.set(l, m);
      spill.put(`L${l}`, [
        ...x,
        ...res.items.map((it) => it.captures[scaleHook(l)]),
        ...res.items.map((it) => it.captures[normed(l)]),
      ]);
    }
  }
  const n = items.length;
  const at = (l: number): CleanAt => {
    const ts = spill.get(`L${l}`);
    return { pre: ts.slice(0, n), scale: ts.slice(n, 2 * n), normed: ts.slice(2 * n) };
  };
  return { at, minNorm };
}

export async function runNormView(study: Study, s: NormViewSettings): Promise<NormViewRecord[]> {
  const { items, source } = await wikitextItems(study, s.sentences, s.wikitextFile);
  if (!items.length) throw new Error('the sentence set is empty');
  const D = study.model.cfg.dModel;
  const spill = new TensorSpill();
  // captured when the first condition to run needs them (none when every record is stored)
  let captured: ReturnType<typeof cleanCaptures> | undefined;
  const clean = () => (captured ??= cleanCaptures(study, items, s.layers, spill));
  const cfg = study.model.cfg;
  const common = {
    experiment: s.experiment,
    settings: { layers: s.layers, kappas: s.kappas, ops: s.ops, controls: s.controls, seed: s.seed },
    sentences: items.length,
    dataSource: source,
    norm: cfg.norm,
    parallelResidual: cfg.parallelResidual,
    env: study.environment(),
  };
  const conds: Condition<NormViewRecord>[] = [{ key: 'clean', run: async () => cleanRecord(s, (await clean()).at, D) }];
  for (const op of s.ops)
    for (const kappa of s.kappas)
      conds.push({ key: `${op}|k${kappa}`, run: async () => perturbRecord(study, s, items, await clean(), op, kappa) });
  for (const control of s.controls)
    conds.push({
      key: `control|${control}`,
      run: async () => controlRecord(study, s, items, (await clean()).at, control),
    });
  try {
    return await runConditions(study, s.experiment, conds, common);
  } finally {
    spill.close();
  }
}

function cleanRecord(s: NormViewSettings, cleanAt: (layer: number) => CleanAt, D: number): NormViewRecord {
  const t0 = performance.now();
  const layers = s.layers.map((l): CleanLayer => {
    const norms: number[] = [],
      scales: number[] = [],
      ratio: number[] = [],
      energy: number[] = [],
      nn: number[] = [];
    const c = cleanAt(l);
    c.pre.forEach((x, i) => {
      const sc = c.scale[i],
        n = c.normed[i];
      for (let r = 0; r < x.dims[0]; r++) {
        const h = rowNorm(x.data, r, D);
        norms.push(h);
        scales.push(sc.data[r]);
        ratio.push(h / (Math.sqrt(D) * sc.data[r]));
        energy.push(meanEnergyFraction(x.data, r, D));
        nn.push(rowNorm(n.data, r, D));
      }
    });
    return {
      layer: l,
      normMean: mean(norms),
      normMedian: median(norms),
      normMin: minOf(norms),
      normMax: maxOf(norms),
      scaleMean: mean(scales),
      normOverScale: mean(ratio),
      meanEnergy: mean(energy),
      normalizedNorm: mean(nn),
    };
  });
  return { key: 'clean', kind: 'clean', layers, seconds: (performance.now() - t0) / 1000 };
}

async function perturbRecord(
  study: Study,
  s: NormViewSettings,
  items: Item[],
  clean: { at: (layer: number) => CleanAt; minNorm: Map<number, number> },
  op: NormViewOp,
  kappa: number,
): Promise<NormViewRecord> {
  const t0 = performance.now();
  const D = study.model.cfg.dModel;
  const layers: PerturbLayer[] = [];
  for (const l of s.layers) {
    const delta = kappa * clean.minNorm.get(l)!;
    const res = await study.model.runWithHooks(
      items,
      plan()
        .perturb(pre(l), { op, delta })
        .capture([pre(l), normed(l)]),
      { seed: s.seed, stream: streamId(s.experiment, op, kappa, l) },
    );
    const inRel: number[] = [],
      outRel: number[] = [],
      cosIn: number[] = [],
      cosOut: number[] = [],
      ncIn: number[] = [],
      ncOut: number[] = [],
      surv: number[] = [];
    const c = clean.at(l);
    res.items.forEach((it, i) => {
      const h = c.pre[i].data,
        h2 = it.captures[pre(l)].data,
        n = c.normed[i].data,
        n2 = it.captures[normed(l)].data;
      for (let r = 0; r < c.pre[i].dims[0]; r++) {
        const hn = rowNorm(h, r, D),
          nn = rowNorm(n, r, D);
        const a = rowDistance(h, h2, r, D) / hn,
          b = rowDistance(n, n2, r, D) / nn;
        inRel.push(a);
        outRel.push(b);
        surv.push(a > 0 ? b / a : 0);
        cosIn.push(rowCosine(h, h2, r, D));
        cosOut.push(rowCosine(n, n2, r, D));
        ncIn.push(Math.abs(rowNorm(h2, r, D) / hn - 1));
        ncOut.push(Math.abs(rowNorm(n2, r, D) / nn - 1));
      }
    });
    layers.push({
      layer: l,
      delta,
      inRel: mean(inRel),
      outRel: mean(outRel),
      cosIn: mean(cosIn),
      cosOut: mean(cosOut),
      cosOutMin: minOf(cosOut),
      normChangeIn: mean(ncIn),
      normChangeOut: mean(ncOut),
      survival: mean(surv),
    });
  }
  return { key: `${op}|k${kappa}`, kind: 'perturb', op, kappa, layers, seconds: (performance.now() - t0) / 1000 };
}

/** The control's modified resid_pre of one item ([T, D]); seeded per (experiment, item, layer). */
export function controlInput(x: Tensor, control: NormControl, key: (string | number)[]): Tensor {
  const [T, D] = x.dims;
  if (control === 'flip') return scaleRows(x, new Float32Array(T).fill(-1));
  if (control === 'rescale') {
    const u = rngFor(...key);
    return scaleRows(
      x,
      Float32Array.from({ length: T }, () => Math.exp((2 * u() - 1) * Math.LN2)),
    );
  }
  return shiftRows(
    x,
    Float32Array.from({ length: T }, (_, r) => (0.5 * rowNorm(x.data, r, D)) / Math.sqrt(D)),
  );
}

/** Compares ln1.hook_out of a clean and a modified pass, token by token. */
export function compareNormalized(cleanN: Tensor[], pertN: Tensor[]): Omit<ControlLayer, 'layer'> {
  const D = cleanN[0].dims[1];
  const cos: number[] = [],
    rel: number[] = [],
    nn: number[] = [];
  const sums: Float32Array[] = [];
  cleanN.forEach((c, i) => {
    const p = pertN[i];
    for (let r = 0; r < c.dims[0]; r++) {
      cos.push(rowCosine(c.data, p.data, r, D));
      const n = rowNorm(c.data, r, D);
      nn.push(n);
      rel.push(rowDistance(c.data, p.data, r, D) / n);
      sums.push(Float32Array.from({ length: D }, (_, j) => c.data[r * D + j] + p.data[r * D + j]));
    }
  });
  const mSum = new Float64Array(D);
  for (const v of sums) for (let j = 0; j < D; j++) mSum[j] += v[j] / sums.length;
  let spread = 0;
  for (const v of sums) {
    let d = 0;
    for (let j = 0; j < D; j++) d += (v[j] - mSum[j]) ** 2;
    spread = Math.max(spread, Math.sqrt(d));
  }
  return {
    cosOutMin: minOf(cos),
    cosOutMean: mean(cos),
    cosOutMax: maxOf(cos),
    relChangeOutMax: maxOf(rel),
    sumSpread: spread / mean(nn),
  };
}

async function controlRecord(
  study: Study,
  s: NormViewSettings,
  items: Item[],
  cleanAt: (layer: number) => CleanAt,
  control: NormControl,
): Promise<NormViewRecord> {
  const t0 = performance.now();
  const layers: ControlLayer[] = [];
  for (const l of s.layers) {
    const c = cleanAt(l);
    const patches = c.pre.map((x, i) => controlInput(x, control, [s.experiment, control, s.seed, items[i].id, l]));
    const modified = ActivationCache.fromTensors(pre(l), items, patches);
    const res = await study.model.runWithHooks(items, plan().patch(pre(l), modified).capture(normed(l)));
    layers.push({
      layer: l,
      ...compareNormalized(
        c.normed,
        res.items.map((it) => it.captures[normed(l)]),
      ),
    });
  }
  return { key: `control|${control}`, kind: 'control', control, layers, seconds: (performance.now() - t0) / 1000 };
}

export interface NormViewSummary {
  model: string;
  norm: 'layernorm' | 'rmsnorm';
  parallelResidual: boolean;
  sentences: number;
  kappas: number[];
  clean: CleanLayer[];
  /** per op, per κ: the per-layer rows */
  perturb: Record<string, Record<string, PerturbLayer[]>>;
  controls: Partial<Record<NormControl, ControlLayer[]>>;
}

export function summarizeNormView(records: NormViewRecord[], model = ''): NormViewSummary {
  const clean = records.find((r) => r.kind === 'clean');
  if (!clean) throw new Error('no clean record');
  const perturb: NormViewSummary['perturb'] = {};
  for (const r of records.filter((x) => x.kind === 'perturb'))
    (perturb[r.op!] ??= {})[String(r.kappa)] = r.layers as PerturbLayer[];
  const controls: NormViewSummary['controls'] = {};
  for (const r of records.filter((x) => x.kind === 'control')) controls[r.control!] = r.layers as ControlLayer[];
  return {
    model,
    norm: clean.norm as 'layernorm' | 'rmsnorm',
    parallelResidual: !!clean.parallelResidual,
    sentences: clean.sentences as number,
    kappas: (clean.settings as { kappas?: number[] } | undefined)?.kappas ?? [],
    clean: clean.layers as CleanLayer[],
    perturb,
    controls,
  };
}
