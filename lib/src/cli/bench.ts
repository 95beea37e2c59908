/**
 * dirmag bench [--quick] [--sweep] [--json] [--models ...] [--threads N] [--device cpu|cuda|webgpu] [--out DIR]
 * Throughput, FLOP rate against the machine's MatMul rate and theoretical peak, padding waste, RSS;
 * the E1 sweep with prefix reuse on vs off and projected wall times; whole-run memory. See bench/README.md.
 */
import { parseArgs, stringOpt } from './args';
import { runBench } from '../bench';
import { parseProvider } from '../engine/providers';

const USAGE = `usage: dirmag bench [--quick] [--sweep | --no-sweep] [--json] [--models pythia-70m,pythia-160m,pythia-410m]
                    [--sweep-model M] [--sweep-sentences N] [--memory-model M] [--memory-sentences N]
                    [--threads N] [--device cpu|cuda|webgpu] [--out DIR] [--tokenizer DIR|ID] [--wikitext FILE]
  --sweep      only the E1 sweep (prefix reuse on vs off, projections) and the fp32/fp16 memory runs
  --no-sweep   only the per-model pass measurements
`;

function intOpt(args: ReturnType<typeof parseArgs>, name: string): number | undefined {
  const v = stringOpt(args, name);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name}: a positive integer, got '${v}'`);
  return n;
}

export async function run(argv: string[]): Promise<number> {
  const args = parseArgs(argv, ['quick', 'json', 'help', 'sweep', 'no-sweep']);
  if (args.options.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (args.options.sweep && args.options['no-sweep']) throw new Error('--sweep and --no-sweep exclude each other');
  const models = stringOpt(args, 'models')
    ?.split(',')
    .map((s) => s.trim());
  const device = stringOpt(args, 'device') ?? stringOpt(args, 'provider');
  const report = await runBench({
    quick: !!args.options.quick,
    models,
    threads: intOpt(args, 'threads'),
    provider: device === undefined ? undefined : parseProvider(device, '--device'),
    outDir: stringOpt(args, 'out'),
    tokenizer: stringOpt(args, 'tokenizer'),
    wikitextFile: stringOpt(args, 'wikitext'),
    passes: !args.options.sweep,
    sweep: !args.options['no-sweep'],
    sweepModel: stringOpt(args, 'sweep-model'),
    sweepSentences: intOpt(args, 'sweep-sentences'),
    memoryModel: stringOpt(args, 'memory-model'),
    memorySentences: intOpt(args, 'memory-sentences'),
  });
  if (args.options.json) process.stdout.write(JSON.stringify(report, null, 2) + '\n');
  else process.stdout.write(`${report.table}\n\nwritten: ${report.file}\n`);
  return 0;
}
