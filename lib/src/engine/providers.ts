/**
 * Execution providers (`--device`): their names, whether this onnxruntime-node build has each, the
 * one-line error when one is missing (raised before any work), and the token budget per pass.
 *
 *   cpu     always there
 *   cuda    NVIDIA GPUs; the provider library is downloaded by onnxruntime-node's install script (README "Using CUDA")
 *   webgpu  any GPU through Dawn (Vulkan on Linux, Metal on macOS, D3D12 on Windows); bundled in onnxruntime-node 1.30
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import { CUDA_TOKENS_PER_BATCH, DEFAULT_TOKENS_PER_BATCH, WEBGPU_TOKENS_PER_BATCH } from './batching';
import { RunError } from './errors';
import { GraphBuilder } from '../onnx/builder';
import { DataType } from '../onnx/proto';

export const PROVIDERS = ['cpu', 'cuda', 'webgpu'] as const;
export type Provider = (typeof PROVIDERS)[number];

/** The command README "Using CUDA" gives to install the CUDA provider into node_modules. */
export const CUDA_INSTALL_COMMAND =
  'node node_modules/onnxruntime-node/script/install.js --onnxruntime-node-install=cuda12';

/** The help text's `cpu|cuda|webgpu`. */
export const PROVIDER_CHOICES = PROVIDERS.join('|');

export function isProvider(x: unknown): x is Provider {
  return typeof x === 'string' && (PROVIDERS as readonly string[]).includes(x);
}

/** `x` as a Provider, or a one-line error naming `what` (e.g. '--device'). */
export function parseProvider(x: unknown, what = 'provider'): Provider {
  if (!isProvider(x)) throw new RunError(`${what} must be one of ${PROVIDERS.join(', ')}, got '${String(x)}'`);
  return x;
}

/**
 * Which providers this onnxruntime-node can use: name → present. `listSupportedBackends()` says what
 * the build supports and whether the npm package bundles it (cpu, webgpu: bundled; cuda: not, a
 * fixed answer even after installing); a non-bundled provider counts when its library is in the
 * binding's folder, where onnxruntime-node's install script puts it.
 */
export function ortBackends(): Map<string, boolean> {
  const out = new Map<string, boolean>();
  const binDir = path.join(
    path.dirname(require.resolve('onnxruntime-node')),
    '..',
    'bin/napi-v6',
    process.platform,
    process.arch,
  );
  const libFile = (name: string) =>
    process.platform === 'win32' ? `onnxruntime_providers_${name}.dll` : `libonnxruntime_providers_${name}.so`;
  for (const b of ort.listSupportedBackends())
    out.set(b.name, b.bundled || fs.existsSync(path.join(binDir, libFile(b.name))));
  return out;
}

/** Why `p` cannot be used by this installation, or null when it can (as far as can be told without a session). */
export function providerMissing(p: Provider, backends = ortBackends()): string | null {
  if (p === 'cpu') return null;
  if (backends.get(p)) return null;
  if (p === 'cuda')
    return `--device cuda: onnxruntime-node's CUDA provider is not installed; install it with: ${CUDA_INSTALL_COMMAND} (see README "Using CUDA")`;
  return `--device ${p}: this onnxruntime-node build has no ${p} provider (onnxruntime-node 1.30 on Linux x64, macOS or Windows has it; see README "Choosing a device")`;
}

/** Throws the one-line error of providerMissing; called by Model.fromDir before anything is read. */
export function requireProvider(p: Provider): void {
  const why = providerMissing(p);
  if (why) throw new RunError(why);
}

/** A hint appended to a session-creation failure on `p`. */
export function sessionFailureHint(p: Provider): string {
  if (p === 'cuda')
    return ` (is the CUDA provider installed and CUDA 12 / cuDNN 9 on the library path? see README "Using CUDA")`;
  if (p === 'webgpu')
    return ' (does the machine have a Vulkan driver Dawn accepts, e.g. Mesa ≥ 25 or NVIDIA, and XDG_RUNTIME_DIR set? see README "Choosing a device")';
  return '';
}

/** The default padded tokens per forward pass on `p`: a GPU has the memory and the parallelism for bigger passes. */
export function tokensPerBatchFor(p: Provider): number {
  if (p === 'cuda') return CUDA_TOKENS_PER_BATCH;
  if (p === 'webgpu') return WEBGPU_TOKENS_PER_BATCH;
  return DEFAULT_TOKENS_PER_BATCH;
}

/** ONNX Runtime's name of the provider, as its profiling records and logs spell it. */
export const ORT_PROVIDER_NAME: Record<Provider, string> = {
  cpu: 'CPUExecutionProvider',
  cuda: 'CUDAExecutionProvider',
  webgpu: 'WebGpuExecutionProvider',
};

/**
 * Whether a session can actually be created and run on `p` (a 2×2 MatMul): null when it can, else why.
 * For webgpu this is where a missing or refused Vulkan driver shows (Dawn finds no adapter).
 */
export async function probeProvider(p: Provider): Promise<string | null> {
  const missing = providerMissing(p);
  if (missing) return missing;
  const g = new GraphBuilder();
  const a = g.input('a', DataType.FLOAT, [2, 2]);
  g.output('y', g.op('MatMul', [a, g.constF([1, 2, 3, 4], [2, 2])]));
  try {
    const s = await ort.InferenceSession.create(g.encode('probe'), { executionProviders: [p] });
    try {
      const y = (await s.run({ a: new ort.Tensor('float32', new Float32Array([1, 0, 0, 1]), [2, 2]) })).y;
      const got = Array.from(y.data as Float32Array);
      if (got.join() !== '1,2,3,4') return `${p}: a 2×2 MatMul gave ${got.join()} instead of 1,2,3,4`;
    } finally {
      await s.release();
    }
  } catch (e) {
    return `${p}: cannot create or run a session${sessionFailureHint(p)}: ${(e as Error).message.split('\n')[0]}`;
  }
  return null;
}
