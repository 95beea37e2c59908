/**
 * Child-process entry of the benchmark: `node child.js <options.json> <result.json>`. Each model
 * size runs in its own process so that its peak RSS is its own.
 */
import * as fs from 'node:fs';
import { benchModel, ModelBenchOptions } from './measure';

async function main(): Promise<void> {
  const [optsFile, outFile] = process.argv.slice(2);
  const o = JSON.parse(fs.readFileSync(optsFile, 'utf8')) as ModelBenchOptions;
  const r = await benchModel({ ...o, log: (l) => process.stderr.write(`  ${l}\n`) });
  fs.writeFileSync(outFile, JSON.stringify(r, null, 2));
}

main().then(
  () => process.exit(0),
  (e: Error) => {
    process.stderr.write(`bench child: ${e.stack ?? e.message}\n`);
    process.exit(1);
  },
);
