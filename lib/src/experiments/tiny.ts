/**
 * Tiny checkpoints for CI runs of per-architecture notebooks: a shared HF fixture (random weights,
 * vocab 512) paired with the stories260k tokenizer (also 512 tokens), assembled from symlinks —
 * nothing is copied.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { repoRoot } from '../util/paths';

/** The env var naming the test-data folder (fixtures/hf/<case>, models/stories260k-hf) tiny checkpoints come from. */
export const TEST_DATA_ENV = 'DIRMAG_TEST_DATA';

/** The test-data folder: `dir`, else $DIRMAG_TEST_DATA; there is no default. */
export function testDataDir(dir = process.env[TEST_DATA_ENV]): string {
  if (!dir)
    throw new Error(
      `CI models come from a test-data folder (models/stories260k-hf, fixtures/hf, data/): pass --test-data DIR to dirmag notebooks --ci, or set ${TEST_DATA_ENV}=DIR`,
    );
  return path.resolve(dir);
}

export const TINY_CASES = [
  'gpt_neox_parallel',
  'gpt_neox_sequential',
  'gpt_neox_parallel_fp16',
  'llama_gqa',
  'llama_bf16',
  'opt',
  'gpt2',
] as const;

export function tinyCheckpoint(fixtureCase: string, dataDir = testDataDir()): string {
  const fixture = path.join(dataDir, 'fixtures/hf', fixtureCase);
  if (!fs.existsSync(path.join(fixture, 'config.json')))
    throw new Error(`no fixture '${fixtureCase}' in ${path.dirname(fixture)}`);
  const tok = path.join(dataDir, 'models/stories260k-hf');
  const dir = path.join(repoRoot() ?? process.cwd(), '.cache/tiny', fixtureCase);
  fs.mkdirSync(dir, { recursive: true });
  const link = (src: string, name: string) => {
    const dst = path.join(dir, name);
    if (!fs.existsSync(dst)) fs.symlinkSync(src, dst);
  };
  link(path.join(fixture, 'config.json'), 'config.json');
  link(path.join(fixture, 'model.safetensors'), 'model.safetensors');
  link(path.join(tok, 'tokenizer.json'), 'tokenizer.json');
  link(path.join(tok, 'tokenizer_config.json'), 'tokenizer_config.json');
  return dir;
}
