/**
 * The benchmark (issues 5, 18): Pythia-70M/160M/410M shapes with random weights, WikiText lengths,
 * each size measured in its own child process; the E1 sweep with prefix reuse on vs off and its
 * projections; whole-run memory of a study-like run on fp32 and fp16 checkpoints; the machine's
 * theoretical fp32 peak. `runBench` returns the results and writes bench/results-<date>.json.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawn } from 'node:child_process';
import type { Provider } from '../engine/providers';
import { repoRoot } from '../util/paths';
import { ModelBenchOptions, ModelBenchResult, FLOP_FORMULA } from './measure';
import { PROJECTED, PYTHIA, PythiaSpec, benchCacheDir, ensurePythia } from './pythia';
import { blimpLengths, describeLengths, wikitextLengths } from './profile';
import { formatReport, targets } from './report';
import { ChildJob, runJob } from './child';
import { SweepBenchResult } from './sweep';
import { MemoryBenchResult, benchMemory } from './memory';
import { TheoreticalPeak, theoreticalPeak } from './ceiling';
import { publishedWork } from './project';
import { E2_PARADIGMS } from '../experiments/e2-blimp';
import { PUBLISHED } from '../experiments/settings';

export * from './measure';
export * from './pythia';
export * from './profile';
export * from './report';
export * from './ceiling';
export * from './sweep';
export * from './memory';
export * from './project';

export interface BenchOptions {
  quick?: boolean;
  models?: string[];
  threads?: number;
  provider?: Provider;
  delta?: number;
  /** timed sentences per model (default: all 281 for 70M, fewer for bigger models) */
  sentences?: Record<string, number>;
  /** where results-<date>.json goes (default: <repo>/bench) */
  outDir?: string;
  /** run models in this process (tests) instead of one child each */
  inProcess?: boolean;
  /** custom specs (tests) */
  specs?: PythiaSpec[];
  sessionOptions?: Record<string, unknown>;
  /** tokenizer folder or hub id of the length profiles (default: the hub's EleutherAI/pythia-410m) */
  tokenizer?: string;
  /** WikiText file of the length profile (default: $DIRMAG_WIKITEXT, else the hub) */
  wikitextFile?: string;
  /** the per-model pass measurements (default true; `dirmag bench --sweep` turns them off) */
  passes?: boolean;
  /** the E1 sweep with prefix reuse on vs off, and the fp32/fp16 memory runs (default true) */
  sweep?: boolean;
  /** model of the sweep (default pythia-410m; quick: pythia-70m) */
  sweepModel?: string;
  /** sentences of the sweep (default 12 at 410M) */
  sweepSentences?: number;
  /** model of the memory runs (default: the sweep's) */
  memoryModel?: string;
  /** sentences per experiment of the reduced reproduce runs (default 12) */
  memorySentences?: number;
  log?: (line: string) => void;
}

const FULL_SENTENCES: Record<string, number> = { 'pythia-70m': 140, 'pythia-160m': 64, 'pythia-410m': 24 };
const LOOP_SENTENCES: Record<string, number> = { 'pythia-70m': 48, 'pythia-160m': 24, 'pythia-410m': 12 };

export interface BenchReport {
  date: string;
  host: { cpus: string; cores: number; memoryBytes: number; node: string; onnxruntime: string };
  profile: { source: string; tokenizer: string; maxLength: number; summary: string };
  flopFormula: string;
  quick: boolean;
  /** the machine's theoretical fp32 peak (cores × clock × FMA units × lanes × 2) */
  peak: TheoreticalPeak;
  results: ModelBenchResult[];
  sweep: SweepBenchResult | null;
  memory: MemoryBenchResult[];
  targets: ReturnType<typeof targets>;
  table: string;
  file: string | null;
}

function childRun<R>(job: ChildJob, log: (l: string) => void): Promise<R> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dirmag-bench-'));
  const optsFile = path.join(dir, 'job.json');
  const outFile = path.join(dir, 'result.json');
  fs.writeFileSync(optsFile, JSON.stringify(job));
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [path.join(__dirname, 'child.js'), optsFile, outFile], {
      stdio: ['ignore', 'inherit', 'pipe'],
    });
    let err = '';
    p.stderr.on('data', (d: Buffer) => {
      const s = d.toString();
      err += s;
      for (const line of s.split('\n')) if (line.trim()) log(line.trimEnd());
    });
    p.on('close', (code) => {
      try {
        if (code !== 0)
          return reject(
            new Error(
              `benchmark ${job.kind} of ${job.options.spec.name} failed (exit ${code}): ${err.split('\n').slice(-5).join('\n')}`,
            ),
          );
        resolve(JSON.parse(fs.readFileSync(outFile, 'utf8')));
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  });
}

function specOf(m: string, specs: PythiaSpec[] = []): PythiaSpec {
  const s = specs.find((x) => x.name === m) ?? PYTHIA[m];
  if (!s) throw new Error(`unknown benchmark model '${m}' (${Object.keys(PYTHIA).join(', ')})`);
  return s;
}

export async function runBench(opts: BenchOptions = {}): Promise<BenchReport> {
  const log = opts.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  const quick = !!opts.quick;
  const passes = opts.passes ?? true;
  const doSweep = opts.sweep ?? true;
  const specs = !passes
    ? []
    : (opts.specs ??
      (opts.models ?? (quick ? ['pythia-70m', 'pythia-160m'] : Object.keys(PYTHIA))).map((m) => specOf(m)));
  const run = <R>(job: ChildJob): Promise<R> =>
    opts.inProcess ? (runJob(job, log) as Promise<R>) : childRun<R>(job, log);
  const profile = await wikitextLengths({ tokenizer: opts.tokenizer, file: opts.wikitextFile });
  log(`WikiText profile: ${describeLengths(profile.lengths)}`);
  const peak = theoreticalPeak();
  log(`theoretical fp32 peak: ${peak.gflops.toFixed(0)} GFLOP/s (${peak.note})`);
  const results: ModelBenchResult[] = [];
  for (const spec of specs) {
    log(`${spec.name}: checkpoint in ${benchCacheDir()}`);
    const dir = ensurePythia(spec);
    const o: ModelBenchOptions = {
      dir,
      spec,
      lengths: profile.lengths,
      sentences: opts.sentences?.[spec.name] ?? (quick ? 24 : (FULL_SENTENCES[spec.name] ?? 64)),
      loopSentences: quick ? 8 : (LOOP_SENTENCES[spec.name] ?? 16),
      delta: opts.delta ?? 0.1,
      provider: opts.provider,
      threads: opts.threads,
      sessionOptions: opts.sessionOptions,
      skipMatmul: false,
    };
    results.push(await run<ModelBenchResult>({ kind: 'model', options: o }));
  }

  let sweep: SweepBenchResult | null = null;
  const memory: MemoryBenchResult[] = [];
  if (doSweep) {
    const sweepSpec = specOf(opts.sweepModel ?? (quick ? 'pythia-70m' : 'pythia-410m'), opts.specs);
    let blimp: number[] | null = null;
    try {
      blimp = (await blimpLengths(E2_PARADIGMS, PUBLISHED.e2.items / 2, { tokenizer: profile.tokenizer })).lengths;
    } catch (e) {
      log(`E2 projection skipped: BLiMP not readable (${(e as Error).message})`);
    }
    const projectTo = [...Object.values(PYTHIA), ...Object.values(PROJECTED)].filter(
      (t) => t.name === 'pythia-410m' || t.name === 'pythia-1.4b',
    );
    sweep = await run<SweepBenchResult>({
      kind: 'sweep',
      options: {
        dir: ensurePythia(sweepSpec),
        spec: sweepSpec,
        lengths: profile.lengths,
        sentences: opts.sweepSentences ?? (quick ? 8 : 12),
        work: publishedWork(profile.lengths, blimp),
        projectTo,
        provider: opts.provider,
        threads: opts.threads,
      },
    });
    const memSpec = specOf(opts.memoryModel ?? sweepSpec.name, opts.specs);
    for (const dtype of ['F32', 'F16'] as const) {
      log(`${memSpec.name} ${dtype}: whole-run memory of dirmag reproduce (checkpoint in ${benchCacheDir()})`);
      // benchMemory runs reproduce in its own process: the peak is that run's own
      memory.push(
        await benchMemory({
          dir: ensurePythia(memSpec, benchCacheDir(), dtype),
          spec: memSpec,
          dtype,
          tokenizer: profile.tokenizer,
          sentences: opts.memorySentences,
          provider: opts.provider,
          log,
        }),
      );
    }
  }
  const date = new Date().toISOString();
  const cpu = os.cpus();
  const host = {
    cpus: cpu[0]?.model ?? 'unknown',
    cores: os.availableParallelism(),
    memoryBytes: os.totalmem(),
    node: process.version,
    onnxruntime: (require('onnxruntime-node/package.json') as { version: string }).version,
  };
  const table = formatReport(results, {
    profile: describeLengths(profile.lengths),
    date,
    host: `${host.cpus} ×${host.cores}`,
    peak,
    sweep,
    memory,
  });
  const report: BenchReport = {
    date,
    host,
    profile: {
      source: profile.source,
      tokenizer: profile.tokenizer,
      maxLength: profile.maxLength,
      summary: describeLengths(profile.lengths),
    },
    flopFormula: FLOP_FORMULA,
    quick,
    peak,
    results,
    sweep,
    memory,
    targets: targets(results, { sweep, memory }),
    table,
    file: null,
  };
  const outDir = opts.outDir ?? path.join(repoRoot() ?? process.cwd(), 'bench');
  fs.mkdirSync(outDir, { recursive: true });
  const suffix = `${quick ? '-quick' : ''}${passes ? '' : '-sweep'}`;
  const file = path.join(outDir, `results-${date.slice(0, 10)}${suffix}.json`);
  report.file = file;
  fs.writeFileSync(file, JSON.stringify(report, null, 2) + '\n');
  return report;
}
