/** Where results, figures and tables go: env overrides, else beside the repository's package.json. */
import * as fs from 'node:fs';
import * as path from 'node:path';

/** The folder holding the workspace package.json (the repo root), searched upward from cwd. */
export function repoRoot(from = process.cwd()): string | null {
  let dir = path.resolve(from);
  for (;;) {
    const pj = path.join(dir, 'package.json');
    if (fs.existsSync(pj)) {
      try {
        if (JSON.parse(fs.readFileSync(pj, 'utf8')).workspaces) return dir;
      } catch {
        /* not ours */
      }
    }
    const up = path.dirname(dir);
    if (up === dir) return null;
    dir = up;
  }
}

/**
 * The repository this library belongs to (where `data/`, `notebooks/` and `.jupyter/` are), found from
 * the library's own files, so it does not depend on the folder a user runs `dirmag` in.
 */
export function installRoot(): string {
  // lib/{src,dist}/util/ → the repository root
  return repoRoot(__dirname) ?? path.resolve(__dirname, '..', '..', '..');
}

/** The repository root above `start` (e.g. a notebook's folder), else the library's own. */
export function findRepoRoot(start: string = process.cwd()): string {
  return repoRoot(start) ?? installRoot();
}

function under(envVar: string, name: string): string {
  const env = process.env[envVar];
  if (env) return path.resolve(env);
  return path.join(repoRoot() ?? process.cwd(), name);
}

export const resultsDir = (): string => under('DIRMAG_RESULTS', 'results');
export const figuresDir = (): string => under('DIRMAG_FIGURES', 'figures');
export const tablesDir = (): string => under('DIRMAG_TABLES', 'tables');
