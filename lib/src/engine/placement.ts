/**
 * Node placement: which execution provider ONNX Runtime ran each node of a plan's graph on.
 *
 * onnxruntime-node 1.30 has no API that lists node assignments (its verbose log prints them to the
 * native stderr only, and only in non-minimal builds), but its profiler does: with `enableProfiling`
 * every executed node leaves a `<node>_kernel_time` event whose `args.provider` names the provider and
 * whose `input_type_shape` / `output_type_shape` give the dtypes. The profile is written when the
 * session is released. What runs on the CPU next to a GPU provider is sorted into
 *   shape    nodes on integer/bool tensors only (Shape, Gather of dims, Concat of shapes, ...):
 *            ONNX Runtime puts those on the CPU on purpose; harmless
 *   derived  nodes with integer/bool inputs only and a floating-point output (the Cast of the int64
 *            attention mask): WebGPU has no 64-bit integers, so these stay on the CPU; each costs one
 *            small upload per pass ([B, T] floats), no round trip
 *   compute  nodes with a floating-point input: its data goes device → host → device every pass
 *            (a MatMul, Softmax or LayerNorm here is a problem; `dirmag doctor` fails on any)
 * and the Memcpy nodes ONNX Runtime inserts between providers are counted as copies.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Model } from './model';
import type { Plan } from './plan';
import { ORT_PROVIDER_NAME, Provider } from './providers';
import type { Item, RunOptions } from './types';

export interface PlacedNode {
  node: string;
  op: string;
  provider: string;
  kind: 'device' | 'shape' | 'derived' | 'compute' | 'copy';
}

export interface PlacementReport {
  /** the caller's name for the plan */
  plan: string;
  provider: Provider;
  /** distinct nodes executed, without the inserted copies */
  nodes: number;
  /** of which on the requested provider */
  onDevice: number;
  /** onDevice / nodes */
  deviceShare: number;
  /** integer/bool nodes ONNX Runtime ran on the CPU (fine) */
  shapeOnCpu: PlacedNode[];
  /** integer-input nodes with a floating-point output on the CPU (one small upload each) */
  derivedOnCpu: PlacedNode[];
  /** nodes with floating-point inputs run on the CPU instead of the device (each a host round trip) */
  computeOnCpu: PlacedNode[];
  /** Memcpy nodes between providers */
  copies: number;
}

const INT_TYPES = new Set(['int64', 'int32', 'int16', 'int8', 'uint8', 'uint16', 'uint32', 'uint64', 'bool']);

interface ProfileEvent {
  cat?: string;
  name?: string;
  args?: {
    provider?: string;
    op_name?: string;
    input_type_shape?: Record<string, number[]>[];
    output_type_shape?: Record<string, number[]>[];
  };
}

/** The distinct executed nodes of one ONNX Runtime profile (a JSON array of trace events). */
export function placedNodes(events: ProfileEvent[], provider: Provider): PlacedNode[] {
  const byName = new Map<string, PlacedNode>();
  const device = ORT_PROVIDER_NAME[provider];
  for (const e of events) {
    if (e.cat !== 'Node' || !e.name?.endsWith('_kernel_time') || !e.args?.op_name) continue;
    const node = e.name.slice(0, -'_kernel_time'.length);
    if (byName.has(node)) continue;
    const op = e.args.op_name;
    const prov = e.args.provider ?? 'unknown';
    const ins = (e.args.input_type_shape ?? []).flatMap(Object.keys);
    const outs = (e.args.output_type_shape ?? []).flatMap(Object.keys);
    const intOnly = (ts: string[]) => ts.every((t) => INT_TYPES.has(t));
    const kind: PlacedNode['kind'] = op.startsWith('Memcpy')
      ? 'copy'
      : prov === device
        ? 'device'
        : !intOnly(ins)
          ? 'compute'
          : intOnly(outs)
            ? 'shape'
            : 'derived';
    byName.set(node, { node, op, provider: prov, kind });
  }
  return [...byName.values()];
}

export function placementReport(planName: string, provider: Provider, nodes: PlacedNode[]): PlacementReport {
  const real = nodes.filter((n) => n.kind !== 'copy');
  const onDevice = real.filter((n) => n.kind === 'device').length;
  return {
    plan: planName,
    provider,
    nodes: real.length,
    onDevice,
    deviceShare: real.length ? onDevice / real.length : 0,
    shapeOnCpu: real.filter((n) => n.kind === 'shape'),
    derivedOnCpu: real.filter((n) => n.kind === 'derived'),
    computeOnCpu: real.filter((n) => n.kind === 'compute'),
    copies: nodes.length - real.length,
  };
}

/**
 * Runs each plan once over `items` on `provider` with ONNX Runtime's profiler on (a model of its own,
 * so the profiles hold that plan's sessions only: its own, and the clean prefix's where the plan
 * starts after block 0) and reports where their nodes ran.
 */
export async function nodePlacement(
  dir: string,
  provider: Provider,
  plans: { name: string; plan: Plan; opts?: RunOptions }[],
  items: Item[],
): Promise<PlacementReport[]> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'dirmag-placement-'));
  const out: PlacementReport[] = [];
  try {
    for (const [i, p] of plans.entries()) {
      const prefix = path.join(tmp, `p${i}`);
      const model = await Model.fromDir(dir, {
        provider,
        sessionOptions: { enableProfiling: true, profileFilePrefix: prefix },
      });
      try {
        await model.runWithHooks(items, p.plan, p.opts);
      } finally {
        await model.release(); // writes the profile
      }
      // one profile per session the plan used (with prefix reuse: the clean prefix's and the plan's own)
      const files = fs.readdirSync(tmp).filter((f) => f.startsWith(`p${i}_`) && f.endsWith('.json'));
      if (!files.length) throw new Error(`no ONNX Runtime profile was written for plan ${p.name}`);
      const nodes = files.flatMap((f, k) =>
        placedNodes(JSON.parse(fs.readFileSync(path.join(tmp, f), 'utf8')) as ProfileEvent[], provider).map((n) => ({
          ...n,
          node: files.length > 1 ? `session${k}/${n.node}` : n.node,
        })),
      );
      out.push(placementReport(p.name, provider, nodes));
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  return out;
}

/** A few lines per plan: the device share, the CPU nodes by kind and op type, the copies. */
export function formatPlacement(r: PlacementReport): string[] {
  const count = (ns: PlacedNode[]) => {
    const m = new Map<string, number>();
    for (const n of ns) m.set(n.op, (m.get(n.op) ?? 0) + 1);
    return [...m].map(([op, k]) => `${op}×${k}`).join(', ') || 'none';
  };
  return [
    `${r.plan}: ${r.onDevice}/${r.nodes} nodes on ${r.provider} (${(100 * r.deviceShare).toFixed(1)}%), ${r.copies} copies`,
    `  floating-point compute on CPU (host round trips): ${count(r.computeOnCpu)}`,
    `  int → float on CPU (one small upload each): ${count(r.derivedOnCpu)}`,
    `  shape ops on CPU (fine): ${count(r.shapeOnCpu)}`,
  ];
}
