/**
 * verify-golden: recompute every tensor of a golden.safetensors (layout of shared/fixtures/hf, see
 * its README) with the engine and compare. Error = max |ours − ref| over real tokens, relative to
 * max |ref| over the same positions. Tensors it does not understand are failures, never skipped.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readSafetensorsHeader, readTensor } from '../weights/safetensors';
import { Model } from './model';
import { HookName, Intervention, Item, Plan, PerturbOp, Tensor } from './types';

export const GOLDEN_TOLERANCE = 1e-4;

export interface GoldenRow {
  name: string;
  maxAbs: number;
  maxRel: number;
  ok: boolean;
  note?: string;
}

/** Inputs of the reference computation: read, not compared. */
const INPUTS = new Set(['input_ids', 'attention_mask', 'position_ids', 'pert.noise', 'pert.signs']);

type Ref = { shape: number[]; data: Float32Array };

/** Where a golden tensor comes from: a hook capture, or the logits. */
function hookFor(kind: string, l: number, nLayers: number): HookName | 'logits' | null {
  switch (kind) {
    case 'hidden_states':
      return l === 0
        ? 'blocks.0.hook_resid_pre'
        : l === nLayers
          ? 'ln_final.hook_normalized'
          : `blocks.${l - 1}.hook_resid_post`;
    case 'block_out':
      return `blocks.${l}.hook_resid_post`;
    case 'attn_out':
      return `blocks.${l}.hook_attn_out`;
    case 'mlp_out':
      return `blocks.${l}.hook_mlp_out`;
    case 'ln1_out':
      return `blocks.${l}.ln1.hook_normalized`;
    case 'ln2_out':
      return `blocks.${l}.ln2.hook_normalized`;
    case 'attn_probs':
      return `blocks.${l}.attn.hook_pattern`;
    case 'q':
      return `blocks.${l}.attn.hook_q`;
    case 'k':
      return `blocks.${l}.attn.hook_k`;
    case 'v':
      return `blocks.${l}.attn.hook_v`;
    case 'attn_z':
      return `blocks.${l}.attn.hook_z`;
    case 'mlp_post':
      return `blocks.${l}.mlp.hook_post`;
    default:
      return null;
  }
}

/**
 * Compare one item of ours (unpadded, engine layout) with row b of the reference.
 * Reference layouts: [B,T,...] except q/k/v [B,H,T,hd] and attn_probs [B,H,T,T].
 */
function compareRow(
  kind: string,
  ours: Tensor,
  ref: Ref,
  b: number,
  L: number,
  acc: { abs: number; max: number },
): void {
  const T =
    ref.shape[
      ref.shape.length === 4 && (kind === 'q' || kind === 'k' || kind === 'v' || kind === 'attn_probs') ? 2 : 1
    ];
  const upd = (o: number, r: number) => {
    acc.abs = Math.max(acc.abs, Math.abs(o - r));
    acc.max = Math.max(acc.max, Math.abs(r));
  };
  if (kind === 'q' || kind === 'k' || kind === 'v') {
    const [, H, , hd] = ref.shape; // ours [L, H, hd]
    for (let h = 0; h < H; h++)
      for (let t = 0; t < L; t++)
        for (let i = 0; i < hd; i++) upd(ours.data[(t * H + h) * hd + i], ref.data[((b * H + h) * T + t) * hd + i]);
  } else if (kind === 'attn_probs') {
    const H = ref.shape[1]; // ours [H, L, L]; reference keys beyond L are padding (exactly 0)
    for (let h = 0; h < H; h++)
      for (let q = 0; q < L; q++)
        for (let k = 0; k < T; k++)
          upd(k < L ? ours.data[(h * L + q) * L + k] : 0, ref.data[((b * H + h) * T + q) * T + k]);
  } else {
    const w = ref.data.length / (ref.shape[0] * T);
    if (ours.data.length !== L * w)
      throw new Error(`${kind}: width mismatch (ours ${ours.data.length / L}, reference ${w})`);
    for (let j = 0; j < L * w; j++) upd(ours.data[j], ref.data[b * T * w + j]);
  }
}

export async function verifyGolden(dir: string, opts: { provider?: 'cpu' | 'cuda' } = {}): Promise<GoldenRow[]> {
  const model = await Model.fromDir(dir, { provider: opts.provider });
  const file = readSafetensorsHeader(path.join(dir, 'golden.safetensors'));
  const names = [...file.tensors.keys()];
  const ref = (n: string): Ref => readTensor(file, n);
  const L = model.cfg.nLayers;

  const ids = ref('input_ids');
  const [B, T] = ids.shape;
  const mask = file.tensors.has('attention_mask') ? ref('attention_mask').data : new Float32Array(B * T).fill(1);
  const lengths = Array.from({ length: B }, (_, b) => mask.subarray(b * T, (b + 1) * T).reduce((a, x) => a + x, 0));
  const items: Item[] = lengths.map((len, b) => ({ id: b, ids: Array.from(ids.data.subarray(b * T, b * T + len)) }));

  const rows: GoldenRow[] = [];
  const record = (name: string, compare: (acc: { abs: number; max: number }) => void) => {
    const acc = { abs: 0, max: 0 };
    try {
      compare(acc);
      const rel = acc.abs / Math.max(acc.max, 1e-30);
      rows.push({ name, maxAbs: acc.abs, maxRel: rel, ok: rel <= GOLDEN_TOLERANCE });
    } catch (e) {
      rows.push({ name, maxAbs: NaN, maxRel: NaN, ok: false, note: (e as Error).message });
    }
  };

  // groups of tensors: plain forward, unpadded rows, perturbations, repairs
  const plain = new Map<string, HookName | 'logits'>();
  const perturbed = new Map<string, { op: PerturbOp; delta: string; what: string }>();
  const repaired = new Map<string, { kind: string; what: string }>();
  for (const n of names) {
    if (INPUTS.has(n)) continue;
    let m: RegExpExecArray | null;
    if (n === 'logits') plain.set(n, 'logits');
    else if ((m = /^([a-z_0-9]+)\.(\d+)$/.exec(n)) && hookFor(m[1], Number(m[2]), L))
      plain.set(n, hookFor(m[1], Number(m[2]), L)!);
    else if ((m = /^pert\.(magnitude|angle_exact|angle_legacy)\.d([0-9.]+)\.(logits|block_out\.\d+)$/.exec(n)))
      perturbed.set(n, { op: m[1] as PerturbOp, delta: m[2], what: m[3] });
    else if ((m = /^repair\.(attn|mlp|ln)\.(logits|block_out\.\d+)$/.exec(n)))
      repaired.set(n, { kind: m[1], what: m[2] });
    else if (!/^logits_unpadded_row\d+$/.test(n))
      rows.push({ name: n, maxAbs: NaN, maxRel: NaN, ok: false, note: 'not understood by verify-golden' });
  }

  const capturePlan = (hooks: Iterable<string>, extra: Partial<Plan> = {}): Plan => {
    const h: Record<HookName, Intervention> = { ...(extra.hooks ?? {}) };
    for (const x of hooks) if (x !== 'logits') h[x] = { kind: 'capture' };
    return { ...extra, hooks: h, outputs: ['logits'] };
  };
  const compareAll = (
    map: Map<string, string>,
    res: Awaited<ReturnType<Model['run']>>,
    kindOf: (n: string) => string,
  ) => {
    for (const [n, hook] of map) {
      const r = ref(n);
      record(n, (acc) =>
        res.items.forEach((it, b) =>
          compareRow(kindOf(n), hook === 'logits' ? it.logits! : it.captures[hook], r, b, lengths[b], acc),
        ),
      );
    }
  };

  // 1. plain forward
  if (plain.size) {
    const res = await model.run(capturePlan(plain.values()), items);
    compareAll(plain, res, (n) => n.replace(/\.\d+$/, ''));
  }
  // 2. rows run alone without padding
  for (const n of names.filter((x) => /^logits_unpadded_row\d+$/.test(x))) {
    const b = Number(n.slice('logits_unpadded_row'.length));
    const r = ref(n);
    const res = await model.run({ outputs: ['logits'] }, [items[b]]);
    record(n, (acc) => compareRow('logits', res.items[0].logits!, r, 0, lengths[b], acc));
  }
  // 3. perturbations (golden.json: layers 1 and 2, the same noise and signs at both)
  const meta = JSON.parse(fs.readFileSync(path.join(dir, 'golden.json'), 'utf8'));
  const pertLayers: number[] = meta.perturbation?.layers ?? [1, 2];
  const perRow = (t: Ref, width: number) =>
    items.map((it, b) => t.data.slice(b * T * width, (b * T + it.ids.length) * width));
  const draws = () => ({
    noise: file.tensors.has('pert.noise') ? perRow(ref('pert.noise'), model.cfg.dModel) : undefined,
    signs: file.tensors.has('pert.signs') ? perRow(ref('pert.signs'), 1) : undefined,
  });
  const groups = new Map<string, Map<string, string>>();
  for (const [n, p] of perturbed) {
    const key = `${p.op}|${p.delta}`;
    if (!groups.has(key)) groups.set(key, new Map());
    groups.get(key)!.set(n, p.what === 'logits' ? 'logits' : `blocks.${p.what.split('.')[1]}.hook_resid_post`);
  }
  for (const [key, map] of groups) {
    const [op, delta] = key.split('|');
    const plan = capturePlan(map.values(), {
      perturb: { op: op as PerturbOp, layers: pertLayers, noiseKey: [], signKey: [] },
    });
    const res = await model.run(plan, items, { delta: Number(delta), draws: draws() });
    compareAll(map, res, (n) => (n.endsWith('logits') ? 'logits' : 'block_out'));
  }
  // 4. repairs: clean values of layers 1..3 patched into an angle_exact δ=2 run
  const kinds = new Set([...repaired.values()].map((r) => r.kind));
  const replaced: number[] = meta.repair?.replaced_layers ?? [1, 2, 3];
  for (const kind of kinds) {
    const hooksOf = (l: number) =>
      kind === 'attn'
        ? [`blocks.${l}.hook_attn_out`]
        : kind === 'mlp'
          ? [`blocks.${l}.hook_mlp_out`]
          : [`blocks.${l}.ln1.hook_normalized`, `blocks.${l}.ln2.hook_normalized`];
    const patchHooks = replaced.flatMap(hooksOf);
    const clean = await model.run(capturePlan(patchHooks), items);
    const map = new Map<string, string>();
    for (const [n, r] of repaired)
      if (r.kind === kind)
        map.set(n, r.what === 'logits' ? 'logits' : `blocks.${r.what.split('.')[1]}.hook_resid_post`);
    const hooks: Record<HookName, Intervention> = {};
    for (const h of patchHooks) hooks[h] = { kind: 'patch' };
    const plan = capturePlan(map.values(), {
      hooks,
      perturb: { op: 'angle_exact', layers: pertLayers, noiseKey: [], signKey: [] },
    });
    const patches = Object.fromEntries(patchHooks.map((h) => [h, clean.items.map((it) => it.captures[h])]));
    const res = await model.run(plan, items, { delta: 2.0, draws: draws(), patches });
    compareAll(map, res, (n) => (n.endsWith('logits') ? 'logits' : 'block_out'));
  }
  await model.release();
  return rows;
}
