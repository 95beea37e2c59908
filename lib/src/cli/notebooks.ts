/**
 * `dirmag notebooks [--only NAME] [--timeout SEC] [--dir DIR] [--install-kernel]`
 *
 * Executes every notebooks/*.ipynb headlessly on the tslab kernel (nbconvert), writing executed copies
 * into notebooks/executed/. One line per notebook; exit status 1 if any failed.
 * --install-kernel only writes the kernel spec into <repo>/.jupyter (for `JUPYTER_PATH=$PWD/.jupyter jupyter lab`).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs, stringOpt } from './args';
import { ciEnvironment } from '../notebooks/ci';
import { testDataDir } from '../experiments/tiny';
import {
  DEFAULT_TIMEOUT_SEC,
  executeAll,
  findJupyter,
  findRepoRoot,
  jupyterDataDir,
  listNotebooks,
  selectNotebooks,
  summarizeError,
  writeKernelSpec,
} from '../notebooks';

export const summary = 'execute notebooks/*.ipynb headlessly (tslab kernel via nbconvert)';

export async function run(argv: string[]): Promise<number> {
  const args = parseArgs(argv, ['install-kernel', 'help', 'ci']);
  if (args.options.help) {
    process.stdout.write(
      'usage: dirmag notebooks [--only NAME[,NAME]] [--timeout SEC] [--dir DIR] [--install-kernel]\n' +
        '  --only NAME       notebook file name, stem or prefix (e.g. 00_smoke or 00)\n' +
        `  --timeout SEC     per-cell timeout (default ${DEFAULT_TIMEOUT_SEC})\n` +
        '  --dir DIR         notebook folder (default <repo>/notebooks)\n' +
        '  --ci              small CI models and quick settings (notebook metadata dirmag.ci_model), outputs under .cache/ci\n' +
        '  --test-data DIR   with --ci: the test-data folder (models/, fixtures/hf, data/); default $DIRMAG_TEST_DATA\n' +
        '  --install-kernel  only write the tslab kernel spec into <repo>/.jupyter and exit\n',
    );
    return 0;
  }
  const repoRoot = findRepoRoot();
  if (args.options['install-kernel']) {
    const k = writeKernelSpec(repoRoot);
    process.stdout.write(`${k.changed ? 'wrote' : 'unchanged'} ${path.relative(process.cwd(), k.path) || k.path}\n`);
    process.stdout.write(`use it with: JUPYTER_PATH=${jupyterDataDir(repoRoot)} jupyter lab\n`);
    return 0;
  }
  const timeoutText = stringOpt(args, 'timeout');
  const timeoutSec = timeoutText === undefined ? DEFAULT_TIMEOUT_SEC : Number(timeoutText);
  if (!Number.isFinite(timeoutSec) || timeoutSec <= 0)
    throw new Error(`--timeout: '${timeoutText}' is not a positive number of seconds`);
  const dir = path.resolve(stringOpt(args, 'dir') ?? path.join(repoRoot, 'notebooks'));
  if (!fs.existsSync(dir)) throw new Error(`no notebook folder ${dir}`);
  const only = stringOpt(args, 'only');
  const picked = selectNotebooks(listNotebooks(dir), only);
  if (picked.length === 0) {
    process.stderr.write(`dirmag notebooks: no notebook in ${dir}${only ? ` matches --only ${only}` : ''}\n`);
    return 2;
  }
  if (!fs.existsSync(path.join(repoRoot, 'lib', 'dist', 'index.js'))) {
    throw new Error('lib/dist is not built; run `npm run build` first (notebooks import the built `dirmag` package)');
  }
  findJupyter(); // fail early, with the install hint, before anything runs

  const width = Math.max(...picked.map((n) => n.length));
  const runs = await executeAll(dir, {
    repoRoot,
    only,
    timeoutSec,
    envFor: args.options.ci
      ? (nb) => ciEnvironment(nb, path.join(repoRoot, '.cache', 'ci'), testDataDir(stringOpt(args, 'test-data')))
      : undefined,
    onResult: (r) => {
      const where = path.relative(process.cwd(), r.outputPath) || r.outputPath;
      const head = `${r.ok ? 'ok  ' : 'FAIL'}  ${r.name.padEnd(width)}  ${r.seconds.toFixed(1).padStart(6)}s`;
      if (r.ok) process.stdout.write(`${head}  -> ${where}\n`);
      else {
        process.stdout.write(`${head}  ${summarizeError(r.error)}\n`);
        process.stderr.write(`--- ${r.name} ---\n${r.error ?? ''}\n`);
      }
    },
  });
  const failed = runs.filter((r) => !r.ok).length;
  process.stdout.write(`${runs.length - failed}/${runs.length} notebooks ran clean\n`);
  return failed ? 1 : 0;
}

if (require.main === module) {
  run(process.argv.slice(2)).then(
    (rc) => process.exit(rc),
    (err: unknown) => {
      process.stderr.write(`dirmag notebooks: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    },
  );
}
