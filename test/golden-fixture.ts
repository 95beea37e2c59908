/**
 * Writes a golden fixture folder in the layout of shared/fixtures/hf (its README: config.json,
 * model.safetensors, golden.safetensors, golden.json) from the float64 reference in test/reference,
 * with any perturbed layers, δs, repair perturbation and replaced layers: the tests' way to check
 * that verify-golden follows each fixture's own description. No Python. Families whose reference
 * forward goes through RefOps.lin / RefOps.ln for the attention output, the MLP down projection
 * and both per-layer norms (GPT-NeoX, OPT, GPT-2) support repair tensors.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeSafetensors, type WriteTensor } from '../lib/src/weights/write';
import { ReferenceModel, type ReferenceResult } from './reference';
import type { RefOps } from './reference/family';

export type RepairKind = 'attn' | 'mlp' | 'ln';

export interface FixtureSpec {
  /** a folder with config.json and model.safetensors (copied) and a golden.json whose `modules` is reused */
  source: string;
  /** where to write */
  out: string;
  perturbedLayers: readonly number[];
  deltas: readonly number[];
  repair?: {
    op: 'magnitude' | 'angle_exact';
    delta: number;
    layers: readonly number[];
    replacedLayers: readonly number[];
  };
  /** real lengths of the right-padded rows (default [10, 7, 4]) */
  lengths?: readonly number[];
  seed?: number;
  /** drop these top-level keys of the description (to test that verify-golden refuses it) */
  omit?: ('perturbation' | 'repair')[];
}

/** mulberry32 uniforms and Box–Muller normals: the fixture's own draws (any fixed generator will do). */
function rng(seed: number) {
  let a = seed >>> 0;
  const u = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const normal = () => Math.sqrt(-2 * Math.log(1 - u())) * Math.cos(2 * Math.PI * u());
  return { u, normal };
}

/** Python's str(float): 2 → "2.0", 0.5 → "0.5" (the fixtures' tensor names). */
const dname = (d: number) => (Number.isInteger(d) ? d.toFixed(1) : String(d));

export function writeGoldenFixture(spec: FixtureSpec): string {
  const srcMeta = JSON.parse(fs.readFileSync(path.join(spec.source, 'golden.json'), 'utf8'));
  fs.mkdirSync(spec.out, { recursive: true });
  for (const f of ['config.json', 'model.safetensors'])
    fs.copyFileSync(path.join(spec.source, f), path.join(spec.out, f));
  const ref = new ReferenceModel(spec.out);
  const cfg = ref.cfg;
  const D: number = cfg.hidden_size ?? cfg.n_embd;
  const V: number = cfg.vocab_size;
  const L: number = cfg.num_hidden_layers ?? cfg.n_layer;
  const lengths = [...(spec.lengths ?? [10, 7, 4])];
  const B = lengths.length;
  const T = Math.max(...lengths);
  const PAD = 1;
  const r = rng(spec.seed ?? 77);
  const items = lengths.map((len) => Array.from({ length: len }, () => 3 + Math.floor(r.u() * (V - 3))));
  const noise = lengths.map((len) => Float32Array.from({ length: len * D }, () => r.normal()));
  const signs = lengths.map((len) => Float32Array.from({ length: len }, () => (r.u() < 0.5 ? -1 : 1)));

  const tensors: WriteTensor[] = [];
  const meaning: Record<string, { shape: number[]; dtype: string; meaning: string }> = {};
  /** [B, T, w] padded with 0 from per-item [len, w] rows */
  const padded = (name: string, rows: ArrayLike<number>[], w: number, what: string, dtype: 'F32' | 'I64' = 'F32') => {
    const data = new Float32Array(B * T * w);
    rows.forEach((row, b) => data.set(Float32Array.from(row), b * T * w));
    const shape = w === 0 ? [B, T] : [B, T, w];
    tensors.push({ name, shape, dtype, data });
    meaning[name] = { shape, dtype, meaning: what };
  };
  const idsRows = items.map((ids) => [...ids, ...Array(T - ids.length).fill(PAD)]);
  tensors.push({ name: 'input_ids', shape: [B, T], dtype: 'I64', data: idsRows.flat() });
  tensors.push({
    name: 'attention_mask',
    shape: [B, T],
    dtype: 'I64',
    data: lengths.flatMap((len) => Array.from({ length: T }, (_, t) => (t < len ? 1 : 0))),
  });
  tensors.push({
    name: 'position_ids',
    shape: [B, T],
    dtype: 'I64',
    data: lengths.flatMap(() => [...Array(T).keys()]),
  });
  for (const n of ['input_ids', 'attention_mask', 'position_ids'])
    meaning[n] = { shape: [B, T], dtype: 'I64', meaning: n.replace('_', ' ') };
  const outputs = (prefix: string, res: ReferenceResult, layers: readonly number[], what: string) => {
    padded(`${prefix}logits`, res.logits, V, `logits ${what}`);
    for (const l of layers)
      padded(
        `${prefix}block_out.${l}`,
        res.residPost.map((x) => x[l]),
        D,
        `decoder layer ${l} output ${what}`,
      );
  };

  const clean = ref.forward(items);
  outputs('', clean, [...Array(L).keys()], 'of the clean run');
  padded('pert.noise', noise, D, 'standard normal noise n [B,T,D]; the same tensor at every perturbed layer');
  padded('pert.signs', signs, 1, 'signs s [B,T,1] in {-1,+1}; the same tensor at every perturbed layer');
  const pert = (op: 'magnitude' | 'angle_exact', delta: number, layers: readonly number[]) => ({
    op,
    delta,
    layers: [...layers],
    noise,
    signs,
  });
  for (const op of ['magnitude', 'angle_exact'] as const)
    for (const d of spec.deltas) {
      const res = ref.forward(items, pert(op, d, spec.perturbedLayers));
      outputs(
        `pert.${op}.d${dname(d)}.`,
        res,
        spec.perturbedLayers,
        `with the ${op} perturbation (delta=${dname(d)}) at layers [${spec.perturbedLayers.join(', ')}]`,
      );
    }

  let repairDesc: Record<string, unknown> | undefined;
  if (spec.repair) {
    const rep = spec.repair;
    const mod = (key: string, l: number) => String(srcMeta.modules[key]).replace('{l}', String(l));
    const prefixes: Record<RepairKind, (l: number) => { lin: string[]; ln: string[] }> = {
      attn: (l) => ({ lin: [mod('attn_o', l)], ln: [] }),
      mlp: (l) => ({ lin: [mod('mlp_down', l)], ln: [] }),
      ln: (l) => ({ lin: [], ln: [mod('ln1', l), mod('ln2', l)] }),
    };
    // clean values of every prefix, per item
    const cache = new Map<string, Float64Array>();
    ref.forward(items, undefined, (ops, b) => ({
      T: ops.T,
      lin: (x, p, o) => {
        const y = ops.lin(x, p, o);
        cache.set(`${b}|${p}`, y);
        return y;
      },
      ln: (x, p, eps) => {
        const y = ops.ln(x, p, eps);
        cache.set(`${b}|${p}`, y);
        return y;
      },
    }));
    for (const kind of ['attn', 'mlp', 'ln'] as RepairKind[]) {
      const lin = new Set(rep.replacedLayers.flatMap((l) => prefixes[kind](l).lin));
      const ln = new Set(rep.replacedLayers.flatMap((l) => prefixes[kind](l).ln));
      const used = new Set<string>();
      const patchOps = (ops: RefOps, b: number): RefOps => ({
        T: ops.T,
        lin: (x, p, o) => (lin.has(p) ? (used.add(p), cache.get(`${b}|${p}`)!) : ops.lin(x, p, o)),
        ln: (x, p, eps) => (ln.has(p) ? (used.add(p), cache.get(`${b}|${p}`)!) : ops.ln(x, p, eps)),
      });
      const res = ref.forward(items, pert(rep.op, rep.delta, rep.layers), patchOps);
      if (used.size !== lin.size + ln.size)
        throw new Error(`golden-fixture: the ${ref.type} reference does not expose every ${kind} module for repair`);
      outputs(`repair.${kind}.`, res, rep.replacedLayers, `of the ${kind} repair run`);
    }
    repairDesc = {
      perturbation: `${rep.op} delta=${dname(rep.delta)} at layers [${rep.layers.join(', ')}]`,
      replaced_layers: rep.replacedLayers,
      kinds: srcMeta.repair?.kinds,
      order_within_a_layer: 'module outputs are replaced inside the layer first; the layer output is then perturbed',
      cache: 'values captured in the clean run of the same batch',
    };
  }
  writeSafetensors(path.join(spec.out, 'golden.safetensors'), tensors);
  const meta: Record<string, unknown> = {
    case: `${srcMeta.case}-generated`,
    generated_by: 'test/golden-fixture.ts from the float64 reference (test/reference), not by Hugging Face',
    architecture: srcMeta.architecture,
    model_type: srcMeta.model_type,
    modules: srcMeta.modules,
    num_layers: L,
    hidden_size: D,
    vocab_size: V,
    inputs: { batch: B, seq_len: T, lengths, pad_token_id_used: PAD, padding_side: 'right' },
    perturbation: {
      layers: spec.perturbedLayers,
      applied_at: 'output of the decoder layers, same noise/signs tensors at each layer',
      magnitude: srcMeta.perturbation?.magnitude,
      angle_exact: srcMeta.perturbation?.angle_exact,
      deltas: spec.deltas,
    },
    repair: repairDesc,
    tensors: meaning,
  };
  for (const k of spec.omit ?? []) delete meta[k];
  fs.writeFileSync(path.join(spec.out, 'golden.json'), JSON.stringify(meta, null, 1));
  return spec.out;
}
