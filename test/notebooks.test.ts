/**
 * Executes every notebooks/*.ipynb headlessly (nbconvert + tslab kernel) and checks it runs clean.
 * Needs Jupyter's nbconvert: when it is missing this FAILS with the install hint (CI installs it), never skips.
 * Needs `npm run build` first (notebooks import the built `dirmag` package); `npm test` does that.
 */
import './test-data';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ciEnvironment } from '../lib/src/notebooks/ci';
import { notebookSettings } from '../lib/src/notebooks/settings';
import {
  executeNotebook,
  extractError,
  findJupyter,
  kernelSpec,
  listNotebooks,
  notebookOutputText,
  selectNotebooks,
  summarizeError,
  writeKernelSpec,
} from '../lib/src/notebooks';

const ROOT = path.resolve(__dirname, '..');
const NB_DIR = path.join(ROOT, 'notebooks');
const OUT_DIR = path.join(NB_DIR, 'executed');
const TIMEOUT_SEC = Number(process.env.DIRMAG_NOTEBOOK_TIMEOUT ?? 600);

/** Text that must appear in a notebook's outputs, per notebook. Notebooks not listed must just run clean. */
const EXPECTED: Record<string, Array<string | RegExp>> = {
  '00_smoke.ipynb': [/dirmag exports: [1-9]\d*/, 'SUPPORTED_ARCHS: gpt_neox, llama, mistral, opt, gpt2'],
};

test('kernel spec is the tslab TypeScript spec and writing it is idempotent', () => {
  const spec = kernelSpec(ROOT);
  assert.equal(spec.language, 'typescript');
  assert.deepEqual(spec.argv.slice(-3), ['kernel', '--config-path', '{connection_file}']);
  const launcher = spec.argv.at(-4)!;
  assert.ok(fs.existsSync(launcher), `tslab launcher missing: ${launcher}`);
  const first = writeKernelSpec(ROOT);
  const second = writeKernelSpec(ROOT);
  assert.equal(second.changed, false);
  assert.equal(first.path, path.join(ROOT, '.jupyter', 'kernels', 'tslab', 'kernel.json'));
  assert.deepEqual(JSON.parse(fs.readFileSync(first.path, 'utf8')), spec);
});

test('notebook selection and error extraction', () => {
  const names = ['00_smoke.ipynb', '01_a.ipynb', '010_b.ipynb'];
  assert.deepEqual(selectNotebooks(names, '00_smoke'), ['00_smoke.ipynb']);
  assert.deepEqual(selectNotebooks(names, '01_a.ipynb'), ['01_a.ipynb']);
  assert.deepEqual(selectNotebooks(names, '01'), ['01_a.ipynb', '010_b.ipynb']);
  assert.deepEqual(selectNotebooks(names, 'zz'), []);
  const hook = `noise\n[dirmag-cell-error] ${JSON.stringify({ index: 2, source: 'throw new Error("x")', stderr: 'Error: x\n    at foo' })}\nTraceback...`;
  const err = extractError(hook);
  assert.match(err, /^cell \[2\] failed:/);
  assert.match(err, /Error: x/);
  assert.equal(summarizeError(err), 'cell [2]: Error: x');
  assert.match(extractError('x\nnbclient.exceptions.CellTimeoutError: A cell timed out\n'), /CellTimeoutError/);
});

test('Jupyter nbconvert is available', () => {
  const j = findJupyter(); // throws the one-line install hint when missing
  assert.match(j.version, /^\d+\.\d+/);
});

const notebooks = listNotebooks(NB_DIR);

test('there are notebooks to run', () => {
  assert.ok(notebooks.includes('00_smoke.ipynb'), `no 00_smoke.ipynb in ${NB_DIR}`);
});

for (const name of notebooks) {
  test(`notebook ${name} executes clean`, async () => {
    const nb = path.join(NB_DIR, name);
    const env = ciEnvironment(nb, fs.mkdtempSync(path.join(os.tmpdir(), 'dirmag-nb-')));
    const r = await executeNotebook(nb, { outDir: OUT_DIR, timeoutSec: TIMEOUT_SEC, repoRoot: ROOT, env });
    assert.ok(r.ok, `${name} failed after ${r.seconds}s:\n${r.error}`);
    assert.ok(fs.existsSync(r.outputPath));
    const text = notebookOutputText(r.outputPath);
    for (const want of EXPECTED[name] ?? []) {
      if (typeof want === 'string') assert.ok(text.includes(want), `${name}: output lacks '${want}'; got:\n${text}`);
      else assert.match(text, want, `${name}: output does not match ${want}`);
    }
  });
}

test('notebookSettings: cell > environment > published defaults; one-line errors', () => {
  const pub = 'EleutherAI/pythia-410m';
  const d = notebookSettings(pub, {}, {});
  assert.equal(d.model, pub);
  assert.equal(d.quick, false);
  assert.equal(d.device, 'cpu');
  assert.match(d.describe(), /the published model.*full published settings.*all defaults/);
  const e = notebookSettings(
    pub,
    {},
    { DIRMAG_MODEL: '/m', DIRMAG_QUICK: '1', DIRMAG_DEVICE: 'webgpu', DIRMAG_RESULTS: '/r' },
  );
  assert.deepEqual(e.studyOptions(), { model: '/m', quick: true, provider: 'webgpu', resultsDir: '/r' });
  assert.match(e.describe(), /model from DIRMAG_MODEL/);
  assert.equal(notebookSettings(pub, {}, { DIRMAG_PROVIDER: 'cuda' }).device, 'cuda'); // the older name
  const c = notebookSettings(pub, { model: '/cell', quick: false }, { DIRMAG_MODEL: '/m', DIRMAG_QUICK: '1' });
  assert.equal(c.model, '/cell');
  assert.equal(c.quick, false);
  assert.throws(
    () => notebookSettings(pub, {}, { DIRMAG_DEVICE: 'tpu' }),
    /^Error: DIRMAG_DEVICE must be one of cpu, cuda, webgpu, got 'tpu'$/,
  );
  assert.throws(() => notebookSettings(pub, {}, { DIRMAG_QUICK: 'maybe' }), /DIRMAG_QUICK must be 1 or 0/);
  assert.throws(() => notebookSettings(pub, {}, { DIRMAG_GPU_MEMORY: '-2' }), /positive number of GiB/);
});

test('every experiment notebook has exactly one settings cell, the same apart from its published model', () => {
  const shape = (src: string) => src.replace(/'[^']*'/g, "'…'").replace(/\/\/ Time on CPU:.*$/m, '// Time');
  const shapes = new Set<string>();
  for (const name of notebooks) {
    const nb = JSON.parse(fs.readFileSync(path.join(NB_DIR, name), 'utf8')) as {
      cells: Array<{ cell_type: string; metadata?: { dirmag?: string }; source: string[] }>;
    };
    const cells = nb.cells.filter((c) => c.metadata?.dirmag === 'settings');
    const opensStudy = nb.cells.some((c) => c.source.join('').includes('Study.open('));
    assert.equal(cells.length, opensStudy ? 1 : 0, `${name}: ${cells.length} settings cells`);
    if (cells.length) shapes.add(shape(cells[0].source.join('')));
    for (const c of nb.cells)
      assert.ok(!c.source.join('').includes('process.env.DIRMAG_MODEL'), `${name}: reads DIRMAG_MODEL itself`);
  }
  assert.equal(shapes.size, 1, [...shapes].join('\n-----\n'));
});
