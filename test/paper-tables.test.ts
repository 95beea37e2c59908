/**
 * Tables 1–4 (report/paper-tables.ts) and the statistics export (report/statistics-export.ts) on tiny
 * synthetic records: cells computed from the summaries, the replication rows from stored results only,
 * published numbers and verdicts in the export, and the files reproduce writes.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { paperTables, table1, table3, table4 } from '../lib/src/report/paper-tables';
import {
  statisticsJSON,
  statisticsRecords,
  statisticsTable,
  statisticsText,
} from '../lib/src/report/statistics-export';
import { paperOutputs } from '../lib/src/report/paper-step';
import { writeStepOutput } from '../lib/src/report/reproduce';
import { PUBLISHED_MAIN } from '../lib/src/report/published-main';
import { CROSSMODEL_REGISTRY, PUBLISHED_CROSSMODEL } from '../lib/src/experiments/crossmodel/registry';
import { fmtMeanStd, tableCells, toCSV } from '../lib/src/tables';
import { paperFixture, replicationInput } from './paper-fixture';

const col = (cells: ReturnType<typeof tableCells>, label: string) => {
  const i = cells.header.findIndex((h) => h.startsWith(label));
  assert.ok(i >= 0, `no column '${label}' in ${cells.header.join(' | ')}`);
  return cells.rows.map((r) => r[i]);
};
const comparable = { comparable: true, comparability: 'the published configuration' };
const e14 = CROSSMODEL_REGISTRY.find((e) => e.key === 'pythia-1.4b')!;

test('Table 1: every δ of this model with the seed std, and the replication block from stored results', () => {
  const r = paperFixture();
  const t = tableCells(table1(r));
  const rows = r.e1.rows;
  assert.deepEqual(
    col(t, 'magnitude damage').slice(0, rows.length),
    rows.map((x) => fmtMeanStd(x.magnitude.mean, x.magnitude.std, 3)),
  );
  assert.deepEqual(
    col(t, 'ratio').slice(0, rows.length),
    rows.map((x) => x.ratio.toFixed(2)),
  );
  assert.match(t.rows[rows.length].join(' '), /Pythia-1\.4B .*no stored results/);
  // a stored Pythia-1.4B sweep replaces the placeholder by its own δ rows
  const deltas = PUBLISHED_CROSSMODEL[e14.key].loss.map((x) => x.delta);
  const t2 = tableCells(table1(paperFixture({ replication: [replicationInput(e14, deltas)] })));
  assert.equal(t2.rows.length, rows.length + deltas.length);
  assert.deepEqual(
    col(t2, 'model').slice(rows.length),
    deltas.map(() => e14.label),
  );
  assert.deepEqual(col(t2, 'δ').slice(rows.length), deltas.map(String));
});

test('Tables 3 and 4: recoveries and tests from the summaries, the p-values naming their test', () => {
  const r = paperFixture();
  const t3 = tableCells(table3(r));
  assert.equal(
    col(t3, 'angular recovery')[0],
    fmtMeanStd(r.e4.angle.recoverySeed.mean, r.e4.angle.recoverySeed.std, 1),
  );
  assert.equal(col(t3, 'p one-sided')[0], r.e4.test3.pGreater.toFixed(4));
  assert.match(t3.rows[1].join(' '), /no stored repair results/);
  // the replication model's repair measured elsewhere (its E4/E9 store) fills the second row
  const rep = {
    ...replicationInput(e14, [2]),
    repairOverride: { angular: { mean: 23.8 }, magnitude: { mean: 2.0 }, source: 'E9 (attention set, ratio of means)' },
  };
  const t3b = tableCells(table3(paperFixture({ replication: [rep] })));
  assert.match(t3b.rows[1][0], /^Pythia-1\.4B \(E9/);
  assert.match(t3b.rows[1][1], /^23\.8 \(no spread/);

  const t4 = tableCells(table4(r));
  const sets = col(t4, 'layer set');
  assert.equal(sets.length, 4);
  const middle = r.e6.sets.find((s) => s.name === 'middle')!;
  assert.equal(col(t4, 'recovery')[1], fmtMeanStd(middle.recovery.mean, middle.recovery.std, 1));
  const p = col(t4, 'p vs Top');
  assert.equal(p[0], '');
  assert.match(p[1], /\(independent t, one-sided\)$/);
  assert.ok(p[2].startsWith(r.e6.topVsBottom.pGreater.toExponential(2)), p[2]);
  assert.equal(col(t4, 'recovery')[3], fmtMeanStd(r.e6.randomMean, r.e6.randomStd, 1));
  assert.match(p[3], /two-sided\)$/);
});

test('statistics export: published numbers and verdicts per statistic, the same records as JSON, CSV and text', () => {
  const r = paperFixture();
  const recs = statisticsRecords(r, comparable);
  const ang5 = recs.find((x) => x.experiment === 'E1' && x.quantity === 'angular damage' && x.delta === 5)!;
  const row5 = r.e1.rows.find((x) => x.publishedDelta === 5)!;
  const pub5 = PUBLISHED_MAIN.e1.find((x) => x.delta === 5)!;
  assert.equal(ang5.value, row5.angle.mean);
  assert.equal(ang5.std, row5.angle.std);
  assert.equal(ang5.n, row5.angle.perSeed.length);
  assert.equal(ang5.published, pub5.ang[0]);
  assert.equal(ang5.publishedStd, pub5.ang[1]);
  assert.match(ang5.verdict, /^(consistent|differs) \(\|z\|/);
  // a statistic the original never computed is new, not compared
  const middle = recs.find((x) => x.quantity.startsWith('p one-sided Top > Middle'))!;
  assert.equal(middle.published, null);
  assert.equal(middle.verdict, 'new (not in the original)');
  assert.deepEqual([...new Set(recs.map((x) => x.experiment))], ['E1', 'E2', 'E3', 'E4', 'E5', 'E6']);
  // quick runs: every published comparison says why it is not comparable
  const quick = statisticsRecords(r, { comparable: false, comparability: 'quick mode' });
  for (const x of quick.filter((q) => q.published !== null && Number.isFinite(q.value)))
    assert.equal(x.verdict, 'not comparable (quick mode)', x.quantity);

  const json = JSON.parse(statisticsJSON(r.model, comparable, recs));
  assert.equal(json.model, r.model);
  assert.equal(json.statistics.length, recs.length);
  const csv = toCSV(statisticsTable(recs)).trim().split('\n');
  assert.equal(csv.length, recs.length + 1);
  assert.match(csv[0], /^experiment,quantity,delta,value,std,n,published,published_std,verdict/);
  const text = statisticsText(r.model, comparable, recs);
  assert.match(text, /^\[E6\]$/m);
  assert.ok(text.includes(`angular damage, δ=5: ${Number(row5.angle.mean.toFixed(4))}`), text.slice(0, 800));

  // the replication sweep joins the export, compared only in its own notebook
  const rep = statisticsRecords(paperFixture({ replication: [replicationInput(e14, [2, 5])] }), comparable);
  const r14 = rep.filter((x) => x.experiment.startsWith(e14.label));
  assert.equal(r14.length, 2 * 3);
  const pub2 = PUBLISHED_CROSSMODEL[e14.key].loss.find((x) => x.delta === 2)!;
  assert.equal(r14.find((x) => x.quantity.startsWith('ratio') && x.delta === 2)!.published, pub2.ratio);
  for (const x of r14) assert.match(x.verdict, /^not comparable/);
});

test('paperOutputs: the four tables and the export, written by the same writer reproduce uses', () => {
  const r = paperFixture();
  const out = paperOutputs(r, comparable);
  assert.deepEqual(Object.keys(out.tables), [...Object.keys(paperTables(r)), 'statistics']);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dirmag-paper-'));
  const files = writeStepOutput(dir, out).map((f) => path.basename(f));
  for (const t of Object.keys(out.tables))
    for (const ext of ['md', 'html', 'tex', 'csv']) assert.ok(files.includes(`${t}.${ext}`), `${t}.${ext}`);
  assert.ok(files.includes('statistics.json') && files.includes('statistics_summary.txt'));
  assert.equal(
    JSON.parse(fs.readFileSync(path.join(dir, 'statistics.json'), 'utf8')).statistics.length,
    statisticsRecords(r, comparable).length,
  );
  fs.rmSync(dir, { recursive: true });
});
