/**
 * dirmag doctor [--model ID|DIR] [--device cpu|cuda|webgpu] [--json]
 * What this installation can run on: each execution provider (present, and a probe session that works),
 * and with --model, where ONNX Runtime places the nodes of the plain, capture, perturbed and patched
 * graphs on --device (engine/placement.ts). Exit 1 when --device cannot run or a floating-point op of
 * those graphs runs on the CPU instead of the device.
 */
import * as ort from 'onnxruntime-node';
import { loadModel } from '../engine/load';
import { hooks } from '../engine/hooks';
import { plan } from '../engine/plan';
import { PlacementReport, formatPlacement, nodePlacement } from '../engine/placement';
import { PROVIDERS, PROVIDER_CHOICES, Provider, parseProvider, probeProvider } from '../engine/providers';
import type { Item, PerturbOp } from '../engine/types';
import { parseArgs, stringOpt } from './args';

export const HELP = `usage: dirmag doctor [--model ID|DIR] [--device ${PROVIDER_CHOICES}] [--json]`;

export interface DoctorReport {
  onnxruntime: string;
  node: string;
  xdgRuntimeDir: string | null;
  providers: Record<Provider, { ok: boolean; problem: string | null }>;
  device: Provider;
  placement: PlacementReport[] | null;
}

/** The graphs a study builds: plain log-probs, captures, each perturbation operator, a patch of captured values. */
export async function placementOf(dirOrId: string, device: Provider): Promise<PlacementReport[]> {
  const model = await loadModel(dirOrId, { provider: 'cpu' });
  const L = model.cfg.nLayers;
  const mid = Math.floor(L / 2);
  // two items of different lengths (padding and the mask take part), tokens spread over the vocabulary
  const V = model.cfg.vocabSize;
  const items: Item[] = [7, 4].map((n, id) => ({
    id,
    ids: Array.from({ length: n }, (_, t) => (t * 7919 + id * 104729 + 1) % V),
  }));
  const { cache } = await model.runWithCache(items, [hooks.attnOut(mid)]);
  await model.release();
  const perturb = (op: PerturbOp) => plan('logprobs').perturb([hooks.residPost(mid)], { op, delta: 0.5 });
  return nodePlacement(
    model.dir,
    device,
    [
      { name: 'plain', plan: plan('logprobs') },
      { name: 'capture', plan: plan('logprobs').capture([hooks.residPost(mid), hooks.attnOut(mid)]) },
      ...(['magnitude', 'angle_exact', 'angle_legacy'] as const).map((op) => ({
        name: `perturb ${op}`,
        plan: perturb(op),
        opts: { seed: 1 },
      })),
      { name: 'patch', plan: plan('logprobs').patch([hooks.attnOut(mid)], cache) },
    ],
    items,
  );
}

export async function run(argv: string[]): Promise<number> {
  const args = parseArgs(argv, ['json', 'help']);
  if (args.options.help) {
    process.stdout.write(HELP + '\n');
    return 0;
  }
  const device = parseProvider(stringOpt(args, 'device', 'webgpu'), '--device');
  const modelArg = stringOpt(args, 'model');
  const providers = {} as DoctorReport['providers'];
  for (const p of PROVIDERS) {
    const problem = await probeProvider(p);
    providers[p] = { ok: problem === null, problem };
  }
  const report: DoctorReport = {
    onnxruntime: ort.env.versions.common,
    node: process.version,
    xdgRuntimeDir: process.env.XDG_RUNTIME_DIR ?? null,
    providers,
    device,
    placement: modelArg && providers[device].ok ? await placementOf(modelArg, device) : null,
  };
  const bad = !providers[device].ok || (report.placement ?? []).some((r) => r.computeOnCpu.length > 0);
  if (args.options.json) {
    process.stdout.write(JSON.stringify(report, null, 2) + '\n');
    return bad ? 1 : 0;
  }
  const lines = [
    `onnxruntime-node ${report.onnxruntime}, Node ${report.node}, XDG_RUNTIME_DIR=${report.xdgRuntimeDir ?? '(unset)'}`,
  ];
  for (const p of PROVIDERS) lines.push(`${p.padEnd(7)} ${providers[p].ok ? 'ok' : providers[p].problem}`);
  if (report.placement) {
    lines.push('', `node placement on ${device} (${modelArg}):`);
    for (const r of report.placement) lines.push(...formatPlacement(r));
  } else if (modelArg) lines.push('', `node placement: skipped (${device} cannot run here)`);
  process.stdout.write(lines.join('\n') + '\n');
  return bad ? 1 : 0;
}
