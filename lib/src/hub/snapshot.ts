/** snapshotDownload: several files of one revision into snapshots/<commit>/. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  assertRepoId,
  assertRepoPath,
  repoCacheDir,
  resolveRevision,
  snapshotDir,
  writeRef,
  type RepoType,
} from './cache';
import { downloadFile } from './download';
import { hubEndpoint, isOffline } from './env';
import { HubError } from './errors';
import { header, isNetworkError, readText, requestFollow } from './http';
import { hubOrigin, repoInfoUrl } from './urls';
import { downloadCommand } from './fetch-hint';

export interface SnapshotOptions {
  repo: string;
  revision?: string;
  repoType?: RepoType;
  /** An explicit list, or a filter over the repo's file list (fetched from the model-info API). */
  files: string[] | ((allFiles: string[]) => string[]);
  onProgress?: (file: string, bytesDone: number, bytesTotal: number) => void;
}

export interface SnapshotResult {
  /** snapshots/<commit> inside the cache. */
  dir: string;
  commit: string;
  files: string[];
}

export async function snapshotDownload(opts: SnapshotOptions): Promise<SnapshotResult> {
  const { repo, revision = 'main', repoType = 'model', onProgress } = opts;
  assertRepoId(repo);
  assertRepoPath('revision', revision);
  const repoDir = repoCacheDir(repo, repoType);
  let commit: string | null = null;
  let files: string[];
  if (Array.isArray(opts.files)) {
    files = opts.files;
  } else {
    const listing = await listRepoFiles(repo, repoType, revision);
    commit = listing.commit;
    writeRef(repoDir, revision, commit);
    files = opts.files(listing.files);
  }
  for (const file of files) {
    const progress = onProgress && ((done: number, total: number) => onProgress(file, done, total));
    const got = await downloadFile({ repo, file, revision: commit ?? revision, repoType, onProgress: progress });
    if (commit && got.commit !== commit) {
      throw new HubError(
        'http',
        `${repo}@${revision} moved from ${commit} to ${got.commit} during the download; run again`,
      );
    }
    commit = got.commit;
  }
  commit ??= resolveRevision(repoDir, revision);
  if (!commit) throw new HubError('invalid', `${repo}@${revision}: no files requested and the revision is not cached`);
  return { dir: snapshotDir(repoDir, commit), commit, files };
}

/** The commit and file list of a revision: from the hub API, or from the cache when offline/unreachable. */
export async function listRepoFiles(
  repo: string,
  repoType: RepoType,
  revision: string,
): Promise<{ commit: string; files: string[] }> {
  const label = `${repoType === 'dataset' ? 'dataset ' : ''}${repo}@${revision}`;
  if (isOffline())
    return listCached(
      repo,
      repoType,
      revision,
      `${label} is not in the cache and HF_HUB_OFFLINE is set; fetch it where the hub is reachable with: ${downloadCommand(repo, repoType, revision)}`,
    );
  const url = repoInfoUrl(repo, repoType, revision);
  let res;
  try {
    res = await requestFollow('GET', url, { accept: 'application/json' }, hubOrigin());
  } catch (e) {
    if (!isNetworkError(e)) throw e;
    const why = (e as NodeJS.ErrnoException).code;
    return listCached(
      repo,
      repoType,
      revision,
      `${label} is not in the cache and the hub ${hubEndpoint()} is unreachable (${why})`,
    );
  }
  const body = await readText(res);
  const status = res.statusCode ?? 0;
  if (status === 401 || status === 404) {
    throw new HubError(
      'repo_not_found',
      `${label}: not found on ${hubEndpoint()} (HTTP ${status} ${header(res, 'x-error-code') ?? ''})`.trim(),
    );
  }
  if (status !== 200) throw new HubError('http', `${label}: ${url} answered HTTP ${status}`);
  const info = JSON.parse(body) as { sha?: string; siblings?: { rfilename: string }[] };
  if (!info.sha || !Array.isArray(info.siblings))
    throw new HubError('http', `${label}: ${url} sent no 'sha'/'siblings'`);
  return { commit: info.sha, files: info.siblings.map((s) => s.rfilename) };
}

function listCached(
  repo: string,
  repoType: RepoType,
  revision: string,
  message: string,
): { commit: string; files: string[] } {
  const repoDir = repoCacheDir(repo, repoType);
  const commit = resolveRevision(repoDir, revision);
  const dir = commit && snapshotDir(repoDir, commit);
  if (!commit || !dir || !fs.existsSync(dir)) throw new HubError(isOffline() ? 'offline' : 'unreachable', message);
  const files = (fs.readdirSync(dir, { recursive: true }) as string[])
    .filter((f) => fs.existsSync(path.join(dir, f)) && fs.statSync(path.join(dir, f)).isFile())
    .map((f) => f.split(path.sep).join('/'));
  return { commit, files };
}
