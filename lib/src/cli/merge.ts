/** dirmag merge: combine the shard files of one experiment into its results file; gaps and conflicts fail. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ResultStore, mergeResults, resultsPath } from '../results';
import { resultsDir } from '../util/paths';
import { parseArgs, stringOpt } from './args';

export async function run(argv: string[]): Promise<number> {
  const args = parseArgs(argv, ['wait']);
  const model = stringOpt(args, 'model');
  const experiment = stringOpt(args, 'experiment');
  if (!model || !experiment)
    throw new Error(
      'usage: dirmag merge --model NAME --experiment E1 [--results DIR] [--wait]  (NAME as in results/NAME/; E1@<id> for a store of other settings)',
    );
  const root = stringOpt(args, 'results') ?? resultsDir();
  const target = resultsPath(model, experiment, root);
  const dir = path.dirname(target);
  const shards = fs.existsSync(dir)
    ? fs
        .readdirSync(dir)
        .filter((f) => f.startsWith(`${experiment}.shard-`) && f.endsWith('.jsonl'))
        .map((f) => path.join(dir, f))
    : [];
  if (!shards.length) throw new Error(`no shard files ${experiment}.shard-*.jsonl in ${dir}`);
  const manifestFile = path.join(dir, `${experiment}.manifest.json`);
  const expected: string[] | undefined = fs.existsSync(manifestFile)
    ? JSON.parse(fs.readFileSync(manifestFile, 'utf8')).keys
    : undefined;
  const existing = fs.existsSync(target) ? [target] : [];
  const report = mergeResults([...existing, ...shards], expected);
  const settings = new Set(report.records.map((r) => r.fingerprint).filter((f) => f !== undefined));
  if (settings.size > 1)
    throw new Error(
      `${target} and its shard files hold results of ${settings.size} different settings; never mixed: run each settings' shards into its own store (${experiment}@<id>, see dirmag results)`,
    );
  if (report.torn.length) console.log(`torn last line ignored in: ${report.torn.join(', ')}`);
  if (report.duplicates.length) console.log(`${report.duplicates.length} identical duplicate(s) merged`);
  if (report.unexpected.length)
    throw new Error(
      `keys not in the manifest: ${report.unexpected.slice(0, 5).join(', ')}${report.unexpected.length > 5 ? ' …' : ''}`,
    );
  const store = new ResultStore(target, { wait: !!args.options.wait });
  let added = 0;
  for (const r of report.records) if (!store.has(r.key)) (store.append(r), added++);
  store.close();
  console.log(
    `${target}: ${added} record(s) added from ${shards.length} shard file(s), ${report.records.length} in total`,
  );
  if (report.missing.length) {
    console.log(
      `missing ${report.missing.length} condition(s) (re-run the shards that own them): ${report.missing.slice(0, 10).join(', ')}${report.missing.length > 10 ? ' …' : ''}`,
    );
    return 1;
  }
  return 0;
}
