/**
 * Whole-run memory (issue 18): `dirmag reproduce` itself, every step, on a benchmark checkpoint
 * (random weights, real config; fp32 and fp16), reduced counts so that it ends in minutes, in its
 * own process; its peak RSS (the child's ru_maxrss, from `reproduce --summary`) as a multiple of
 * the fp32 weight bytes, and each step's time and peak. The data come from where a user's run takes
 * them (the hub or its cache, DIRMAG_WIKITEXT / DIRMAG_BLIMP_DIR); where they cannot be had, the
 * result says why in one line instead of a number.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createInterface } from 'node:readline';
import type { RunSummary } from '../cli/reproduce';
import type { Provider } from '../engine/model';
import { paramCounts, PythiaSpec } from './pythia';
import { NODE_FLAGS, RUNTIME_ENV } from '../util/runtime';

export interface MemoryBenchOptions {
  dir: string;
  spec: PythiaSpec;
  dtype: 'F32' | 'F16';
  /** tokenizer folder or hub id (the benchmark checkpoints carry none) */
  tokenizer: string;
  /** reduced run: sentences per experiment (default 12), seeds (default 1), BLiMP pairs per paradigm (default 2) */
  sentences?: number;
  seeds?: number;
  perParadigm?: number;
  /** quick settings (δ scaled to the model's norms: a tiny random model cannot take the published δ) */
  quick?: boolean;
  provider?: Provider;
  log?: (line: string) => void;
}

export interface MemoryBenchResult {
  model: string;
  dtype: 'F32' | 'F16';
  checkpointBytes: number;
  /** fp32 bytes of the benchmark model's parameters (the denominator of `ratio`) */
  weightBytes: number;
  /** the reproduce arguments after `dirmag` */
  command: string[];
  wallSeconds: number;
  /** null when the run could not be made (`skipped` says why) */
  peakRssBytes: number | null;
  /** peakRssBytes / weightBytes */
  ratio: number | null;
  steps: RunSummary['steps'];
  skipped?: string;
}

const CLI = path.resolve(__dirname, '../../bin/dirmag.js');

export async function benchMemory(o: MemoryBenchOptions): Promise<MemoryBenchResult> {
  const log = o.log ?? (() => {});
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'dirmag-bench-memory-'));
  const summaryFile = path.join(tmp, 'summary.json');
  const command = [
    'reproduce',
    '--model',
    o.dir,
    '--tokenizer',
    o.tokenizer,
    '--sentences',
    String(o.sentences ?? 12),
    '--seeds',
    String(o.seeds ?? 1),
    '--per-paradigm',
    String(o.perParadigm ?? 2),
    '--no-figures',
    ...(o.quick ? ['--quick'] : []),
    '--device',
    o.provider ?? 'cpu',
    '--results',
    path.join(tmp, 'results'),
    '--report',
    path.join(tmp, 'REPORT.md'),
    '--summary',
    summaryFile,
  ];
  const weightBytes = paramCounts(o.spec).total * 4;
  const checkpointBytes = fs
    .readdirSync(o.dir)
    .filter((f) => f.endsWith('.safetensors'))
    .reduce((s, f) => s + fs.statSync(path.join(o.dir, f)).size, 0);
  const t0 = performance.now();
  const { rc, lastLines } = await new Promise<{ rc: number | null; lastLines: string[] }>((resolve) => {
    const child = spawn(process.execPath, [...NODE_FLAGS, CLI, ...command], {
      // the runtime settings given here, so the measured process is this child (not one bin/dirmag.js restarts)
      env: {
        ...process.env,
        ...RUNTIME_ENV,
        DIRMAG_TABLES: path.join(tmp, 'tables'),
        DIRMAG_FIGURES: path.join(tmp, 'figures'),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const last: string[] = [];
    // stdout (the steps and the peak) is logged; of stderr only each experiment's finished progress bar
    const follow = (stream: NodeJS.ReadableStream, show: (l: string) => boolean) =>
      createInterface({ input: stream }).on('line', (l) => {
        if (!l.trim()) return;
        last.push(l);
        if (last.length > 5) last.shift();
        if (show(l)) log(`${o.spec.name} ${o.dtype}: ${l.trim()}`);
      });
    follow(child.stdout, () => true);
    follow(child.stderr, (l) => / 100% /.test(l));
    child.on('close', (code) => resolve({ rc: code, lastLines: last }));
  });
  const wallSeconds = (performance.now() - t0) / 1000;
  const base = { model: o.spec.name, dtype: o.dtype, checkpointBytes, weightBytes, command, wallSeconds };
  try {
    if (!fs.existsSync(summaryFile)) {
      const why = lastLines.at(-1) ?? `exit code ${rc}`;
      log(`${o.spec.name} ${o.dtype}: whole-run memory skipped: ${why}`);
      return { ...base, peakRssBytes: null, ratio: null, steps: [], skipped: `reproduce failed (exit ${rc}): ${why}` };
    }
    const s = JSON.parse(fs.readFileSync(summaryFile, 'utf8')) as RunSummary;
    const failed = s.steps.filter((x) => x.error).map((x) => `${x.step}: ${x.error}`);
    return {
      ...base,
      peakRssBytes: s.peakRssBytes,
      ratio: s.peakRssBytes / weightBytes,
      steps: s.steps,
      ...(failed.length ? { skipped: `steps failed, the peak covers the rest: ${failed.join('; ')}` } : {}),
    };
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}
