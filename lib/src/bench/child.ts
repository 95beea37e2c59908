/**
 * Child-process entry of the benchmark: `node child.js <job.json> <result.json>`. Each model size
 * and the sweep go in their own process so that a peak RSS is that run's own (the memory runs are
 * `dirmag reproduce` processes of their own, bench/memory.ts).
 */
import * as fs from 'node:fs';
import { benchModel, ModelBenchOptions } from './measure';
import { benchSweep, SweepBenchOptions } from './sweep';

export type ChildJob = { kind: 'model'; options: ModelBenchOptions } | { kind: 'sweep'; options: SweepBenchOptions };

export function runJob(job: ChildJob, log: (l: string) => void): Promise<unknown> {
  switch (job.kind) {
    case 'model':
      return benchModel({ ...job.options, log });
    case 'sweep':
      return benchSweep({ ...job.options, log });
  }
}

async function main(): Promise<void> {
  const [jobFile, outFile] = process.argv.slice(2);
  const job = JSON.parse(fs.readFileSync(jobFile, 'utf8')) as ChildJob;
  const r = await runJob(job, (l) => process.stderr.write(`  ${l}\n`));
  fs.writeFileSync(outFile, JSON.stringify(r, null, 2));
}

if (require.main === module)
  main().then(
    () => process.exit(0),
    (e: Error) => {
      process.stderr.write(`bench child: ${e.stack ?? e.message}\n`);
      process.exit(1);
    },
  );
