/**
 * Tiny checkpoints for CI runs of per-architecture notebooks: a shared HF fixture (random weights,
 * vocab 512) paired with the stories260k tokenizer (also 512 tokens), assembled from symlinks —
 * nothing is copied.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { sharedDir } from '../data';
import { repoRoot } from '../util/paths';

export const TINY_CASES = [
  'gpt_neox_parallel',
  'gpt_neox_sequential',
  'gpt_neox_parallel_fp16',
  'llama_gqa',
  'llama_bf16',
  'opt',
  'gpt2',
] as const;

export function tinyCheckpoint(fixtureCase: string): string {
  const fixture = path.join(sharedDir(), 'fixtures/hf', fixtureCase);
  if (!fs.existsSync(path.join(fixture, 'config.json')))
    throw new Error(`no fixture '${fixtureCase}' in ${path.dirname(fixture)}`);
  const tok = path.join(sharedDir(), 'models/stories260k-hf');
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
