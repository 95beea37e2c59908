/**
 * dirmag bench [--quick] [--json] [--models pythia-70m,...] [--threads N] [--provider cpu|cuda] [--out DIR]
 * Throughput, FLOP rate against the machine's MatMul rate, padding waste, RSS; see bench/README.md.
 */
import { parseArgs, stringOpt } from './args';
import { runBench } from '../bench';

export async function run(argv: string[]): Promise<number> {
  const args = parseArgs(argv, ['quick', 'json', 'help']);
  if (args.options.help) {
    process.stdout.write(
      'usage: dirmag bench [--quick] [--json] [--models pythia-70m,pythia-160m,pythia-410m] [--threads N] [--provider cpu|cuda] [--out DIR]\n',
    );
    return 0;
  }
  const models = stringOpt(args, 'models')
    ?.split(',')
    .map((s) => s.trim());
  const threads = stringOpt(args, 'threads');
  const provider = stringOpt(args, 'provider');
  if (provider && provider !== 'cpu' && provider !== 'cuda')
    throw new Error(`--provider: cpu or cuda, got '${provider}'`);
  const report = await runBench({
    quick: !!args.options.quick,
    models,
    threads: threads ? Number(threads) : undefined,
    provider: provider as 'cpu' | 'cuda' | undefined,
    outDir: stringOpt(args, 'out'),
  });
  if (args.options.json) process.stdout.write(JSON.stringify(report, null, 2) + '\n');
  else process.stdout.write(`${report.table}\n\nwritten: ${report.file}\n`);
  return 0;
}
