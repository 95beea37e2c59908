/**
 * The benchmark (issue 5): Pythia-70M/160M/410M shapes with random weights, WikiText lengths,
 * each size measured in its own child process. `runBench` returns the results and writes
 * bench/results-<date>.json.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawn } from 'node:child_process';
import type { Provider } from '../engine/providers';
import { repoRoot } from '../util/paths';
import { ModelBenchOptions, ModelBenchResult, FLOP_FORMULA, benchModel } from './measure';
import { PYTHIA, PythiaSpec, benchCacheDir, ensurePythia } from './pythia';
import { describeLengths, wikitextLengths } from './profile';
import { formatReport, targets } from './report';

export * from './measure';
export * from './pythia';
export * from './profile';
export * from './report';

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
  results: ModelBenchResult[];
  targets: ReturnType<typeof targets>;
  table: string;
  file: string | null;
}

function childRun(o: ModelBenchOptions, log: (l: string) => void): Promise<ModelBenchResult> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dirmag-bench-'));
  const optsFile = path.join(dir, 'opts.json');
  const outFile = path.join(dir, 'result.json');
  fs.writeFileSync(optsFile, JSON.stringify(o));
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
            new Error(`benchmark of ${o.spec.name} failed (exit ${code}): ${err.split('\n').slice(-5).join('\n')}`),
          );
        resolve(JSON.parse(fs.readFileSync(outFile, 'utf8')));
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  });
}

export async function runBench(opts: BenchOptions = {}): Promise<BenchReport> {
  const log = opts.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  const quick = !!opts.quick;
  const specs =
    opts.specs ??
    (opts.models ?? (quick ? ['pythia-70m', 'pythia-160m'] : Object.keys(PYTHIA))).map((m) => {
      const s = PYTHIA[m];
      if (!s) throw new Error(`unknown benchmark model '${m}' (${Object.keys(PYTHIA).join(', ')})`);
      return s;
    });
  const profile = await wikitextLengths();
  log(`WikiText profile: ${describeLengths(profile.lengths)}`);
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
    results.push(opts.inProcess ? await benchModel({ ...o, log }) : await childRun(o, log));
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
    results,
    targets: targets(results),
    table,
    file: null,
  };
  const outDir = opts.outDir ?? path.join(repoRoot() ?? process.cwd(), 'bench');
  fs.mkdirSync(outDir, { recursive: true });
  const file = path.join(outDir, `results-${date.slice(0, 10)}${quick ? '-quick' : ''}.json`);
  report.file = file;
  fs.writeFileSync(file, JSON.stringify(report, null, 2) + '\n');
  return report;
}
