/**
 * The small-model settings notebooks run with in CI (`npm test`, `dirmag notebooks --ci`): every
 * notebook defaults to the published model, and CI points it at a small checkpoint instead. A
 * notebook names its CI model in its metadata, `"dirmag": {"ci_model": "tiny:opt"}` (a shared HF
 * fixture of that architecture with the stories tokenizer); the default is stories260k (a small
 * pretrained Llama with its own tokenizer).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { sharedDir } from '../data';
import { tinyCheckpoint } from '../experiments/tiny';

export function ciModel(nbPath: string): string {
  const meta = JSON.parse(fs.readFileSync(nbPath, 'utf8')).metadata?.dirmag ?? {};
  const spec: string = meta.ci_model ?? 'stories';
  if (spec === 'stories') return path.join(sharedDir(), 'models/stories260k-hf');
  if (spec.startsWith('tiny:')) return tinyCheckpoint(spec.slice(5));
  throw new Error(`${nbPath}: metadata dirmag.ci_model must be 'stories' or 'tiny:<fixture case>', got '${spec}'`);
}

/** Environment for one notebook's CI run; outputs go under `outRoot` instead of the repo. */
export function ciEnvironment(nbPath: string, outRoot: string): Record<string, string> {
  return {
    DIRMAG_MODEL: ciModel(nbPath),
    DIRMAG_QUICK: '1',
    DIRMAG_PROGRESS: '0',
    DIRMAG_RESULTS: path.join(outRoot, 'results'),
    DIRMAG_FIGURES: path.join(outRoot, 'figures'),
    DIRMAG_TABLES: path.join(outRoot, 'tables'),
  };
}
