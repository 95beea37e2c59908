import './test-data';
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createHash } from 'node:crypto';
import {
  filterWikitextLines,
  loadWikitext,
  pyStrip,
  readParquetRows,
  loadTokenizer,
  wikitextStats,
  E12_SENTENCES,
  e12Sentences,
  repeatAndTake,
  handWrittenSentences,
  loadBlimpParadigm,
  blimpPool,
  poolItems,
  blimpParadigms,
} from '../lib/src/data';
import { run as runDataCli } from '../lib/src/cli/data';

const SHARED = path.resolve(process.env.DIRMAG_SHARED ?? path.resolve(__dirname, '../../shared'));
const WIKI = path.join(SHARED, 'data/wikitext-2-raw/wiki.test.raw');
const BLIMP = path.join(SHARED, 'data/blimp');
const MODELS = path.join(SHARED, 'models');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'dirmag-data-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

// Tiny snappy-compressed parquet files written by hyparquet-writer.
// WIKI_PQ: columns text (HF wikitext-style rows, trailing '\n'), id (INT32); 8 rows, 2 pass the filter.
const WIKI_PQ =
  'UEFSMRUGFawEFfYDXBUQFQAVEBUAFQQVAAAAEAGUApAAAAAAFQAAACA9IFJvYmVydCBCb3VsdGVyID0gCgAAAABEAAAAPhsA0GlzIGFuIEVuZ2xpc2ggZmlsbSAsIHRlbGV2aXNpb24gYW5kIHRoZWF0cmUgYWN0b3IgLgoNAWUwVG9vIHNob3J0IC4KNgERkE5vIGZ1bGwgc3RvcCBpbiB0aGlzIGxpbmUgYWx0aG91Z2ggaXQBcBhsb25nIGVuARIEChEBOhw9ID0gQ2FyZQWqDD0gCkcBFSBJbiAyMDA2ICwVxiBzdGFycmVkIGEBQSxzaWRlIFdoaXNoYXcJblBlIHBsYXkgQ2l0aXplbnNoaXAgLgoVBhVEFUhcFRAVABUQFQAVBBUAAAAQASB8AAAAAAEAAAACAAAAAwAAAAQAAAAFAAAABgAAAAcAAAAVBBk8SARyb290FQQAFQwlAhgEdGV4dCUAABUCJQIYAmlkABYQGRwZLCYIHBUMGRUAGRgEdGV4dBUCFhAW2gQWpAQmCDw2ACgNIFRvbyBzaG9ydCAuChgAABkcFQYVABUCAAAAJqwEHBUCGRUAGRgCaWQVAhYQFm4WciasBDw2ACgEBwAAABgEAAAAAAAZHBUGFQAVAgAAABbIBRYQNpYFACgJaHlwYXJxdWV0GSwcAAAcAAAAtQAAAFBBUjE=';
// BLIMP_PQ: sentence_good, sentence_bad, UID, pairID; 2 rows regular_..._1 (pairID 0, 1), 1 row irregular_..._1.
const BLIMP_PQ =
  'UEFSMRUGFYIBFYgBXBUGFQAVBhUAFQQVAAAAAwc/8D4YAAAAUGF1bGEgcmVmZXJlbmNlcyBSb2JlcnQuEQAAAFRoZSBtZW4gYXJlIGhlcmUuCgAAAERvZ3MgYmFyay4VBhWAARWGAVwVBhUAFQYVABUEFQAAAAMHPvA9FwAAAFBhdWxhIHJlZmVyZW5jZSBSb2JlcnQuEAAAAFRoZSBtZW4gaXMgaGVyZS4LAAAARG9ncyBiYXJrcy4VBhWKAhV4XBUGFQAVBhUAFQQVAAAAAweDAcAnAAAAcmVndWxhcl9wbHVyYWxfc3ViamVjdF92ZXJiX2FncmVlbWVudF8xKQAAAGlymi0AqlgAFQYVIhUmXBUGFQAVBhUAFQQVAAAAAwcPOAEAAAAwAQAAADABAAAAMRUEGVxIBHJvb3QVCAAVDCUCGA1zZW50ZW5jZV9nb29kJQAAFQwlAhgMc2VudGVuY2VfYmFkJQAAFQwlAhgDVUlEJQAAFQwlAhgGcGFpcklEJQAAFgYZHBlMJggcFQwZFQAZGA1zZW50ZW5jZV9nb29kFQIWBhawARa2ASYIPDYAKBBUaGUgbWVuIGFyZSBoZXJmGApEb2dzIGJhcmsuEgAZHBUGFQAVAgAAACa+ARwVDBkVABkYDHNlbnRlbmNlX2JhZBUCFgYWrgEWtAEmvgE8NgAoEFRoZSBtZW4gaXMgaGVyZS4YC0RvZ3MgYmFya3MuABkcFQYVABUCAAAAJvICHBUMGRUAGRgDVUlEFQIWBha2AhakASbyAjw2ACgQcmVndWxhcl9wbHVyYWxfdBgQaXJyZWd1bGFyX3BsdXJhbBISABkcFQYVABUCAAAAJpYEHBUMGRUAGRgGcGFpcklEFQIWBhZMFlAmlgQ8NgAoATEYATAAGRwVBhUAFQIAAAAW4AUWBjbeBAAoCWh5cGFycXVldBlMHAAAHAAAHAAAHAAAAKQBAABQQVIx';
function writeTmp(name: string, b64: string): string {
  const f = path.join(tmp, name);
  fs.writeFileSync(f, Buffer.from(b64, 'base64'));
  return f;
}

// ---------------------------------------------------------------- shared data identity

test('shared/ data and tokenizers match data/shared-data.json (the files these tests were validated on)', () => {
  const manifest = JSON.parse(fs.readFileSync(path.resolve(__dirname, '../data/shared-data.json'), 'utf8'));
  for (const [rel, sha] of Object.entries(manifest.files as Record<string, string>)) {
    const got = createHash('sha256')
      .update(fs.readFileSync(path.join(SHARED, rel)))
      .digest('hex');
    assert.equal(got, sha, `${rel} differs from the manifest`);
  }
  assert.equal(blimpParadigms(BLIMP).length, manifest.blimpParadigms);
});

// ---------------------------------------------------------------- WikiText

test('filter: length bounds are strict, in code points, after a Python-style strip', () => {
  const dots = (n: number) => 'x'.repeat(n - 1) + '.';
  assert.deepEqual(filterWikitextLines([dots(30), dots(31), dots(299), dots(300)]), [dots(31), dots(299)]);
  assert.deepEqual(filterWikitextLines(['  ' + dots(31) + ' \n']), [dots(31)]);
  // 20 astral characters: 290 code points but 310 UTF-16 units -> kept, as by Python's len
  const astral = '😀'.repeat(20) + dots(270);
  assert.equal(astral.length, 310);
  assert.deepEqual(filterWikitextLines([astral]), [astral]);
  // Python strips \x1c (JS trim does not) and keeps \ufeff (JS trim strips it)
  assert.equal(pyStrip('\x1c\x85 a \u3000'), 'a');
  assert.equal(pyStrip('\ufeffa'), '\ufeffa');
  assert.deepEqual(filterWikitextLines(['\x1c' + dots(30)]), []);
  assert.deepEqual(filterWikitextLines(['\ufeff' + dots(30)]), ['\ufeff' + dots(30)]);
});

test('filter: headings and lines without a full stop are dropped; max stops early', () => {
  const ok = 'A sentence that is long enough to be kept .';
  assert.deepEqual(
    filterWikitextLines([' = A heading that is long enough . = ', 'no full stop in this long line at all', ok]),
    [ok],
  );
  assert.deepEqual(filterWikitextLines([ok + ' 1', ok + ' 2', ok + ' 3'], { max: 2 }), [ok + ' 1', ok + ' 2']);
  assert.deepEqual(filterWikitextLines(['short .', ok], { minLen: 3, maxLen: 10 }), ['short .']);
});

test('loadWikitext: the 281-sentence set of §1.5.1', async () => {
  const s = await loadWikitext({ file: WIKI });
  assert.equal(s.length, 281);
  assert.ok(s[0].startsWith("Du Fu 's mother died shortly after he was born"));
  assert.ok(s[1].startsWith('Brooding on what I have lived through'));
  assert.ok(s[2].startsWith('I am about to scream madly in the office'));
  assert.equal((await loadWikitext({ file: WIKI, max: 3 })).length, 3);
});

test('loadWikitext: empty filtered set, missing file and bad source are clear errors', async () => {
  const f = path.join(tmp, 'headings.raw');
  fs.writeFileSync(f, ' = Heading = \n\n = = Sub = = \n');
  await assert.rejects(loadWikitext({ file: f }), /no line passes the WikiText filter \(4 rows read\)/);
  await assert.rejects(loadWikitext({ file: path.join(tmp, 'nope.raw') }), /wikitext file not found/);
  await assert.rejects(loadWikitext({}), /exactly one of file or parquet/);
});

test('parquet: rows, column selection and errors', async () => {
  const f = writeTmp('wiki.parquet', WIKI_PQ);
  const rows = await readParquetRows(f);
  assert.equal(rows.length, 8);
  assert.deepEqual(rows[1], { text: ' = Robert Boulter = \n', id: 1 });
  assert.deepEqual(Object.keys((await readParquetRows(f, ['id']))[0]), ['id']);
  await assert.rejects(readParquetRows(f, ['sentence']), /no column\(s\) sentence \(has: text, id\)/);
  await assert.rejects(readParquetRows(WIKI), /not a readable parquet file/);
  assert.deepEqual(await loadWikitext({ parquet: f }), [
    'Robert Boulter is an English film , television and theatre actor .',
    'In 2006 , Boulter starred alongside Whishaw in the play Citizenship .',
  ]);
});

// ---------------------------------------------------------------- tokenizers

test('tokenizer: Pythia has no BOS, "The quick brown fox" is 4 tokens', async () => {
  const t = await loadTokenizer(path.join(MODELS, 'pythia-tokenizer'));
  assert.equal(t.bos, null);
  assert.deepEqual(t.encode('The quick brown fox'), [510, 3158, 8516, 30013]);
  assert.deepEqual(t.encode('The quick brown fox', { maxLength: 2 }), [510, 3158]);
  assert.equal(t.decode([510, 3158, 8516, 30013]), 'The quick brown fox');
  assert.equal(t.vocabSize, 50277); // the model's embedding is padded to 50304
});

test('tokenizer: GPT-2 has no BOS; stories260k (Llama) prepends <s>=1, kept under truncation', async () => {
  const g = await loadTokenizer(path.join(MODELS, 'gpt2-tokenizer'));
  assert.equal(g.bos, null);
  assert.deepEqual(g.encode('The quick brown fox'), [464, 2068, 7586, 21831]);
  const l = await loadTokenizer(path.join(MODELS, 'stories260k-hf'));
  assert.equal(l.bos, 1);
  assert.equal(l.vocabSize, 512);
  const ids = l.encode('The quick brown fox');
  assert.equal(ids[0], 1);
  assert.ok(ids.length > 5);
  assert.deepEqual(l.encode('The quick brown fox', { maxLength: 4 }), ids.slice(0, 4));
  assert.equal(l.decode(ids, { skipSpecialTokens: true }), 'The quick brown fox');
  assert.throws(() => l.encode('x', { maxLength: 1 }), /leaves no room/);
});

test('tokenizer: BOS comes from the post-processor, not the model name (OPT-style </s> prefix)', async () => {
  const dir = path.join(tmp, 'gpt2-with-bos');
  fs.mkdirSync(dir);
  const j = JSON.parse(fs.readFileSync(path.join(MODELS, 'gpt2-tokenizer/tokenizer.json'), 'utf8'));
  const eos = { id: '<|endoftext|>', ids: [50256], tokens: ['<|endoftext|>'] };
  j.post_processor = {
    type: 'TemplateProcessing',
    single: [{ SpecialToken: { id: '<|endoftext|>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
    pair: [
      { SpecialToken: { id: '<|endoftext|>', type_id: 0 } },
      { Sequence: { id: 'A', type_id: 0 } },
      { Sequence: { id: 'B', type_id: 1 } },
    ],
    special_tokens: { '<|endoftext|>': eos },
  };
  fs.writeFileSync(path.join(dir, 'tokenizer.json'), JSON.stringify(j));
  fs.copyFileSync(path.join(MODELS, 'gpt2-tokenizer/tokenizer_config.json'), path.join(dir, 'tokenizer_config.json'));
  const t = await loadTokenizer(dir);
  assert.equal(t.bos, 50256);
  assert.deepEqual(t.encode('The quick brown fox'), [50256, 464, 2068, 7586, 21831]);
  assert.deepEqual(t.encode('The quick brown fox', { maxLength: 3 }), [50256, 464, 2068]);
});

test("tokenizer: our encode equals the tokenizer's own add_special_tokens encoding on all 281 lines", async () => {
  const { AutoTokenizer } = require('@huggingface/transformers');
  const sentences = await loadWikitext({ file: WIKI });
  for (const name of ['pythia-tokenizer', 'stories260k-hf']) {
    const dir = path.join(MODELS, name);
    const ours = await loadTokenizer(dir);
    const theirs = await AutoTokenizer.from_pretrained(dir);
    for (const s of sentences) assert.deepEqual(ours.encode(s), theirs.encode(s), `${name}: ${s.slice(0, 40)}`);
  }
});

test('tokenizer: a missing directory or id is a one-line error', async () => {
  await assert.rejects(loadTokenizer(tmp), /has no tokenizer.json/);
  await assert.rejects(
    loadTokenizer('no-such/model-id'),
    /cannot load tokenizer 'no-such\/model-id' \(not a directory/,
  );
});

test('wikitextStats and `dirmag data wikitext`: Pythia, truncation 64 -> min 10, max 64, mean 42.6, 30 truncated', async () => {
  const s = await wikitextStats(WIKI, path.join(MODELS, 'pythia-tokenizer'), 64);
  assert.deepEqual(
    { ...s, tokensMean: Number(s.tokensMean.toFixed(1)) },
    {
      sentences: 281,
      tokensMin: 10,
      tokensMax: 64,
      tokensMean: 42.6,
      truncated: 30,
      distinctLengths: 55,
      bos: null,
    },
  );
  let out = '';
  const write = process.stdout.write;
  process.stdout.write = ((chunk: string) => ((out += chunk), true)) as typeof process.stdout.write;
  let rc: number;
  try {
    rc = await runDataCli([
      'wikitext',
      '--file',
      WIKI,
      '--tokenizer',
      path.join(MODELS, 'pythia-tokenizer'),
      '--max-length',
      '64',
    ]);
  } finally {
    process.stdout.write = write;
  }
  assert.equal(rc, 0);
  const lines = out.trimEnd().split('\n');
  assert.equal(lines[lines.length - 1], 'sentences=281 tokens_min=10 tokens_max=64 tokens_mean=42.6');
  await assert.rejects(runDataCli(['wikitext', '--file', WIKI]), /--file and --tokenizer are required/);
  await assert.rejects(
    runDataCli(['wikitext', '--file', WIKI, '--tokenizer', 'x', '--max-length', '0']),
    /--max-length must be a positive integer/,
  );
});

// ---------------------------------------------------------------- hand-written sentences

test('E12 sentences: 10 quoted sentences, list repeated 8x, first 50 = 5 copies of each', () => {
  assert.equal(E12_SENTENCES.length, 10);
  assert.equal(E12_SENTENCES[0], 'The cat sat on the mat.');
  assert.equal(E12_SENTENCES[9], 'Climate change poses serious environmental challenges.');
  const s = e12Sentences();
  assert.equal(s.length, 50);
  for (let i = 0; i < 50; i++) assert.equal(s[i], E12_SENTENCES[i % 10]);
  for (const x of E12_SENTENCES) assert.equal(s.filter((y) => y === x).length, 5);
  assert.deepEqual(repeatAndTake(['a', 'b', 'c'], 2, 4), ['a', 'b', 'c', 'a']);
  assert.throws(() => repeatAndTake(['a'], 2, 3), /exceeds/);
  assert.deepEqual(handWrittenSentences('E12'), s);
});

test('E13 and Zephyr sentences are not invented', () => {
  assert.throws(() => handWrittenSentences('E13'), /not quote the sentences, so they are not available/);
  assert.throws(() => handWrittenSentences('Zephyr'), /not available/);
});

// ---------------------------------------------------------------- BLiMP

const REG = 'regular_plural_subject_verb_agreement_1';
const IRR = 'irregular_plural_subject_verb_agreement_1';

test('BLiMP: a paradigm loads as {good, bad, uid, pairId} in file order', async () => {
  assert.equal(blimpParadigms(BLIMP).length, 67);
  const items = await loadBlimpParadigm(REG, { dir: BLIMP });
  assert.equal(items.length, 1000);
  assert.deepEqual(items[0], {
    good: 'Paula references Robert.',
    bad: 'Paula reference Robert.',
    uid: REG,
    pairId: '0',
  });
  assert.equal(items[999].pairId, '999');
  // no dir given: $DIRMAG_BLIMP_DIR (test/test-data.ts sets it; without it the hub's nyu-mll/blimp)
  assert.deepEqual((await loadBlimpParadigm(REG))[0], items[0]);
});

test('BLiMP: unknown paradigm names the close ones', async () => {
  await assert.rejects(
    loadBlimpParadigm('irregular_plural_subject_verb_agreement', { dir: BLIMP }),
    /unknown BLiMP paradigm .*did you mean: irregular_plural_subject_verb_agreement_1, irregular_plural_subject_verb_agreement_2/,
  );
  await assert.rejects(
    loadBlimpParadigm('regular_plural_subject_verb_agrement_1', { dir: BLIMP }),
    /did you mean: regular_plural_subject_verb_agreement_1/,
  );
  await assert.rejects(loadBlimpParadigm('zzz', { dir: BLIMP }), /none close/);
});

test('BLiMP: parquet source filters by UID', async () => {
  const f = writeTmp('blimp.parquet', BLIMP_PQ);
  assert.deepEqual(await loadBlimpParadigm(REG, { parquet: f }), [
    { good: 'Paula references Robert.', bad: 'Paula reference Robert.', uid: REG, pairId: '0' },
    { good: 'Dogs bark.', bad: 'Dogs barks.', uid: REG, pairId: '1' },
  ]);
  await assert.rejects(
    loadBlimpParadigm('regular_plural_subject_verb_agreement_2', { parquet: f }),
    /did you mean: regular_plural_subject_verb_agreement_1/,
  );
});

test('BLiMP pools: 100+100, first 200 of the concatenation, interleaved', async () => {
  const [irr, reg] = [await loadBlimpParadigm(IRR, { dir: BLIMP }), await loadBlimpParadigm(REG, { dir: BLIMP })];
  const both = await blimpPool([IRR, REG], { mode: 'concat', perParadigm: 100, dir: BLIMP });
  assert.equal(both.length, 200);
  assert.deepEqual(both, [...irr.slice(0, 100), ...reg.slice(0, 100)]);
  const first = await blimpPool([IRR, REG], { mode: 'concat', total: 200, dir: BLIMP });
  assert.deepEqual(first, irr.slice(0, 200));
  const inter = await blimpPool([IRR, REG], { mode: 'interleave', perParadigm: 100, dir: BLIMP });
  assert.equal(inter.length, 200);
  assert.deepEqual(inter.slice(0, 4), [irr[0], reg[0], irr[1], reg[1]]);
  assert.deepEqual(new Set(inter), new Set(both));
  assert.equal((await blimpPool([IRR, REG], { mode: 'interleave', dir: BLIMP })).length, 200);
  assert.throws(
    () => poolItems([irr.slice(0, 50), reg], { mode: 'interleave', perParadigm: 100 }),
    /has 50 items, fewer than perParadigm 100/,
  );
  assert.throws(() => poolItems([irr.slice(0, 150)], { mode: 'concat' }), /only 150 items available, total 200/);
  assert.throws(() => poolItems([irr], { mode: 'shuffle' as 'concat' }), /mode must be/);
});
