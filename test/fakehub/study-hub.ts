/**
 * The hub a study run needs, as huggingface.co lays it out, from the test data (`shared`, the
 * sibling folder of test fixtures): EleutherAI/pythia-410m (real config.json and tokenizer; weights
 * only when `weights` names a safetensors file), Salesforce/wikitext (test split as parquet) and
 * nyu-mll/blimp (all 67 paradigms as parquet). Only this fake hub reads the test data.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { FakeHub } from './server';
import { writeParquet } from './parquet';
import { PYTHIA_410M_CONFIG } from './pythia410m';

export const PYTHIA_410M = 'EleutherAI/pythia-410m';

/** WikiText test split as the hub's parquet: one row per line of the raw file, newline kept. */
function wikitextParquet(shared: string): Buffer {
  const lines = fs.readFileSync(path.join(shared, 'data/wikitext-2-raw/wiki.test.raw'), 'utf8').split('\n');
  const rows = lines.slice(0, -1).map((l) => `${l}\n`);
  return writeParquet([{ name: 'text', type: 'string', values: rows }]);
}

/** One BLiMP paradigm as the hub's parquet (the jsonl fields; `pairID` becomes the int32 `pair_id`). */
function blimpParquet(file: string): Buffer {
  const rows = fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l));
  const str = (k: string) => ({ name: k, type: 'string' as const, values: rows.map((r) => String(r[k])) });
  const bool = (k: string) => ({ name: k, type: 'boolean' as const, values: rows.map((r) => !!r[k]) });
  return writeParquet([
    str('sentence_good'),
    str('sentence_bad'),
    str('field'),
    str('linguistics_term'),
    str('UID'),
    bool('simple_LM_method'),
    bool('one_prefix_method'),
    bool('two_prefix_method'),
    bool('lexically_identical'),
    { name: 'pair_id', type: 'int32', values: rows.map((r) => Number(r.pairID)) },
  ]);
}

/** A started FakeHub serving the study's model (tokenizer + config, and `weights` if given) and data. */
export async function studyHub(shared: string, weights?: string): Promise<FakeHub> {
  const hub = new FakeHub();
  const tok = path.join(shared, 'models/pythia-tokenizer');
  const files: Record<string, Buffer> = {
    'config.json': Buffer.from(JSON.stringify(PYTHIA_410M_CONFIG, null, 2) + '\n'),
  };
  for (const f of fs.readdirSync(tok)) files[f] = fs.readFileSync(path.join(tok, f));
  hub.add('model', PYTHIA_410M, files);
  if (weights) await hub.addDisk('model', PYTHIA_410M, 'model.safetensors', weights);
  hub.add('dataset', 'Salesforce/wikitext', {
    'wikitext-103-raw-v1/test-00000-of-00001.parquet': wikitextParquet(shared),
  });
  const blimp: Record<string, Buffer> = {};
  const dir = path.join(shared, 'data/blimp');
  for (const f of fs.readdirSync(dir).filter((f) => f.endsWith('.jsonl')))
    blimp[`${f.slice(0, -6)}/train-00000-of-00001.parquet`] = blimpParquet(path.join(dir, f));
  hub.add('dataset', 'nyu-mll/blimp', blimp);
  await hub.start();
  return hub;
}
