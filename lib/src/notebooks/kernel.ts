/**
 * The tslab kernel spec, written into a project-local Jupyter data dir (`<repo>/.jupyter`).
 *
 * `tslab install` needs IPython and writes into a global registry; we write the same kernel.json
 * ourselves (see node_modules/tslab/python/install.py) and point Jupyter at it with JUPYTER_PATH.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { findRepoRoot } from '../util/paths';
import { NODE_FLAGS, RUNTIME_ENV } from '../util/runtime';

export const KERNEL_NAME = 'tslab';

export interface KernelSpec {
  argv: string[];
  display_name: string;
  language: string;
  /** set in the kernel's environment by Jupyter */
  env: Record<string, string>;
}

/** The Jupyter data dir the project uses (prepended to JUPYTER_PATH). */
export function jupyterDataDir(repoRoot: string): string {
  return path.join(repoRoot, '.jupyter');
}

/** Absolute path of tslab's launcher script as installed in the repo's node_modules. */
export function tslabBin(repoRoot: string): string {
  let pkg: string;
  try {
    pkg = require.resolve('tslab/package.json', { paths: [repoRoot] });
  } catch {
    throw new Error(`tslab is not installed under ${repoRoot} (run \`npm ci\` or \`npm install\` there)`);
  }
  return path.join(path.dirname(pkg), 'bin', 'tslab');
}

/** The kernel.json content: the same as `tslab install` writes for TypeScript, with node made explicit. */
export function kernelSpec(repoRoot: string, node: string = process.execPath): KernelSpec {
  return {
    // Running the launcher through this node (not its `#!/usr/bin/env node` line) keeps the kernel
    // on the same Node as the CLI, whatever PATH Jupyter was started with.
    argv: [node, ...NODE_FLAGS, tslabBin(repoRoot), 'kernel', '--config-path', '{connection_file}'],
    display_name: 'TypeScript (tslab)',
    language: 'typescript',
    // read at start only (util/runtime.ts), as NODE_FLAGS
    env: { ...RUNTIME_ENV },
  };
}

/**
 * Writes `<repo>/.jupyter/kernels/tslab/kernel.json`. Idempotent: rewrites only when the content changes.
 * Returns the file path and whether it was (re)written.
 */
export function writeKernelSpec(repoRoot: string = findRepoRoot()): { path: string; changed: boolean } {
  const dir = path.join(jupyterDataDir(repoRoot), 'kernels', KERNEL_NAME);
  const file = path.join(dir, 'kernel.json');
  const text = `${JSON.stringify(kernelSpec(repoRoot), null, 2)}\n`;
  if (fs.existsSync(file) && fs.readFileSync(file, 'utf8') === text) return { path: file, changed: false };
  fs.mkdirSync(dir, { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, text);
  fs.renameSync(tmp, file);
  return { path: file, changed: true };
}
