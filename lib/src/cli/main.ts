#!/usr/bin/env node
/**
 * The one CLI. Each subcommand lives in its own file in this folder and exports `run(argv)`.
 */
import { parseArgs } from './args';
import { closest } from '../util/closest';

type Command = {
  summary: string;
  load: () => Promise<{ run(argv: string[]): Promise<number | void>; HELP?: string }>;
};

const COMMANDS: Record<string, Command> = {
  'verify-golden': {
    summary: 'recompute a golden fixture folder with the engine and compare',
    load: () => import('./verify-golden'),
  },
  reproduce: {
    summary: 'run every experiment, write tables/, figures/ and REPORT.md (the main job)',
    load: () => import('./reproduce'),
  },
  sweep: {
    summary: 'E1: loss damage of magnitude vs angle perturbations over δ and seeds',
    load: () => import('./sweep'),
  },
  blimp: {
    summary: 'E2: BLiMP accuracy under each perturbation (--variants: baseline readings)',
    load: () => import('./blimp'),
  },
  merge: {
    summary: 'combine the --shard k/n result files of one experiment (gaps and conflicts fail)',
    load: () => import('./merge'),
  },
  results: {
    summary: 'list stored results with their settings; check|repair duplicate keys',
    load: () => import('./results'),
  },
  bench: {
    summary:
      'benchmark: tokens/s, GFLOP/s vs MatMul, padding waste, RSS on Pythia 70M/160M/410M shapes (--quick, --json)',
    load: () => import('./bench'),
  },
  notebooks: {
    summary: 'execute every notebook headlessly (Jupyter + tslab kernel)',
    load: () => import('./notebooks'),
  },
  doctor: {
    summary: 'which devices work here (cpu, cuda, webgpu); with --model, which nodes run on the CPU instead of the GPU',
    load: () => import('./doctor'),
  },
  download: {
    summary: 'fetch a model (--model ID) and the datasets (--data) into the HF cache, for offline use',
    load: () => import('./download'),
  },
  data: { summary: 'dataset checks: data wikitext --file PATH --tokenizer DIR|ID', load: () => import('./data') },
};

function usage(): string {
  const rows = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(16)} ${c.summary}`);
  return `usage: dirmag <command> [options]\n\ncommands:\n${rows.join('\n')}\n`;
}

/**
 * The first `--option` of `argv` that the command's usage text does not name, as a one-line error
 * (a misspelt option would otherwise be ignored and the run use its default); null when all are known.
 */
export function unknownOption(name: string, help: string, argv: readonly string[]): string | null {
  const known = [...new Set([...help.matchAll(/--([a-z][a-z0-9-]*)/g)].map((m) => m[1])), 'help'];
  for (const a of argv) {
    if (!a.startsWith('--')) continue;
    const key = a.slice(2).split('=')[0];
    if (!known.includes(key))
      return `dirmag ${name}: unknown option --${key} (did you mean --${closest(key, known)}?); see dirmag ${name} --help`;
  }
  return null;
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h') {
    process.stdout.write(usage());
    return name ? 0 : 2;
  }
  const cmd = COMMANDS[name];
  if (!cmd) {
    process.stderr.write(`dirmag: unknown command '${name}'\n${usage()}`);
    return 2;
  }
  const mod = await cmd.load();
  const bad = mod.HELP === undefined ? null : unknownOption(name, mod.HELP, rest);
  if (bad) {
    process.stderr.write(`${bad}\n`);
    return 2;
  }
  const rc = await mod.run(rest);
  return typeof rc === 'number' ? rc : 0;
}

export { COMMANDS, parseArgs };

/** Runs the CLI and exits with its status (used by bin/dirmag.js). */
export function cli(argv: string[]): void {
  main(argv).then(
    (rc) => process.exit(rc),
    (err: unknown) => {
      const msg = err instanceof Error ? err.message : String(err);
      process.stderr.write(`dirmag: ${msg}\n`);
      if (process.env.DIRMAG_DEBUG && err instanceof Error) process.stderr.write(`${err.stack}\n`);
      process.exit(1);
    },
  );
}

if (require.main === module) cli(process.argv.slice(2));
