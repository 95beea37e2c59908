/**
 * The settings cell's published-model time: read from bench sweeps, projected per notebook by FLOPs,
 * GPU reported as not measured until a GPU sweep is in bench/. Synthetic bench files in a temp dir.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { flops } from '../lib/src/bench/measure';
import { PYTHIA } from '../lib/src/bench/pythia';
import { listNotebooks } from '../lib/src/notebooks';
import { notebookTime, notebookWork, projectNotebook, readBenchCosts } from '../lib/src/notebooks/timing';

const ROOT = path.resolve(__dirname, '..');

/** A bench file with one E1 sweep: 1 s per plain pass, 2 s per perturbed pass, no session cost. */
function benchFile(dir: string, name: string, provider: string, date: string): void {
  const sweep = {
    model: 'pythia-410m',
    provider,
    threads: 4,
    sentences: 2,
    tokensPerPass: 80,
    grid: { perturbedConditions: 60 },
    reuse: { compileSeconds: 0, baselineSeconds: 3, perturbedSeconds: 120 },
    full: { baselineSeconds: 1 },
    projections: [{ experiment: 'E2', tokensPerPass: 2000 }],
  };
  const body = {
    date,
    host: { cpus: 'Test CPU', cores: 8 },
    profile: { summary: '100 sentences, 4000 tokens, length 10–64' },
    sweep,
  };
  fs.writeFileSync(path.join(dir, name), JSON.stringify(body));
}

test('bench sweeps are read per file; the plain pass is the faster of the two sides', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dirmag-timing-'));
  benchFile(dir, 'results-b.json', 'cpu', '2026-01-02T00:00:00Z');
  benchFile(dir, 'results-a.json', 'cpu', '2026-01-01T00:00:00Z');
  fs.writeFileSync(path.join(dir, 'results-c.json'), JSON.stringify({ date: '2026-01-03', host: {}, sweep: null }));
  const cs = readBenchCosts(dir);
  assert.deepEqual(
    cs.map((c) => c.file),
    ['results-a.json', 'results-b.json'],
  );
  assert.equal(cs[0].plainSecondsPerPass, 1);
  assert.equal(cs[0].perturbedSecondsPerPass, 2);
  assert.equal(cs[0].hardware, '8-core Test CPU');
  assert.deepEqual(cs[0].wikitext, { items: 100, tokens: 4000 });
});

test("per-model passes: the largest model's plain pass and the mean of its perturbed modes; newest wins", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dirmag-timing-'));
  benchFile(dir, 'results-a.json', 'cpu', '2026-01-01T00:00:00Z');
  const entry = (model: string, total: number, plain: number) => ({
    model,
    provider: 'cpu',
    threads: 2,
    params: { total },
    graphBuildSeconds: 0.5,
    sessionCreateSeconds: 1.5,
    plain: { tokens: 120, seconds: plain, batchItems: [2, 1] },
    perturbed: { magnitude: { tokens: 120, seconds: 4 }, angle_legacy: { tokens: 120, seconds: 8 } },
  });
  const body = {
    date: '2026-01-05T00:00:00Z',
    host: { cpus: 'Other CPU', cores: 4 },
    results: [entry('pythia-70m', 7e7, 1), entry('pythia-410m', 4e8, 3)],
    sweep: null,
  };
  fs.writeFileSync(path.join(dir, 'results-b.json'), JSON.stringify(body));
  const cs = readBenchCosts(dir);
  const c = cs[cs.length - 1];
  assert.equal(c.file, 'results-b.json');
  assert.equal(c.measured.name, 'pythia-410m');
  assert.equal(c.plainSecondsPerPass, 3);
  assert.equal(c.perturbedSecondsPerPass, 6);
  assert.equal(c.sessionSeconds, 2);
  assert.equal(c.sentences, 3);
  // the length profiles come from the file that has them
  assert.deepEqual(c.wikitext, { items: 100, tokens: 4000 });
  assert.match(
    notebookTime('04_sweep', dir),
    /CPU: about .*results-b\.json \(plain and perturbed passes\).*4-core Other CPU/,
  );
});

test("notebook 04 is E1's 1 plain + 60 perturbed passes scaled by the FLOP ratio", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dirmag-timing-'));
  benchFile(dir, 'results-a.json', 'cpu', '2026-01-01T00:00:00Z');
  const [c] = readBenchCosts(dir);
  const spec = PYTHIA['pythia-410m'];
  const ratio = flops(spec, Array(100).fill(40)) / flops(spec, [40, 40]);
  const got = projectNotebook('04_sweep', c).seconds!;
  assert.ok(Math.abs(got - ratio * (1 * 1 + 60 * 2)) < 1e-6 * got, `${got} vs ${ratio * 121}`);
  // 05 adds the robustness sweeps to E1; 10 (E3, 100 sentences of the 100) is 1 plain + 10 perturbed
  assert.ok(projectNotebook('05_statistics', c).seconds! > got);
  const e3 = projectNotebook('10_attention_entropy', c).seconds!;
  assert.ok(Math.abs(e3 - ratio * (1 + 10 * 2)) < 1e-6 * e3);
  assert.equal(projectNotebook('26_cross_model_summary', c).seconds, null);
});

test('the GPU line is filled only by a GPU sweep in bench/', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dirmag-timing-'));
  benchFile(dir, 'results-a.json', 'cpu', '2026-01-01T00:00:00Z');
  const cpuOnly = notebookTime('04_sweep', dir);
  assert.match(
    cpuOnly,
    /CPU: about .* projected from bench\/results-a\.json \(E1 sweep\), pythia-410m measured on 8-core Test CPU/,
  );
  assert.match(cpuOnly, /GPU: not measured yet \(no GPU run recorded in bench\/\)/);
  benchFile(dir, 'results-gpu.json', 'cuda', '2026-01-02T00:00:00Z');
  const both = notebookTime('04_sweep', dir);
  assert.match(both, /GPU: about .* projected from bench\/results-gpu\.json.*cuda/);
  assert.match(both, /CPU: .*results-a\.json/);
  assert.match(notebookTime('04_sweep', path.join(dir, 'absent')), /CPU: not measured yet/);
});

test('every notebook has a timing entry and the committed bench files give a CPU projection', () => {
  const [c] = readBenchCosts(path.join(ROOT, 'bench')).slice(-1);
  assert.ok(c, 'no sweep in bench/');
  for (const name of listNotebooks(path.join(ROOT, 'notebooks'))) assert.doesNotThrow(() => notebookWork(name, c));
  assert.throws(() => notebookWork('99_new', c), /notebook 99: not in the timing table/);
  const gpu = readBenchCosts(path.join(ROOT, 'bench')).some((x) => x.provider !== 'cpu');
  assert.equal(/GPU: not measured yet/.test(notebookTime('04_sweep', path.join(ROOT, 'bench'))), !gpu);
});
