/**
 * verify-golden: recompute every tensor of a golden.safetensors (layout of shared/fixtures/hf, see
 * its README) with the engine and compare. Error = max |ours − ref| over real tokens, relative to
 * max |ref| over the same positions. Tensors it does not understand are failures, never skipped.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readSafetensorsHeader, readTensor } from '../weights/safetensors';
import { hooks, type HookName } from './hooks';
import { Model } from './model';
import type { Provider } from './providers';
import { Plan, plan } from './plan';
import type { Item, PerturbOp, RunResult, Tensor } from './types';

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

/**
 * Where a golden tensor comes from: a hook capture, or the logits. The fixtures' q and k are after
 * rotary where the model has it (hook_rot_q/_k), the norms' outputs include γ and β (hook_out).
 */
function hookFor(kind: string, l: number, nLayers: number, rotary: boolean): HookName | 'logits' | null {
  switch (kind) {
    case 'hidden_states':
      return l === 0 ? hooks.residPre(0) : l === nLayers ? hooks.lnFinal.out : hooks.residPost(l - 1);
    case 'block_out':
      return hooks.residPost(l);
    case 'attn_out':
      return hooks.attnOut(l);
    case 'mlp_out':
      return hooks.mlpOut(l);
    case 'ln1_out':
      return hooks.ln1.out(l);
    case 'ln2_out':
      return hooks.ln2.out(l);
    case 'attn_probs':
      return hooks.attn.pattern(l);
    case 'q':
      return rotary ? hooks.attn.rotQ(l) : hooks.attn.q(l);
    case 'k':
      return rotary ? hooks.attn.rotK(l) : hooks.attn.k(l);
    case 'v':
      return hooks.attn.v(l);
    case 'attn_z':
      return hooks.attn.z(l);
    case 'mlp_post':
      return hooks.mlp.post(l);
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

export async function verifyGolden(dir: string, opts: { provider?: Provider } = {}): Promise<GoldenRow[]> {
  const model = await Model.fromDir(dir, { provider: opts.provider });
  const file = readSafetensorsHeader(path.join(dir, 'golden.safetensors'));
  const names = [...file.tensors.keys()];
  const ref = (n: string): Ref => readTensor(file, n);
  const L = model.cfg.nLayers;
  const rotary = model.cfg.rotaryDims > 0;
  const hookOf = (kind: string, l: number) => hookFor(kind, l, L, rotary);

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
  const perturbedNames = new Map<string, { op: PerturbOp; delta: string; what: string }>();
  const repaired = new Map<string, { kind: string; what: string }>();
  for (const n of names) {
    if (INPUTS.has(n)) continue;
    let m: RegExpExecArray | null;
    if (n === 'logits') plain.set(n, 'logits');
    else if ((m = /^([a-z_0-9]+)\.(\d+)$/.exec(n)) && hookOf(m[1], Number(m[2])))
      plain.set(n, hookOf(m[1], Number(m[2]))!);
    else if ((m = /^pert\.(magnitude|angle_exact|angle_legacy)\.d([0-9.]+)\.(logits|block_out\.\d+)$/.exec(n)))
      perturbedNames.set(n, { op: m[1] as PerturbOp, delta: m[2], what: m[3] });
    else if ((m = /^repair\.(attn|mlp|ln)\.(logits|block_out\.\d+)$/.exec(n)))
      repaired.set(n, { kind: m[1], what: m[2] });
    else if (!/^logits_unpadded_row\d+$/.test(n))
      rows.push({ name: n, maxAbs: NaN, maxRel: NaN, ok: false, note: 'not understood by verify-golden' });
  }

  /** captures of `names` (after `base`'s steps at those hooks) and the logits */
  const capturePlan = (names: Iterable<HookName | 'logits'>, base: Plan = plan()): Plan =>
    base.withOutputs('logits').capture([...names].filter((x): x is HookName => x !== 'logits'));
  const compareAll = (map: Map<string, HookName | 'logits'>, res: RunResult, kindOf: (n: string) => string) => {
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
    const res = await model.runWithHooks(items, capturePlan(plain.values()));
    compareAll(plain, res, (n) => n.replace(/\.\d+$/, ''));
  }
  // 2. rows run alone without padding
  for (const n of names.filter((x) => /^logits_unpadded_row\d+$/.test(x))) {
    const b = Number(n.slice('logits_unpadded_row'.length));
    const r = ref(n);
    const res = await model.runWithHooks([items[b]], plan('logits'));
    record(n, (acc) => compareRow('logits', res.items[0].logits!, r, 0, lengths[b], acc));
  }
  // 3. perturbations (golden.json: layers 1 and 2, the same noise and signs at both)
  const meta = JSON.parse(fs.readFileSync(path.join(dir, 'golden.json'), 'utf8'));
  const pertLayers: number[] = meta.perturbation?.layers ?? [1, 2];
  const perRow = (t: Ref, width: number) =>
    items.map((it, b) => t.data.slice(b * T * width, (b * T + it.ids.length) * width));
  const byId = (rows: Float32Array[]) => Object.fromEntries(rows.map((r, b) => [items[b].id, r]));
  const draws = {
    noise: file.tensors.has('pert.noise') ? byId(perRow(ref('pert.noise'), model.cfg.dModel)) : undefined,
    signs: file.tensors.has('pert.signs') ? byId(perRow(ref('pert.signs'), 1)) : undefined,
  };
  const perturbed = (op: PerturbOp, delta: number) =>
    plan().perturb(pertLayers.map(hooks.residPost), { op, delta, noiseKey: [], signKey: [], draws });
  const groups = new Map<string, Map<string, HookName | 'logits'>>();
  for (const [n, p] of perturbedNames) {
    const key = `${p.op}|${p.delta}`;
    if (!groups.has(key)) groups.set(key, new Map());
    groups.get(key)!.set(n, p.what === 'logits' ? 'logits' : hooks.residPost(Number(p.what.split('.')[1])));
  }
  for (const [key, map] of groups) {
    const [op, delta] = key.split('|');
    const res = await model.runWithHooks(items, capturePlan(map.values(), perturbed(op as PerturbOp, Number(delta))));
    compareAll(map, res, (n) => (n.endsWith('logits') ? 'logits' : 'block_out'));
  }
  // 4. repairs: clean values of layers 1..3 patched into an angle_exact δ=2 run
  const kinds = new Set([...repaired.values()].map((r) => r.kind));
  const replaced: number[] = meta.repair?.replaced_layers ?? [1, 2, 3];
  for (const kind of kinds) {
    const hooksOf = (l: number): HookName[] =>
      kind === 'attn' ? [hooks.attnOut(l)] : kind === 'mlp' ? [hooks.mlpOut(l)] : [hooks.ln1.out(l), hooks.ln2.out(l)]; // the fixtures replace the norms' outputs (γ, β applied)
    const patchHooks = replaced.flatMap(hooksOf);
    const { cache } = await model.runWithCache(items, patchHooks);
    const map = new Map<string, HookName | 'logits'>();
    for (const [n, r] of repaired)
      if (r.kind === kind) map.set(n, r.what === 'logits' ? 'logits' : hooks.residPost(Number(r.what.split('.')[1])));
    const res = await model.runWithHooks(
      items,
      capturePlan(map.values(), perturbed('angle_exact', 2.0).patch(patchHooks, cache)),
    );
    compareAll(map, res, (n) => (n.endsWith('logits') ? 'logits' : 'block_out'));
  }
  await model.release();
  return rows;
}
