/**
 * perturb: an L2-matched perturbation of the hook's per-token vectors (the operators of
 * perturb-graph.ts: magnitude, exact angle, the original's legacy angle). δ, noise and signs are
 * graph inputs, so one session serves every δ and seed. Noise and signs are drawn from Philox keyed
 * by (seed, stream, the key parts chosen here, position): the same numbers whatever the batch.
 * Noise that does not depend on the layer is one graph input shared by every perturbed hook.
 */
import * as ort from 'onnxruntime-node';
import { DataType } from '../../onnx/proto';
import { PlanError, RunError, UnreachableDelta } from '../errors';
import type { HookName } from '../hooks';
import { parseHook } from '../hooks';
import { rowOf, tokenDims } from '../layout';
import { perturbGraph } from '../perturb-graph';
import { DrawKey, PURPOSE, drawId, normals, signs, siteCode } from '../rng';
import type { Item, KeyPart, PerturbOp } from '../types';
import { FeedBatch, defineIntervention, firstNonFinite } from './kind';

const OPS: readonly PerturbOp[] = ['magnitude', 'angle_exact', 'angle_legacy'];
const KEY_PARTS: readonly KeyPart[] = ['item', 'length', 'layer', 'pass'];

export interface PerturbOptions {
  op: PerturbOp;
  /** per-token L2 displacement δ */
  delta: number;
  /** key parts of the angle noise (default ['item', 'layer']: independent per sentence and layer) */
  noiseKey?: KeyPart[];
  /** key parts of the magnitude signs (default ['item', 'layer', 'pass']: fresh on every pass) */
  signKey?: KeyPart[];
  /** bisection iterations of the legacy angle operator (the original: 20; 15 and 12 in later cells) */
  legacyIters?: number;
  /** explicit draws instead of the generator, by item id, the same at every perturbed hook (tests, golden fixtures) */
  draws?: { noise?: Record<number, Float32Array>; signs?: Record<number, Float32Array> };
}

export interface PerturbSpec {
  op: PerturbOp;
  noiseKey: KeyPart[];
  signKey: KeyPart[];
  legacyIters: number;
  /** the noise/signs come from the caller (no key) */
  explicit: boolean;
  [k: string]: PerturbOp | KeyPart[] | number | boolean;
}

function keyList(parts: KeyPart[] | undefined, fallback: KeyPart[], what: string): KeyPart[] {
  const p = parts ?? fallback;
  for (const x of p)
    if (!KEY_PARTS.includes(x)) throw new PlanError(`${what}: unknown key part '${x}' (${KEY_PARTS.join(', ')})`);
  return KEY_PARTS.filter((x) => p.includes(x));
}

/** The one graph input of the draws: shared by every step with the same key when the key has no layer. */
function drawInput(spec: PerturbSpec, width: number): { name: string; shared: boolean } {
  const parts = spec.op === 'magnitude' ? spec.signKey : spec.noiseKey;
  const what = spec.op === 'magnitude' ? 'signs' : `noise${width}`;
  const shared = spec.explicit || !parts.includes('layer');
  return { name: shared ? `${what}[${spec.explicit ? 'explicit' : parts.join(',')}]` : what, shared };
}

export const perturb = defineIntervention({
  kind: 'perturb',
  create(_hook: HookName, o: PerturbOptions) {
    if (!OPS.includes(o.op)) throw new PlanError(`unknown perturbation '${o.op}' (${OPS.join(', ')})`);
    if (typeof o.delta !== 'number' || !Number.isFinite(o.delta) || o.delta <= 0)
      throw new PlanError(`delta must be a positive number, got ${o.delta}`);
    const legacyIters = o.legacyIters ?? 20;
    if (!(Number.isInteger(legacyIters) && legacyIters > 0 && legacyIters <= 60))
      throw new PlanError(`legacyIters must be an integer in 1..60, got ${o.legacyIters}`);
    const spec: PerturbSpec = {
      op: o.op,
      noiseKey: keyList(o.noiseKey, ['item', 'layer'], 'noiseKey'),
      signKey: keyList(o.signKey, ['item', 'layer', 'pass'], 'signKey'),
      legacyIters,
      explicit: !!o.draws,
    };
    return { spec, value: { delta: o.delta, draws: o.draws } };
  },
  check(step, info) {
    if (!tokenDims(info.layout))
      throw new PlanError(`perturb: '${info.name}' has no per-token vectors (scores and patterns cannot be perturbed)`);
  },
  checkAll(steps) {
    const seen = new Map<string, HookName>();
    for (const s of steps) {
      const parts = s.spec.op === 'magnitude' ? s.spec.signKey : s.spec.noiseKey;
      const p = parseHook(s.hook);
      if (s.spec.explicit || !parts.includes('layer') || !p) continue;
      const key = `${s.spec.op === 'magnitude'}|${p.layer}|${siteCode(s.hook)}`;
      const other = seen.get(key);
      if (other)
        throw new PlanError(
          `perturb: '${other}' and '${s.hook}' would draw the same ${s.spec.op === 'magnitude' ? 'signs' : 'noise'} (one key per layer for the residual stream); perturb one of them or key the draws without 'layer'`,
        );
      seen.set(key, s.hook);
    }
  },
  build(site, spec) {
    const g = site.g;
    const dims = tokenDims(site.layout)!;
    const W = dims.reduce((a, b) => a * b, 1);
    const toTokens = (v: string, w: number) => g.reshape(v, g.constI([-1, w]), ['N', w]);
    const flat = site.layout.kind === 'flat' ? site.value : toTokens(site.value, W);
    const { name, shared } = drawInput(spec, W);
    const draws =
      spec.op === 'magnitude'
        ? { signs: toTokens(site.input(name, DataType.FLOAT, ['B', 'T'], shared), 1) }
        : { noise: toTokens(site.input(name, DataType.FLOAT, ['B', 'T', W], shared), W) };
    const r = perturbGraph(g, spec.op, flat, {
      delta: site.input('delta', DataType.FLOAT, [1]),
      ...draws,
      maskBT: site.maskBT,
      shapeBT: site.shapeBT,
      legacyIters: spec.legacyIters,
    });
    site.output('norms', g.op('Reshape', [r.norm, site.shapeBT]));
    site.output('disp', g.op('Reshape', [r.disp, site.shapeBT]));
    if (site.layout.kind === 'flat') return r.out;
    return g.reshape(r.out, g.op('Concat', [site.shapeBT, g.constI(dims)], { axis: 0 }), ['B', 'T', ...dims]);
  },
  feed(batch, step) {
    const { spec, value } = step;
    batch.set('delta', new ort.Tensor('float32', Float32Array.of(value.delta), [1]));
    const W = tokenDims(batch.info.layout)!.reduce((a, b) => a * b, 1);
    const { name, shared } = drawInput(spec, W);
    if (batch.has(name, shared)) return;
    const { items, T } = batch;
    const magnitude = spec.op === 'magnitude';
    const width = magnitude ? 1 : W;
    const data = new Float32Array(items.length * T * width);
    const given = magnitude ? value.draws?.signs : value.draws?.noise;
    if (value.draws) {
      items.forEach((it, b) => {
        const v = given?.[it.id];
        if (!v || v.length !== it.ids.length * width)
          throw new RunError(
            `draws.${magnitude ? 'signs' : 'noise'} for item ${it.id}: expected ${it.ids.length * width} values`,
          );
        data.set(v, b * T * width);
      });
    } else drawAll(batch, step.hook, spec, width, data);
    batch.set(name, new ort.Tensor('float32', data, magnitude ? [items.length, T] : [items.length, T, W]), shared);
  },
  read(r, step) {
    const L = r.item.ids.length;
    const norms = rowOf(r.get('norms'), r.b, r.T, L);
    const disp = rowOf(r.get('disp'), r.b, r.T, L);
    const layer = parseHook(step.hook)?.layer ?? -1;
    (r.result.perturbation ??= []).push({ hook: step.hook, layer, norms, disp });
    if (step.spec.op !== 'angle_exact') return;
    const t = norms.findIndex((n) => 2 * n < step.value.delta);
    if (t >= 0) throw new UnreachableDelta(step.hook, layer, r.item.id, t, step.value.delta, norms[t]);
  },
  badInput(step, items) {
    const given = step.spec.op === 'magnitude' ? step.value.draws?.signs : step.value.draws?.noise;
    if (!given) return null;
    for (const [i, it] of items.entries()) {
      const v = given[it.id];
      const k = v ? firstNonFinite(v) : -1;
      if (k >= 0) {
        const width = v.length / it.ids.length;
        const what = step.spec.op === 'magnitude' ? 'signs' : 'noise';
        return { where: `draws.${what}`, item: i, position: Math.floor(k / width), value: v[k] };
      }
    }
    return null;
  },
});

/** Draws every item's noise or signs; identical keys (e.g. the original's noise per length) are drawn once and copied. */
function drawAll(batch: FeedBatch, hook: HookName, spec: PerturbSpec, width: number, out: Float32Array): void {
  const { items, T, opts } = batch;
  const magnitude = spec.op === 'magnitude';
  const layer = parseHook(hook)?.layer ?? 0;
  const key = (it: Item): DrawKey => ({
    seed: opts.seed ?? 0,
    stream: opts.stream ?? 0,
    purpose: magnitude ? PURPOSE.signs : PURPOSE.noise,
    parts: magnitude ? spec.signKey : spec.noiseKey,
    item: it.id,
    length: it.ids.length,
    layer,
    site: siteCode(hook),
    pass: opts.pass ?? 0,
  });
  const drawn = new Map<string, number>();
  items.forEach((it, b) => {
    const k = key(it);
    const L = it.ids.length;
    const id = drawId(k, L);
    const at = drawn.get(id);
    if (at !== undefined) out.copyWithin(b * T * width, at, at + L * width);
    else {
      if (magnitude) signs(k, L, out, b * T);
      else normals(k, L, width, out, b * T * width);
      drawn.set(id, b * T * width);
    }
  });
}
