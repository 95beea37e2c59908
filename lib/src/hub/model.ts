/** resolveModel: a local checkpoint directory, or a hub model id fetched into the HF cache. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { isValidRepoId, repoCacheDir, snapshotDir } from './cache';
import { downloadFile } from './download';
import { hubEndpoint } from './env';
import { HubError, isHubError } from './errors';

export interface ResolveModelOptions {
  /** Hub revision (branch, tag or commit); default 'main'. */
  revision?: string;
  onProgress?: (file: string, bytesDone: number, bytesTotal: number) => void;
}

export interface ResolvedModel {
  /** A directory holding config.json, tokenizer files and safetensors weights. */
  dir: string;
  /** The hub commit, or null for a local directory. */
  revision: string | null;
  source: 'local' | 'hub';
}

/** Fetched when present; a 404 (or, offline, a cache miss) is fine. */
export const OPTIONAL_FILES = ['tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json'];

export async function resolveModel(idOrDir: string, opts: ResolveModelOptions = {}): Promise<ResolvedModel> {
  if (fs.existsSync(idOrDir) && fs.statSync(idOrDir).isDirectory()) {
    const dir = path.resolve(idOrDir);
    if (!fs.existsSync(path.join(dir, 'config.json'))) {
      throw new HubError('invalid', `model directory ${dir} has no config.json`);
    }
    return { dir, revision: null, source: 'local' };
  }
  if (!isValidRepoId(idOrDir)) {
    throw new HubError('invalid', `model '${idOrDir}' is neither a directory nor a hub id ('org/name' or 'name')`);
  }
  const repo = idOrDir;
  const get = (file: string, revision = opts.revision ?? 'main') =>
    downloadFile({
      repo,
      file,
      revision,
      onProgress: opts.onProgress && ((done, total) => opts.onProgress!(file, done, total)),
    });

  let commit: string;
  try {
    commit = (await get('config.json')).commit;
  } catch (e) {
    if (isHubError(e, 'not_found', 'repo_not_found')) {
      throw new HubError(
        'not_found',
        `unknown model '${repo}': not found on ${hubEndpoint()} (and not a local directory)`,
      );
    }
    throw e;
  }
  // Pin the rest to the commit config.json came from, so all files belong to one snapshot.
  for (const file of OPTIONAL_FILES) {
    await get(file, commit).catch((e) => {
      if (!isHubError(e, 'not_found', 'offline', 'unreachable')) throw e;
    });
  }
  await getWeights(repo, commit, get);
  return { dir: snapshotDir(repoCacheDir(repo, 'model'), commit), revision: commit, source: 'hub' };
}

/** A tokenizer folder: a local directory as is, or a hub id's tokenizer files only (no weights). */
export async function resolveTokenizer(idOrDir: string, revision = 'main'): Promise<string> {
  if (fs.existsSync(idOrDir) && fs.statSync(idOrDir).isDirectory()) return path.resolve(idOrDir);
  if (!isValidRepoId(idOrDir))
    throw new HubError('invalid', `tokenizer '${idOrDir}' is neither a directory nor a hub id ('org/name' or 'name')`);
  const got = await downloadFile({ repo: idOrDir, file: 'tokenizer.json', revision });
  for (const file of OPTIONAL_FILES.filter((f) => f !== 'tokenizer.json')) {
    await downloadFile({ repo: idOrDir, file, revision: got.commit }).catch((e) => {
      if (!isHubError(e, 'not_found', 'offline', 'unreachable')) throw e;
    });
  }
  return path.dirname(got.path);
}

/** `model.safetensors`, or `model.safetensors.index.json` and every shard in its weight_map. */
async function getWeights(
  repo: string,
  commit: string,
  get: (file: string, revision: string) => Promise<{ path: string }>,
) {
  try {
    await get('model.safetensors', commit);
    return;
  } catch (e) {
    if (!isHubError(e, 'not_found')) throw e;
  }
  let index;
  try {
    index = await get('model.safetensors.index.json', commit);
  } catch (e) {
    if (!isHubError(e, 'not_found')) throw e;
    throw new HubError(
      'not_found',
      `model '${repo}' has no safetensors weights (neither model.safetensors nor model.safetensors.index.json)`,
    );
  }
  const map = (JSON.parse(fs.readFileSync(index.path, 'utf8')) as { weight_map?: Record<string, string> }).weight_map;
  if (!map) throw new HubError('invalid', `${index.path} has no weight_map`);
  for (const shard of [...new Set(Object.values(map))].sort()) await get(shard, commit);
}
