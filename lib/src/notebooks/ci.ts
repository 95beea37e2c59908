/**
 * The small-model settings notebooks run with in CI (`npm test`, `dirmag notebooks --ci`): every
 * notebook defaults to the published model, and CI points it at a small checkpoint instead. A
 * notebook names its CI model in its metadata, `"dirmag": {"ci_model": "tiny:opt"}` (a shared HF
 * fixture of that architecture with the stories tokenizer); the default is stories260k (a small
 * pretrained Llama with its own tokenizer).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BLIMP_DIR_ENV } from '../data';
import { WIKITEXT_ENV } from '../experiments/runs';
import { TEST_DATA_ENV, testDataDir, tinyCheckpoint } from '../experiments/tiny';

/** `dataDir`: the test-data folder (models/, fixtures/hf, data/wikitext-2-raw, data/blimp); default $DIRMAG_TEST_DATA. */
export function ciModel(nbPath: string, dataDir = testDataDir()): string {
  const meta = JSON.parse(fs.readFileSync(nbPath, 'utf8')).metadata?.dirmag ?? {};
  const spec: string = meta.ci_model ?? 'stories';
  if (spec === 'stories') return path.join(dataDir, 'models/stories260k-hf');
  if (spec.startsWith('tiny:')) return tinyCheckpoint(spec.slice(5), dataDir);
  throw new Error(`${nbPath}: metadata dirmag.ci_model must be 'stories' or 'tiny:<fixture case>', got '${spec}'`);
}

/**
 * Environment for one notebook's CI run; outputs go under `outRoot` instead of the repo, models and
 * datasets come from the test-data folder instead of the hub.
 */
export function ciEnvironment(nbPath: string, outRoot: string, dataDir = testDataDir()): Record<string, string> {
  return {
    DIRMAG_MODEL: ciModel(nbPath, dataDir),
    [TEST_DATA_ENV]: dataDir,
    [WIKITEXT_ENV]: path.join(dataDir, 'data/wikitext-2-raw/wiki.test.raw'),
    [BLIMP_DIR_ENV]: path.join(dataDir, 'data/blimp'),
    DIRMAG_QUICK: '1',
    DIRMAG_PROGRESS: '0',
    DIRMAG_RESULTS: path.join(outRoot, 'results'),
    DIRMAG_FIGURES: path.join(outRoot, 'figures'),
    DIRMAG_TABLES: path.join(outRoot, 'tables'),
  };
}
