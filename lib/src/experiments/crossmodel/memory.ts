/**
 * Memory plan: estimate the peak memory of a run before loading weights, compare it with what is
 * available, and refuse with "needed vs available" instead of crashing mid-run.
 *
 * Model (bytes):
 *   weights  = 4 · params                  (float32 after the in-graph Cast; fp16/bf16 are read then cast)
 *   session  = weights · f_w                (f_w = 1.0 for float32 checkpoints, 1.2 for fp16/bf16)
 *   act      = 4 · N · (2.3·V + 4·D + 2·F)  (N tokens per forward pass; logits, log-softmax, one block's buffers)
 *   peak     = sessions · session + act + captures + fixed
 * Measured (measure.ts, CPU provider, onnxruntime-node 1.30, synthetic 56.9M-parameter Llama,
 * D 512, F 1536, V 32000, RSS growth): first session 0.87× float32 weight bytes from an F32
 * checkpoint, 1.18× (F16) and 1.20× (BF16) — the folded float32 copy plus part of the half copy;
 * further sessions of other plans 0.75× (F32) and 1.07–1.17× (F16/BF16) each: every plan's session
 * holds its own weights. Activations: 0.30 GB at 1024 tokens and 1.19 GB at 4096 tokens =
 * 290 kB/token ≈ 4·2.27·V (the logits path dominates). The factors above round these up.
 * CUDA was not measurable here (no GPU): the same weight/activation terms are assumed on the GPU
 * (the folded float32 initializers live there) plus 1 GiB for the CUDA context and ORT's arena.
 */
import * as os from 'node:os';
import { execFileSync } from 'node:child_process';
import type { Provider } from '../../engine/model';
import { ArchFacts, paramCount } from './registry';

export const MEMORY_FACTORS = Object.freeze({
  /** session bytes per float32 weight byte, by checkpoint dtype */
  weight: { float32: 1.0, float16: 1.2, bfloat16: 1.2 } as Record<string, number>,
  /** floats per token: logitsPerVocab·V + perD·D + perF·F */
  logitsPerVocab: 2.3,
  perD: 4,
  perF: 2,
  /** fixed bytes: ORT runtime on CPU (measured RSS of an empty process + first tiny session ≈ 0.15 GB), CUDA context + arena, Dawn device + buffer cache (taken as CUDA's) */
  fixed: { cpu: 0.25 * 2 ** 30, cuda: 1 * 2 ** 30, webgpu: 1 * 2 ** 30 } as Record<Provider, number>,
});

export interface MemoryEstimate {
  provider: Provider;
  params: number;
  checkpointDtype: string;
  /** float32 weight bytes */
  weightBytes: number;
  sessionBytes: number;
  sessions: number;
  batchTokens: number;
  activationBytes: number;
  captureBytes: number;
  fixedBytes: number;
  peakBytes: number;
  lines: string[];
}

export interface MemoryOptions {
  provider?: Provider;
  checkpointDtype?: string;
  /** concurrent ONNX sessions (one per plan; the engine keeps every plan's session until release) */
  sessions?: number;
  /** tokens per forward pass (default: the engine's ≈4096) */
  batchTokens?: number;
  /** captured floats per token (e.g. resid captures: layers·D; patterns: layers·H·T) */
  captureFloatsPerToken?: number;
}

export const GiB = 2 ** 30;
const gib = (b: number) => `${(b / GiB).toFixed(2)} GiB`;

export function estimateMemory(a: ArchFacts, o: MemoryOptions = {}): MemoryEstimate {
  const provider = o.provider ?? 'cpu';
  const dtype = o.checkpointDtype ?? 'float32';
  const params = paramCount(a);
  const weightBytes = 4 * params;
  const sessionBytes = weightBytes * (MEMORY_FACTORS.weight[dtype] ?? 1.2);
  const sessions = o.sessions ?? 1;
  const N = o.batchTokens ?? 4096;
  const activationBytes =
    4 *
    N *
    (MEMORY_FACTORS.logitsPerVocab * a.vocabSize + MEMORY_FACTORS.perD * a.dModel + MEMORY_FACTORS.perF * a.dMlp);
  const captureBytes = 4 * N * (o.captureFloatsPerToken ?? 0);
  const fixedBytes = MEMORY_FACTORS.fixed[provider];
  const peakBytes = sessions * sessionBytes + activationBytes + captureBytes + fixedBytes;
  return {
    provider,
    params,
    checkpointDtype: dtype,
    weightBytes,
    sessionBytes,
    sessions,
    batchTokens: N,
    activationBytes,
    captureBytes,
    fixedBytes,
    peakBytes,
    lines: [
      `parameters ${(params / 1e9).toFixed(3)} B → float32 weights ${gib(weightBytes)}`,
      `per session ${gib(sessionBytes)} (${dtype} checkpoint × ${MEMORY_FACTORS.weight[dtype] ?? 1.2}) × ${sessions} session(s)`,
      `activations ${gib(activationBytes)} for ${N} tokens per pass${captureBytes ? `, captures ${gib(captureBytes)}` : ''}`,
      `fixed ${gib(fixedBytes)} (${provider})`,
      `peak ≈ ${gib(peakBytes)}`,
    ],
  };
}

export interface Available {
  bytes: number | null;
  source: string;
}

/**
 * Memory available to a run: CPU → os.freemem() (MemAvailable on Linux); CUDA → the user-given
 * `--gpu-memory` (GiB) if any, else `nvidia-smi --query-gpu=memory.free` of GPU 0 if present, else unknown.
 */
export function availableMemory(
  provider: Provider,
  o: { gpuMemoryGiB?: number; nvidiaSmi?: () => string | null } = {},
): Available {
  if (provider === 'cpu') return { bytes: os.freemem(), source: 'os.freemem()' };
  if (o.gpuMemoryGiB !== undefined) return { bytes: o.gpuMemoryGiB * GiB, source: '--gpu-memory' };
  const smi = (o.nvidiaSmi ?? queryNvidiaSmi)();
  if (smi !== null) {
    const mib = Number(smi.trim().split('\n')[0]);
    if (Number.isFinite(mib)) return { bytes: mib * 2 ** 20, source: 'nvidia-smi memory.free (GPU 0)' };
  }
  return { bytes: null, source: 'unknown (no --gpu-memory given and no nvidia-smi)' };
}

function queryNvidiaSmi(): string | null {
  try {
    return execFileSync('nvidia-smi', ['--query-gpu=memory.free', '--format=csv,noheader,nounits'], {
      encoding: 'utf8',
      timeout: 5000,
      stdio: ['ignore', 'pipe', 'ignore'],
    });
  } catch {
    return null;
  }
}

export class MemoryPlanError extends Error {}

export interface MemoryPlan {
  estimate: MemoryEstimate;
  available: Available;
  /** the most sessions that fit (≥ 1 when ok) */
  maxSessions: number;
  ok: boolean;
  message: string;
}

/**
 * Decides whether `wantSessions` concurrent sessions fit; falls back to fewer (the runner then
 * releases sessions between plans) and refuses when not even one fits. `available` may be injected.
 */
export function planMemory(
  a: ArchFacts,
  o: MemoryOptions & { available?: Available; gpuMemoryGiB?: number; label?: string } = {},
): MemoryPlan {
  const provider = o.provider ?? 'cpu';
  const want = o.sessions ?? 4;
  const available = o.available ?? availableMemory(provider, { gpuMemoryGiB: o.gpuMemoryGiB });
  const label = o.label ?? a.modelType;
  const one = estimateMemory(a, { ...o, sessions: 1 });
  if (available.bytes === null) {
    const est = estimateMemory(a, { ...o, sessions: want });
    return {
      estimate: est,
      available,
      maxSessions: want,
      ok: true,
      message: `${label} on ${provider}: needs ≈ ${gib(one.peakBytes)} (1 session) to ${gib(est.peakBytes)} (${want}); available memory ${available.source} — not checked`,
    };
  }
  const free = available.bytes - (one.peakBytes - one.sessionBytes);
  const maxSessions = Math.max(0, Math.min(want, Math.floor(free / one.sessionBytes)));
  const estimate = estimateMemory(a, { ...o, sessions: Math.max(1, maxSessions) });
  const ok = maxSessions >= 1;
  const message = ok
    ? `${label} on ${provider}: needs ≈ ${gib(estimate.peakBytes)} with ${maxSessions} concurrent session(s) of ${want} wanted; available ${gib(available.bytes)} (${available.source})`
    : `${label} on ${provider} does not fit: needs ≈ ${gib(one.peakBytes)} (${one.lines.join('; ')}), available ${gib(available.bytes)} (${available.source}). Use a machine with more memory, the CUDA provider with a larger GPU, or pass --gpu-memory if the detected value is wrong.`;
  return { estimate, available, maxSessions, ok, message };
}

/** Throws MemoryPlanError (needed vs available) when the plan does not fit. */
export function requireMemory(plan: MemoryPlan): MemoryPlan {
  if (!plan.ok) throw new MemoryPlanError(plan.message);
  return plan;
}
