/**
 * The huggingface_hub cache layout, so caches are shared with Python:
 *   <cache>/models--org--name/blobs/<etag>                      file contents
 *   <cache>/models--org--name/snapshots/<commit>/<file>         relative symlink to the blob
 *   <cache>/models--org--name/refs/<revision>                   the commit hash of a branch/tag
 *   <cache>/models--org--name/.no_exist/<commit>/<file>         empty: the file is known not to exist
 * Datasets use `datasets--org--name`.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { hfCacheDir } from './env';
import { HubError } from './errors';

export type RepoType = 'model' | 'dataset';

export const isCommitHash = (s: string): boolean => /^[0-9a-f]{40}$/.test(s);
export const isSha256 = (s: string): boolean => /^[0-9a-f]{64}$/.test(s);

const REPO_ID = /^(?:\w(?:[\w.-]*\w)?\/)?\w(?:[\w.-]*\w)?$/;

/** True for `name` or `org/name` as the hub accepts them (no `--`, `..`, at most 96 chars). */
export function isValidRepoId(repo: string): boolean {
  return (
    REPO_ID.test(repo) && !repo.includes('--') && !repo.includes('..') && repo.length <= 96 && !repo.endsWith('.git')
  );
}

export function assertRepoId(repo: string): void {
  if (!isValidRepoId(repo))
    throw new HubError('invalid', `invalid hub repo id '${repo}' (expected 'org/name' or 'name')`);
}

/** A path inside the repo: relative, '/'-separated, no '.', '..' or empty segments. */
export function assertRepoPath(what: 'file' | 'revision', p: string): void {
  const segs = p.split('/');
  if (!p || p.includes('\\') || p.includes('\0') || segs.some((s) => s === '' || s === '.' || s === '..')) {
    throw new HubError('invalid', `invalid ${what} '${p}' (must be a relative '/'-separated path)`);
  }
}

export function repoFolderName(repo: string, repoType: RepoType): string {
  return [`${repoType}s`, ...repo.split('/')].join('--');
}

export function repoCacheDir(repo: string, repoType: RepoType, cacheDir = hfCacheDir()): string {
  return path.join(cacheDir, repoFolderName(repo, repoType));
}

export const blobPath = (repoDir: string, etag: string): string => path.join(repoDir, 'blobs', etag);
export const snapshotDir = (repoDir: string, commit: string): string => path.join(repoDir, 'snapshots', commit);
export const snapshotPath = (repoDir: string, commit: string, file: string): string =>
  path.join(snapshotDir(repoDir, commit), ...file.split('/'));
export const noExistPath = (repoDir: string, commit: string, file: string): string =>
  path.join(repoDir, '.no_exist', commit, ...file.split('/'));

/** The commit a revision points to in the cache: refs/<revision>, or the revision if it is a hash. */
export function resolveRevision(repoDir: string, revision: string): string | null {
  try {
    const ref = fs.readFileSync(path.join(repoDir, 'refs', ...revision.split('/')), 'utf8').trim();
    if (isCommitHash(ref)) return ref;
  } catch {
    /* no ref file */
  }
  return isCommitHash(revision) ? revision : null;
}

export function writeRef(repoDir: string, revision: string, commit: string): void {
  if (revision === commit) return; // huggingface_hub writes no ref for a commit hash
  const ref = path.join(repoDir, 'refs', ...revision.split('/'));
  if (fs.existsSync(ref) && fs.readFileSync(ref, 'utf8').trim() === commit) return;
  fs.mkdirSync(path.dirname(ref), { recursive: true });
  fs.writeFileSync(ref, commit);
}

export interface CachedFile {
  path: string;
  commit: string;
  /** The blob name the snapshot links to; '' when the snapshot holds a plain copy. */
  etag: string;
}

/** The cached snapshot file for (revision, file) if its content is present, else null. */
export function cachedFile(repoDir: string, revision: string, file: string): CachedFile | null {
  const commit = resolveRevision(repoDir, revision);
  if (!commit) return null;
  const p = snapshotPath(repoDir, commit, file);
  if (!fs.existsSync(p)) return null; // follows the link: a dangling one counts as missing
  const etag = fs.lstatSync(p).isSymbolicLink() ? path.basename(fs.readlinkSync(p)) : '';
  return { path: p, commit, etag };
}

/** True when the hub told us earlier that this file does not exist at this revision. */
export function knownMissing(repoDir: string, revision: string, file: string): boolean {
  const commit = resolveRevision(repoDir, revision);
  return commit !== null && fs.existsSync(noExistPath(repoDir, commit, file));
}

export function markMissing(repoDir: string, commit: string, file: string): void {
  const p = noExistPath(repoDir, commit, file);
  fs.mkdirSync(path.dirname(p), { recursive: true });
  fs.writeFileSync(p, '');
}

/** Points snapshots/<commit>/<file> at the blob with a relative symlink (a copy where links fail). */
export function linkSnapshot(blob: string, pointer: string): void {
  fs.mkdirSync(path.dirname(pointer), { recursive: true });
  fs.rmSync(pointer, { force: true });
  try {
    fs.symlinkSync(path.relative(path.dirname(pointer), blob), pointer);
  } catch (e) {
    if (!['EPERM', 'ENOTSUP', 'EACCES'].includes((e as NodeJS.ErrnoException).code ?? '')) throw e;
    fs.copyFileSync(blob, pointer);
  }
}
