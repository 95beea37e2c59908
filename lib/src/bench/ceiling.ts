/**
 * The FLOP-rate ceilings a pass is compared with: ONNX Runtime's own MatMul rate on this machine,
 * measured with the product reduced to a scalar inside the graph (copying a 32 MB product into
 * JavaScript every run would time the copy, not the MatMul), and the machine's theoretical fp32
 * peak from its core count, clock and SIMD width. A ratio above 1 to a measured ceiling means the
 * ceiling measurement is wrong, never that a pass beat it: `ratioToCeiling` says so instead.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as ort from 'onnxruntime-node';
import type { Provider } from '../engine/model';
import { GraphBuilder } from '../onnx/builder';
import { DataType } from '../onnx/proto';

export interface MatmulCeiling {
  m: number;
  k: number;
  n: number;
  /** best reading */
  gflops: number;
  readings: number[];
  /** how the product leaves the graph */
  output: string;
}

/**
 * ONNX Runtime's MatMul rate: one MatMul node [m,k]×[k,n] (weights an initializer) whose product is
 * summed to a scalar in the graph, so only 4 bytes come back per run. GFLOP/s counts 2·m·k·n per
 * run (the reduction's m·n additions are not counted: they make the reading a lower bound).
 */
export async function matmulRate(
  m: number,
  k: number,
  n: number,
  opts: { provider?: Provider; threads?: number; minSeconds?: number } = {},
): Promise<number> {
  const g = new GraphBuilder();
  const a = g.input('a', DataType.FLOAT, [m, k]);
  const w = new Float32Array(k * n);
  for (let i = 0; i < w.length; i++) w[i] = ((i * 2654435761) % 1000) / 1000 - 0.5;
  const b = g.initializer({ name: 'b', dims: [k, n], dataType: DataType.FLOAT, raw: new Uint8Array(w.buffer) });
  g.output('y', g.op('ReduceSum', [g.op('MatMul', [a, b])], { keepdims: 0 }));
  const session = await ort.InferenceSession.create(g.encode('matmul'), {
    executionProviders: [opts.provider ?? 'cpu'],
    graphOptimizationLevel: 'all',
    intraOpNumThreads: opts.threads,
    interOpNumThreads: 1,
  });
  const x = new Float32Array(m * k).map((_, i) => ((i % 97) - 48) / 97);
  const feeds = { a: new ort.Tensor('float32', x, [m, k]) };
  for (let i = 0; i < 2; i++) await session.run(feeds);
  let runs = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < (opts.minSeconds ?? 1) * 1000) {
    await session.run(feeds);
    runs++;
  }
  const s = (performance.now() - t0) / 1000;
  await session.release();
  return (2 * m * k * n * runs) / s / 1e9;
}

export const CEILING_OUTPUT = 'MatMul → ReduceSum to a scalar in the graph (4 bytes copied out per run)';

/** The MatMul ceiling for a model of width d: [2048×d]·[d×4d], `readings` times, the best counts. */
export async function matmulCeiling(
  d: number,
  dMlp: number,
  opts: { provider?: Provider; threads?: number; minSeconds?: number; readings?: number } = {},
): Promise<MatmulCeiling> {
  const m = 2048;
  const readings: number[] = [];
  for (let i = 0; i < (opts.readings ?? 1); i++) readings.push(await matmulRate(m, d, dMlp, opts));
  return { m, k: d, n: dMlp, gflops: Math.max(...readings), readings, output: CEILING_OUTPUT };
}

export interface TheoreticalPeak {
  cores: number;
  ghz: number;
  /** where the clock came from */
  clockSource: string;
  /** widest fp32 FMA instruction set the CPU reports */
  simd: 'avx512' | 'avx2' | 'avx' | 'sse' | 'unknown';
  /** fp32 lanes per FMA per cycle (the datapath width, which can be narrower than the instruction) */
  lanes: number;
  fmaUnits: number;
  /** fmaUnits · lanes · 2 (multiply + add) */
  flopsPerCycle: number;
  gflops: number;
  /** the assumptions behind the number */
  note: string;
}

/** /proc/cpuinfo's first processor block as key → value. */
export function parseCpuinfo(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    if (!line.trim()) {
      if (Object.keys(out).length) break;
      continue;
    }
    const i = line.indexOf(':');
    if (i > 0) out[line.slice(0, i).trim()] = line.slice(i + 1).trim();
  }
  return out;
}

/**
 * Theoretical fp32 peak = cores × clock × FMA units × lanes × 2. Lanes from the flags (AVX-512 16,
 * AVX2/AVX 8, SSE 4); AMD before family 0x1a (Zen 4 and older) executes 512-bit instructions on a
 * 256-bit datapath, so 8 lanes there. Two FMA units per core unless `fmaUnits` says otherwise (every
 * AVX2 core since Haswell / Zen 1; some Xeon Silver/Bronze parts have one 512-bit unit). The clock is
 * cpufreq's maximum where the kernel exposes it, else /proc/cpuinfo's current MHz (a VM's nominal).
 */
export function theoreticalPeak(
  opts: { cpuinfo?: string; maxFreqKHz?: number | null; cores?: number; fmaUnits?: number } = {},
): TheoreticalPeak {
  const text = opts.cpuinfo ?? readOr('/proc/cpuinfo', '');
  const info = parseCpuinfo(text);
  const flags = new Set((info.flags ?? '').split(/\s+/));
  const cores = opts.cores ?? os.availableParallelism();
  const khz =
    opts.maxFreqKHz !== undefined
      ? opts.maxFreqKHz
      : Number(readOr('/sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq', '')) || null;
  let ghz: number, clockSource: string;
  if (khz) {
    ghz = khz / 1e6;
    clockSource = 'cpufreq cpuinfo_max_freq';
  } else if (Number(info['cpu MHz']) > 0) {
    ghz = Number(info['cpu MHz']) / 1000;
    clockSource = '/proc/cpuinfo cpu MHz (no cpufreq: boost clocks are not visible)';
  } else {
    ghz = (os.cpus()[0]?.speed ?? 0) / 1000;
    clockSource = 'os.cpus() speed';
  }
  const simd: TheoreticalPeak['simd'] = flags.has('avx512f')
    ? 'avx512'
    : flags.has('avx2') && flags.has('fma')
      ? 'avx2'
      : flags.has('avx')
        ? 'avx'
        : flags.has('sse2')
          ? 'sse'
          : 'unknown';
  const amd = info.vendor_id === 'AuthenticAMD';
  const family = Number(info['cpu family'] ?? 0);
  const halfWidth512 = simd === 'avx512' && amd && family < 0x1a;
  const lanes = simd === 'avx512' ? (halfWidth512 ? 8 : 16) : simd === 'avx2' || simd === 'avx' ? 8 : 4;
  const fmaUnits = opts.fmaUnits ?? (simd === 'avx' || simd === 'sse' ? 1 : 2);
  const flopsPerCycle = fmaUnits * lanes * 2;
  const notes = [
    `${cores} cores × ${ghz.toFixed(2)} GHz (${clockSource}) × ${fmaUnits} FMA units × ${lanes} fp32 lanes × 2`,
    halfWidth512 ? `AMD family ${family} runs AVX-512 on a 256-bit datapath` : '',
    simd === 'avx' || simd === 'sse' ? 'no FMA: one multiply and one add unit counted as one FMA' : '',
  ].filter(Boolean);
  return {
    cores,
    ghz,
    clockSource,
    simd,
    lanes,
    fmaUnits,
    flopsPerCycle,
    gflops: cores * ghz * flopsPerCycle,
    note: notes.join('; '),
  };
}

function readOr(file: string, fallback: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return fallback;
  }
}

/** A rate against a ceiling: the ratio, or null with the reason when the rate exceeds it. */
export interface CeilingRatio {
  ratio: number | null;
  /** set when the rate exceeds the ceiling: then the ceiling measurement is wrong */
  invalid?: string;
}

export function ratioToCeiling(gflops: number, ceiling: number | null | undefined, what = 'MatMul'): CeilingRatio {
  if (!ceiling || !Number.isFinite(ceiling)) return { ratio: null };
  if (gflops > ceiling)
    return {
      ratio: null,
      invalid: `${gflops.toFixed(1)} GFLOP/s exceeds the ${what} ceiling ${ceiling.toFixed(1)}: the ceiling measurement is wrong (busy machine during its reading?)`,
    };
  return { ratio: gflops / ceiling };
}
