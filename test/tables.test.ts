import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as aq from 'arquero';
import {
  resultsTable,
  fmtMeanStd,
  formatNumber,
  tableCells,
  toMarkdown,
  toHTML,
  toLatex,
  toCSV,
} from '../lib/src/tables';

// Small table exercising: per-column digits, ± composite cells, LaTeX specials, HTML specials and
// CSV quoting (comma, double quote, newline), a negative value rounding to zero, a missing value.
const rows = [
  { model: 'pythia_410m', delta: 1, damage: fmtMeanStd(0.3676, 0.011, 3), ratio: 42.8741, note: '100% & #1' },
  { model: 'opt-1.3b', delta: 10, damage: fmtMeanStd(5.7733, 0.0124, 3), ratio: -0.0004, note: 'a "b", c\nd <$5>' },
  { model: 'tiny', delta: 2, damage: '', ratio: null, note: 'x|y' },
];
const formats = {
  delta: { label: 'δ' },
  ratio: { label: 'ratio ang/mag', digits: 2 },
  note: { align: 'center' as const },
};

test('fmtMeanStd and formatNumber', () => {
  assert.equal(fmtMeanStd(0.0086, 0.0015, 3), '0.009 ± 0.002');
  assert.equal(fmtMeanStd(28.396943, 0.627615, 1), '28.4 ± 0.6');
  assert.equal(formatNumber(-0.0004, 2), '0.00');
  assert.equal(formatNumber(-0, 1), '0.0');
  assert.equal(formatNumber(-0.006, 2), '-0.01');
  assert.equal(formatNumber(2.5), '2.5');
});

test('resultsTable keeps column order, labels, digits and default alignment', () => {
  const t = resultsTable(rows, formats);
  assert.deepEqual(
    t.columns.map((c) => [c.name, c.label, c.align]),
    [
      ['model', 'model', 'left'],
      ['delta', 'δ', 'right'],
      ['damage', 'damage', 'left'],
      ['ratio', 'ratio ang/mag', 'left'],
      ['note', 'note', 'center'],
    ],
  ); // ratio has a null → not all numbers → left
  assert.deepEqual(tableCells(t).rows[0], ['pythia_410m', '1', '0.368 ± 0.011', '42.87', '100% & #1']);
  assert.throws(() => resultsTable(rows, { nope: { digits: 1 } }), /unknown column "nope"/);
  // an arquero table is accepted as is (e.g. after derive/filter)
  const derived = aq
    .from(rows)
    .filter((d: { delta: number }) => d.delta > 1)
    .select('model', 'delta');
  assert.deepEqual(tableCells(resultsTable(derived)).rows, [
    ['opt-1.3b', '10'],
    ['tiny', '2'],
  ]);
});

const table = resultsTable(rows, formats);

test('toMarkdown', () => {
  assert.equal(
    toMarkdown(table),
    [
      '| model | δ | damage | ratio ang/mag | note |',
      '| :--- | ---: | :--- | :--- | :---: |',
      '| pythia_410m | 1 | 0.368 ± 0.011 | 42.87 | 100% & #1 |',
      '| opt-1.3b | 10 | 5.773 ± 0.012 | 0.00 | a "b", c\nd <$5> |',
      '| tiny | 2 |  |  | x\\|y |',
      '',
    ].join('\n'),
  );
});

test('toHTML escapes & < > "', () => {
  const l = 'style="text-align: left"',
    r = 'style="text-align: right"',
    c = 'style="text-align: center"';
  assert.equal(
    toHTML(table),
    [
      '<table>',
      '  <thead>',
      `    <tr><th ${l}>model</th><th ${r}>δ</th><th ${l}>damage</th><th ${l}>ratio ang/mag</th><th ${c}>note</th></tr>`,
      '  </thead>',
      '  <tbody>',
      `    <tr><td ${l}>pythia_410m</td><td ${r}>1</td><td ${l}>0.368 ± 0.011</td><td ${l}>42.87</td><td ${c}>100% &amp; #1</td></tr>`,
      `    <tr><td ${l}>opt-1.3b</td><td ${r}>10</td><td ${l}>5.773 ± 0.012</td><td ${l}>0.00</td><td ${c}>a &quot;b&quot;, c\nd &lt;$5&gt;</td></tr>`,
      `    <tr><td ${l}>tiny</td><td ${r}>2</td><td ${l}></td><td ${l}></td><td ${c}>x|y</td></tr>`,
      '  </tbody>',
      '</table>',
      '',
    ].join('\n'),
  );
});

test('toLatex: booktabs rules and escaping of _ % & # $ (and ± → $\\pm$)', () => {
  assert.equal(
    toLatex(table),
    [
      '\\begin{tabular}{lrllc}',
      '\\toprule',
      'model & δ & damage & ratio ang/mag & note \\\\',
      '\\midrule',
      'pythia\\_410m & 1 & 0.368 $\\pm$ 0.011 & 42.87 & 100\\% \\& \\#1 \\\\',
      'opt-1.3b & 10 & 5.773 $\\pm$ 0.012 & 0.00 & a "b", c\nd <\\$5> \\\\',
      'tiny & 2 &  &  & x|y \\\\',
      '\\bottomrule',
      '\\end{tabular}',
      '',
    ].join('\n'),
  );
  assert.equal(
    toLatex(resultsTable([{ a: '\\x{y}~^' }])).split('\n')[4],
    '\\textbackslash{}x\\{y\\}\\textasciitilde{}\\textasciicircum{} \\\\',
  );
});

test('toCSV: RFC 4180 quoting and CRLF', () => {
  assert.equal(
    toCSV(table),
    [
      'model,δ,damage,ratio ang/mag,note',
      'pythia_410m,1,0.368 ± 0.011,42.87,100% & #1',
      'opt-1.3b,10,5.773 ± 0.012,0.00,"a ""b"", c\nd <$5>"',
      'tiny,2,,,x|y',
      '',
    ].join('\r\n'),
  );
});
