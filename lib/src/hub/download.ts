/** downloadFile: one hub file into the standard HF cache, reusing whatever is already there. */
import * as fs from 'node:fs';
import { downloadBlob, type Progress } from './blob';
import {
  assertRepoId,
  assertRepoPath,
  blobPath,
  cachedFile,
  knownMissing,
  linkSnapshot,
  markMissing,
  repoCacheDir,
  snapshotPath,
  writeRef,
  type RepoType,
} from './cache';
import { hubEndpoint, isOffline } from './env';
import { HubError, isHubError } from './errors';
import { isNetworkError } from './http';
import { EntryNotFound, fetchMetadata } from './metadata';
import { resolveUrl } from './urls';
import { downloadCommand } from './fetch-hint';

export interface DownloadOptions {
  /** `org/name` or `name`. */
  repo: string;
  /** Path inside the repo, subfolders allowed (`a/b.parquet`). */
  file: string;
  /** Branch, tag or commit hash; default 'main'. */
  revision?: string;
  repoType?: RepoType;
  /** Called as bytes arrive (only when something is actually downloaded). */
  onProgress?: Progress;
  /** Ask the hub even when the revision is already cached (to follow a moved branch). */
  refresh?: boolean;
}

export interface DownloadResult {
  /** snapshots/<commit>/<file> inside the cache. */
  path: string;
  commit: string;
  etag: string;
}

/**
 * Returns the cached file when refs/<revision> → snapshot has it (no request at all); otherwise
 * HEADs the hub for commit/etag/size and downloads the blob. Offline or with the hub unreachable it
 * answers from the cache alone or throws a one-line HubError naming the missing file.
 */
export async function downloadFile(opts: DownloadOptions): Promise<DownloadResult> {
  const { repo, file, revision = 'main', repoType = 'model', onProgress, refresh = false } = opts;
  assertRepoId(repo);
  assertRepoPath('file', file);
  assertRepoPath('revision', revision);
  const repoDir = repoCacheDir(repo, repoType);
  const label = `${repoType === 'dataset' ? 'dataset ' : ''}${repo}/${file}@${revision}`;

  if (!refresh) {
    const hit = fromCache(repoDir, revision, file, label);
    if (hit) return hit;
  }
  if (isOffline()) {
    return (
      fromCache(repoDir, revision, file, label) ??
      fail(
        'offline',
        `${label} is not in the cache (${repoDir}) and HF_HUB_OFFLINE is set; fetch it where the hub is reachable with: ${downloadCommand(repo, repoType, revision)}`,
      )
    );
  }

  let meta;
  try {
    meta = await fetchMetadata(resolveUrl(repo, repoType, revision, file), label);
  } catch (e) {
    if (e instanceof EntryNotFound && e.commit) {
      writeRef(repoDir, revision, e.commit); // as huggingface_hub: remember the commit and the absence
      markMissing(repoDir, e.commit, file);
    }
    if (!isNetworkError(e) && !isHubError(e, 'unreachable')) throw e;
    const why = isNetworkError(e) ? (e as NodeJS.ErrnoException).code : (e as Error).message;
    return (
      fromCache(repoDir, revision, file, label) ??
      fail(
        'unreachable',
        `${label} is not in the cache (${repoDir}) and the hub ${hubEndpoint()} is unreachable (${why})`,
      )
    );
  }

  writeRef(repoDir, revision, meta.commit);
  const pointer = snapshotPath(repoDir, meta.commit, file);
  const blob = blobPath(repoDir, meta.etag);
  if (!fs.existsSync(blob)) {
    fs.mkdirSync(blobPath(repoDir, ''), { recursive: true });
    await downloadBlob(meta, blob, label, onProgress);
  }
  if (!fs.existsSync(pointer)) linkSnapshot(blob, pointer);
  return { path: pointer, commit: meta.commit, etag: meta.etag };
}

/** The cached answer: the file, a remembered "does not exist", or null when the cache cannot tell. */
function fromCache(repoDir: string, revision: string, file: string, label: string): DownloadResult | null {
  const hit = cachedFile(repoDir, revision, file);
  if (hit) return hit;
  if (knownMissing(repoDir, revision, file)) fail('not_found', `${label} not found on the hub (cached answer)`);
  return null;
}

function fail(code: 'offline' | 'unreachable' | 'not_found', message: string): never {
  throw new HubError(code, message);
}
