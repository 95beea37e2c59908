/**
 * The GPU check run by bench/gpu-check.sh on a borrowed GPU machine (WebGPU provider):
 *   1. every golden fixture recomputed on the device (verifyGolden): max relative error per fixture
 *   2. a Pythia-shaped checkpoint (random weights, bench/pythia.ts; 410M by default): tokens/s of a
 *      plain pass and of perturbed passes (each operator at the middle third of the layers), the
 *      log-probs of the plain pass compared with the CPU provider's
 *   3. device residency (engine/device-cache.ts): a clean capture of the attention outputs at the
 *      perturbed layers patched into a perturbed pass, kept on the device vs brought to the host:
 *      the read-backs the device path made (0 expected), both timings, and how far apart the log-probs are
 *   4. the share of the graph's nodes ONNX Runtime ran on the GPU (engine/placement.ts)
 * and writes one JSON file. Usage (built lib):
 *   node lib/dist/bench/gpu-check.js --fixtures DIR[,DIR...] --out FILE [--shape pythia-410m|tiny]
 *        [--device webgpu] [--sentences N] [--cache DIR]
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { readBackCount } from '../engine/device-buffers';
import { verifyGolden } from '../engine/golden';
import { minTokenNorm } from '../engine/cache';
import { hooks } from '../engine/hooks';
import { Model } from '../engine/model';
import { plan } from '../engine/plan';
import { formatPlacement, nodePlacement } from '../engine/placement';
import { Provider, parseProvider, probeProvider } from '../engine/providers';
import type { Item, PerturbOp } from '../engine/types';
import { middleThird, randomItems } from './measure';
import { PYTHIA, PythiaSpec, TINY, ensurePythia } from './pythia';

export interface GpuCheckOptions {
  fixtures: string[];
  device: Provider;
  spec: PythiaSpec;
  /** sentences of the timed passes (lengths cycle through 8..64 tokens) */
  sentences: number;
  cacheDir: string;
  log: (line: string) => void;
}

export interface GpuCheckResult {
  device: Provider;
  probe: string | null;
  host: { cpus: string; node: string; platform: string; vulkanIcd: string | null };
  golden: { fixture: string; tensors: number; failed: number; maxRelErr: number; seconds: number }[];
  goldenMaxRelErr: number | null;
  bench: {
    shape: PythiaSpec;
    sentences: number;
    realTokens: number;
    sessionCreateSeconds: number;
    plain: { seconds: number; tokensPerSec: number };
    perturbed: Record<string, { seconds: number; tokensPerSec: number; ratioToPlain: number }>;
    /** max |gpu − cpu| / max |cpu| over the plain pass's log-probs (the same random weights on the CPU provider) */
    plainVsCpuRelErr: number;
    /** capture → patch with the captures on the device vs on the host (webgpu; cpu keeps them on the host anyway) */
    resident: {
      hooks: string[];
      /** device tensors read back during the device-resident capture and patch (0: nothing came to the host) */
      readBacks: number;
      keptOnDevice: number;
      hostSeconds: number;
      deviceSeconds: number;
      /** max |device − host| / max |host| over the patched pass's log-probs */
      relErrVsHost: number;
    };
    nodeShareOnGpu: { plan: string; nodes: number; onDevice: number; share: number; computeOnCpu: string[] }[];
  } | null;
  seconds: number;
  error?: string;
}

/** Sentence lengths 8, 15, ..., cycling through 8..64: a spread like WikiText's, no data needed. */
function lengths(n: number): number[] {
  return Array.from({ length: n }, (_, i) => 8 + ((i * 7) % 57));
}

async function timed<T>(f: () => Promise<T>): Promise<{ value: T; seconds: number }> {
  const t0 = performance.now();
  const value = await f();
  return { value, seconds: (performance.now() - t0) / 1000 };
}

function relErr(a: Float32Array[], b: Float32Array[]): number {
  let err = 0,
    scale = 0;
  a.forEach((x, i) => {
    for (let j = 0; j < x.length; j++) {
      err = Math.max(err, Math.abs(x[j] - b[i][j]));
      scale = Math.max(scale, Math.abs(b[i][j]));
    }
  });
  return err / Math.max(scale, 1e-30);
}

export async function gpuCheck(o: GpuCheckOptions): Promise<GpuCheckResult> {
  const t0 = performance.now();
  const out: GpuCheckResult = {
    device: o.device,
    probe: await probeProvider(o.device),
    host: {
      cpus: `${os.cpus().length}× ${os.cpus()[0]?.model ?? '?'}`,
      node: process.version,
      platform: `${os.platform()} ${os.release()}`,
      vulkanIcd: process.env.VK_ICD_FILENAMES ?? process.env.VK_DRIVER_FILES ?? null,
    },
    golden: [],
    goldenMaxRelErr: null,
    bench: null,
    seconds: 0,
  };
  if (out.probe) {
    out.error = out.probe;
    return out;
  }
  for (const dir of o.fixtures) {
    const { value: rows, seconds } = await timed(() => verifyGolden(dir, { provider: o.device }));
    const maxRelErr = rows.reduce((m, r) => (Number.isNaN(r.maxRel) ? Infinity : Math.max(m, r.maxRel)), 0);
    const failed = rows.filter((r) => !r.ok).length;
    out.golden.push({ fixture: path.basename(dir), tensors: rows.length, failed, maxRelErr, seconds });
    o.log(
      `golden ${path.basename(dir)}: ${rows.length} tensors, ${failed} failed, max rel err ${maxRelErr.toExponential(2)}`,
    );
  }
  out.goldenMaxRelErr = out.golden.length ? Math.max(...out.golden.map((g) => g.maxRelErr)) : null;

  o.log(`checkpoint ${o.spec.name} (random weights) in ${o.cacheDir}`);
  const dir = ensurePythia(o.spec, o.cacheDir);
  const items: Item[] = randomItems(lengths(o.sentences), o.spec.vocab);
  const realTokens = items.reduce((a, it) => a + it.ids.length, 0);
  const layers = middleThird(o.spec.nLayers);
  const ops: PerturbOp[] = ['magnitude', 'angle_exact', 'angle_legacy'];
  const perturbPlan = (op: PerturbOp, delta: number) =>
    plan('logprobs').perturb(layers.map(hooks.residPost), { op, delta });

  const gpu = await Model.fromDir(dir, { provider: o.device });
  try {
    const plainPlan = plan('logprobs');
    const created = await timed(() => gpu.runWithHooks(items.slice(0, 1), plainPlan)); // session + warm-up
    const plain = await timed(() => gpu.runWithHooks(items, plainPlan));
    o.log(`plain: ${(realTokens / plain.seconds).toFixed(0)} tokens/s`);
    // δ: half the smallest clean norm at the perturbed layers (reachable by every operator)
    const { cache } = await gpu.runWithCache(items.slice(0, 4), layers.map(hooks.residPost));
    const minNorm = minTokenNorm(cache, layers.map(hooks.residPost), items.slice(0, 4));
    const delta = 0.5 * minNorm;
    const perturbed: NonNullable<GpuCheckResult['bench']>['perturbed'] = {};
    for (const op of ops) {
      const p = perturbPlan(op, delta);
      await gpu.runWithHooks(items.slice(0, 1), p, { seed: 1 }); // session + warm-up
      const r = await timed(() => gpu.runWithHooks(items, p, { seed: 1 }));
      perturbed[op] = {
        seconds: r.seconds,
        tokensPerSec: realTokens / r.seconds,
        ratioToPlain: plain.seconds / r.seconds,
      };
      o.log(`perturbed ${op}: ${(realTokens / r.seconds).toFixed(0)} tokens/s`);
    }
    const resident = await residency(gpu, items, layers, delta);
    o.log(
      `resident capture→patch: ${resident.readBacks} read-backs, ${resident.keptOnDevice} tensors kept, ` +
        `${resident.deviceSeconds.toFixed(2)} s vs host ${resident.hostSeconds.toFixed(2)} s, rel err ${resident.relErrVsHost.toExponential(2)}`,
    );
    await gpu.release();
    // the same pass on the CPU provider, for the numbers (a subset: the CPU is slow on 410M)
    const sub = items.slice(0, Math.min(items.length, 16));
    const cpu = await Model.fromDir(dir, { provider: 'cpu' });
    const [a, b] = [await gpu.runWithHooks(sub, plainPlan), await cpu.runWithHooks(sub, plainPlan)];
    await cpu.release();
    await gpu.release();
    const plainVsCpuRelErr = relErr(
      a.items.map((r) => r.logprobs!),
      b.items.map((r) => r.logprobs!),
    );
    o.log(`plain vs cpu: max rel err ${plainVsCpuRelErr.toExponential(2)}`);
    const placement = await nodePlacement(
      dir,
      o.device,
      [
        { name: 'plain', plan: plainPlan },
        { name: 'perturb angle_legacy', plan: perturbPlan('angle_legacy', delta), opts: { seed: 1 } },
      ],
      items.slice(0, 2),
    );
    for (const r of placement) formatPlacement(r).forEach((l) => o.log(l));
    out.bench = {
      shape: o.spec,
      sentences: items.length,
      realTokens,
      sessionCreateSeconds: created.seconds,
      plain: { seconds: plain.seconds, tokensPerSec: realTokens / plain.seconds },
      perturbed,
      plainVsCpuRelErr,
      resident,
      nodeShareOnGpu: placement.map((r) => ({
        plan: r.plan,
        nodes: r.nodes,
        onDevice: r.onDevice,
        share: r.deviceShare,
        computeOnCpu: r.computeOnCpu.map((n) => `${n.op} ${n.node}`),
      })),
    };
  } finally {
    await gpu.release();
  }
  out.seconds = (performance.now() - t0) / 1000;
  return out;
}

/** The repair pattern (mechanism experiments): capture clean attention outputs, patch them into a perturbed pass. */
async function residency(
  model: Model,
  items: Item[],
  layers: number[],
  delta: number,
): Promise<NonNullable<GpuCheckResult['bench']>['resident']> {
  const names = layers.map(hooks.attnOut);
  const patched = (cache: Awaited<ReturnType<Model['runWithCache']>>['cache']) =>
    plan('logprobs').perturb(layers.map(hooks.residPost), { op: 'magnitude', delta }).patch(names, cache);
  const pass = async (onDevice: boolean) => {
    const { cache, result } = await model.runWithCache(items, names, { onDevice });
    const r = await model.runWithHooks(items, patched(cache), { seed: 1 });
    cache.dispose();
    return { r, kept: result.onDevice?.length ?? 0 };
  };
  await pass(false); // sessions + warm-up
  await pass(true);
  const host = await timed(() => pass(false));
  const n0 = readBackCount();
  const device = await timed(() => pass(true));
  return {
    hooks: names,
    readBacks: readBackCount() - n0,
    keptOnDevice: device.value.kept,
    hostSeconds: host.seconds,
    deviceSeconds: device.seconds,
    relErrVsHost: relErr(
      device.value.r.items.map((x) => x.logprobs!),
      host.value.r.items.map((x) => x.logprobs!),
    ),
  };
}

function arg(argv: string[], key: string, fallback?: string): string | undefined {
  const i = argv.indexOf(`--${key}`);
  return i >= 0 && i + 1 < argv.length ? argv[i + 1] : fallback;
}

export async function main(argv: string[]): Promise<number> {
  const outFile = arg(argv, 'out');
  if (!outFile) throw new Error('usage: gpu-check --fixtures DIR[,DIR...] --out FILE [--shape pythia-410m|tiny]');
  const shape = arg(argv, 'shape', 'pythia-410m')!;
  const spec = shape === 'tiny' ? TINY : PYTHIA[shape];
  if (!spec) throw new Error(`--shape: one of ${[...Object.keys(PYTHIA), 'tiny'].join(', ')}, got '${shape}'`);
  const t0 = performance.now();
  const log = (l: string) =>
    process.stderr.write(`[gpu-check ${((performance.now() - t0) / 1000).toFixed(0)}s] ${l}\n`);
  let result: GpuCheckResult;
  try {
    result = await gpuCheck({
      fixtures: (arg(argv, 'fixtures') ?? '').split(',').filter(Boolean),
      device: parseProvider(arg(argv, 'device', 'webgpu'), '--device'),
      spec,
      sentences: Number(arg(argv, 'sentences', '64')),
      cacheDir: arg(argv, 'cache', path.join(os.tmpdir(), 'dirmag-gpu-check'))!,
      log,
    });
  } catch (e) {
    result = { error: (e as Error).stack ?? String(e) } as GpuCheckResult;
  }
  fs.mkdirSync(path.dirname(path.resolve(outFile)), { recursive: true });
  fs.writeFileSync(outFile, JSON.stringify(result, null, 2) + '\n');
  log(`written: ${outFile}`);
  const goldenOk = result.golden?.every((g) => g.failed === 0) ?? false;
  return result.error || !goldenOk ? 1 : 0;
}

if (require.main === module)
  main(process.argv.slice(2)).then(
    (rc) => process.exit(rc),
    (e) => {
      process.stderr.write(`gpu-check: ${(e as Error).message}\n`);
      process.exit(1);
    },
  );
