/** dirmag results [list|check|repair]: what is stored, with which settings; find and fix duplicate keys. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { checkResultsFile, parseResultsFile, repairResultsFile, type KeepPolicy } from '../results';
import { describeSettings } from '../experiments/store-settings';
import { resultsDir } from '../util/paths';
import { parseArgs, stringOpt } from './args';

export const HELP = `usage: dirmag results [list] [--results DIR]      every store: records, settings, lock holder
       dirmag results check FILE|--all [--results DIR]   duplicate keys, torn last line (exit 1 on conflicts)
       dirmag results repair FILE --keep first|last|none [--wait]
                                                   one record per key; new file via temp + rename, old one kept as FILE.bak-<time>`;

/** Every results file under root: root/<folder>/<name>.jsonl. */
export function storeFiles(root: string): string[] {
  if (!fs.existsSync(root)) return [];
  return fs
    .readdirSync(root, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .flatMap((d) =>
      fs
        .readdirSync(path.join(root, d.name))
        .filter((f) => f.endsWith('.jsonl'))
        .sort()
        .map((f) => path.join(root, d.name, f)),
    );
}

function list(root: string): number {
  const files = storeFiles(root);
  if (!files.length) return (void console.log(`no results stored under ${root}`), 0);
  console.log(`results under ${root}:`);
  for (const f of files) {
    const rel = path.relative(root, f);
    let line: string;
    try {
      const p = parseResultsFile(f);
      const first = p.records[0] as Record<string, unknown> | undefined;
      line = `${rel}: ${p.records.length} record(s)${first ? `; ${describeSettings(first)}` : ''}${p.torn ? '; torn last line' : ''}${p.duplicates.length ? `; ${p.duplicates.length} identical duplicate key(s)` : ''}`;
    } catch (e) {
      line = `${rel}: unreadable — ${(e as Error).message}`;
    }
    if (fs.existsSync(`${f}.lock`)) line += `; being written (${fs.readFileSync(`${f}.lock`, 'utf8').trim()})`;
    console.log(`  ${line}`);
  }
  return 0;
}

function check(files: string[]): number {
  let rc = 0;
  for (const f of files) {
    const r = checkResultsFile(f);
    const parts = [`${r.records} line(s), ${r.keys} key(s)`];
    if (r.identical.length) parts.push(`${r.identical.length} identical duplicate(s) (harmless)`);
    if (r.torn) parts.push(`torn last line ${r.torn.line} (ignored; removed by the next writer)`);
    if (r.conflicts.length) parts.push(`${r.conflicts.length} CONFLICTING key(s)`);
    console.log(`${f}: ${parts.join('; ')}`);
    for (const c of r.conflicts) console.log(`  '${c.key}' differs at lines ${c.lines.join(', ')}`);
    if (r.conflicts.length) {
      console.log(`  resolve with: dirmag results repair ${f} --keep first|last|none`);
      rc = 1;
    }
  }
  return rc;
}

export async function run(argv: string[]): Promise<number> {
  const args = parseArgs(argv, ['help', 'all', 'wait']);
  if (args.options.help) return (void console.log(HELP), 0);
  const [sub = 'list', file] = args.positional;
  const root = path.resolve(stringOpt(args, 'results') ?? resultsDir());
  if (sub === 'list') return list(root);
  if (sub === 'check') {
    const files = args.options.all ? storeFiles(root) : file ? [file] : [];
    if (!files.length) throw new Error('usage: dirmag results check FILE|--all [--results DIR]');
    return check(files);
  }
  if (sub === 'repair') {
    const keep = stringOpt(args, 'keep', 'first') as KeepPolicy;
    if (!file) throw new Error('usage: dirmag results repair FILE --keep first|last|none');
    if (!['first', 'last', 'none'].includes(keep)) throw new Error(`--keep must be first, last or none, got '${keep}'`);
    const r = repairResultsFile(file, keep, { wait: !!args.options.wait });
    console.log(
      `${file}: ${r.kept} record(s) kept, ${r.removedLines} line(s) removed${r.dropped.length ? `, conflicting key(s) dropped (rerun to recompute): ${r.dropped.join(', ')}` : ''}; old file kept as ${r.backup}`,
    );
    return 0;
  }
  throw new Error(`dirmag results: unknown subcommand '${sub}' (list, check, repair)`);
}
