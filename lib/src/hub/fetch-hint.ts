/** The `dirmag download` command that puts a missing file into the cache (named in offline errors). */
import type { RepoType } from './cache';

/** `dirmag download --model ID [--revision R]` for model files, `dirmag download --data` for the datasets. */
export function downloadCommand(repo: string, repoType: RepoType, revision = 'main'): string {
  if (repoType === 'dataset') return 'dirmag download --data';
  return `dirmag download --model ${repo}${revision === 'main' ? '' : ` --revision ${revision}`}`;
}
