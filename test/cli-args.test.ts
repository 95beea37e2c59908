/**
 * Bad command lines fail at once with one line that names the option: a misspelt option is not
 * silently ignored (the run would use its default), and grid values are checked before any work.
 */
import { SHARED } from './test-data';
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { unknownOption } from '../lib/src/cli/main';
import { checkGridOptions } from '../lib/src/experiments/settings';

const CLI = path.resolve(__dirname, '../lib/bin/dirmag.js');
const MODEL = path.join(SHARED, 'models/stories260k-hf');
const WIKI = path.join(SHARED, 'data/wikitext-2-raw/wiki.test.raw');
const results = fs.mkdtempSync(path.join(os.tmpdir(), 'dirmag-args-'));

function dirmag(...args: string[]): { code: number | null; err: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, err: r.stderr.trim() };
}

test('unknown options are refused with the closest known one', () => {
  assert.equal(
    unknownOption('sweep', '  --sentences N  first N\n  --seeds N', ['--sentence', '3']),
    'dirmag sweep: unknown option --sentence (did you mean --sentences?); see dirmag sweep --help',
  );
  assert.equal(unknownOption('sweep', '  --seeds N', ['--seeds=2', 'x', '--help']), null);
  const r = dirmag('blimp', '--model', MODEL, '--delta', '5');
  assert.equal(r.code, 2);
  assert.match(r.err, /^dirmag blimp: unknown option --delta \(did you mean --deltas\?\)/);
  assert.equal(r.err.split('\n').length, 1);
});

test('grid values: one line naming the option, before any work', () => {
  const base = ['sweep', '--model', MODEL, '--wikitext', WIKI, '--results', results, '--sentences', '2'];
  for (const [args, msg] of [
    [['--seeds', '0'], /--seeds must be a whole number ≥ 1, got '0'/],
    [['--seeds', '1.5'], /--seeds must be a whole number ≥ 1, got '1.5'/],
    [['--sentences', 'abc'], /--sentences must be a whole number ≥ 1, got 'abc'/],
    [['--layers', '3-1'], /--layers: '3-1' is an empty range/],
    [['--deltas', '1,-2'], /δ must be a positive number, got -2/],
  ] as [string[], RegExp][]) {
    const r = dirmag(...base, ...args);
    assert.equal(r.code, 1, `${args.join(' ')}: ${r.err}`);
    assert.match(r.err, msg);
    assert.equal(r.err.split('\n').filter((l) => l.startsWith('dirmag:')).length, 1);
  }
  assert.deepEqual(fs.readdirSync(results), [], 'nothing was stored');
});

test('checkGridOptions: what notebooks and scripts get for the same mistakes', () => {
  assert.throws(() => checkGridOptions({ seeds: 0 }), /seeds must be a whole number ≥ 1, got 0/);
  assert.throws(() => checkGridOptions({ sentences: 2.5 }), /sentences must be a whole number ≥ 1, got 2.5/);
  assert.throws(() => checkGridOptions({ deltas: [] }), /δ grid is empty/);
  assert.throws(() => checkGridOptions({ deltas: [1, NaN] }), /δ must be a positive number, got NaN/);
  assert.throws(() => checkGridOptions({ layers: [] }), /no layers to perturb/);
  assert.throws(() => checkGridOptions({ layers: [1, -1] }), /layers must be whole numbers ≥ 0, got -1/);
  checkGridOptions({ seeds: 1, sentences: 1, deltas: [0.3], layers: [0], perParadigm: 4 });
});
