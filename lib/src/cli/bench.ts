/**
 * dirmag bench [--quick] [--json] [--models pythia-70m,...] [--threads N] [--provider cpu|cuda|webgpu] [--out DIR]
 * Throughput, FLOP rate against the machine's MatMul rate, padding waste, RSS; see bench/README.md.
 */
import { parseArgs, stringOpt } from './args';
import { runBench } from '../bench';
import { parseProvider } from '../engine/providers';

export async function run(argv: string[]): Promise<number> {
  const args = parseArgs(argv, ['quick', 'json', 'help']);
  if (args.options.help) {
    process.stdout.write(
      'usage: dirmag bench [--quick] [--json] [--models pythia-70m,pythia-160m,pythia-410m] [--threads N] [--provider cpu|cuda|webgpu] [--out DIR]\n',
    );
    return 0;
  }
  const models = stringOpt(args, 'models')
    ?.split(',')
    .map((s) => s.trim());
  const threads = stringOpt(args, 'threads');
  const provider = stringOpt(args, 'provider');
  const report = await runBench({
    quick: !!args.options.quick,
    models,
    threads: threads ? Number(threads) : undefined,
    provider: provider === undefined ? undefined : parseProvider(provider, '--provider'),
    outDir: stringOpt(args, 'out'),
  });
  if (args.options.json) process.stdout.write(JSON.stringify(report, null, 2) + '\n');
  else process.stdout.write(`${report.table}\n\nwritten: ${report.file}\n`);
  return 0;
}
