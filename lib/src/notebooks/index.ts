/** Headless execution of the project's tslab notebooks (nbconvert + a project-local kernel spec). */
export { jupyterDataDir, kernelSpec, KERNEL_NAME, tslabBin, writeKernelSpec } from './kernel';
export { findRepoRoot } from '../util/paths';
export type { KernelSpec } from './kernel';
export { findJupyter, JUPYTER_MISSING } from './jupyter';
export type { JupyterCommand } from './jupyter';
export {
  DEFAULT_TIMEOUT_SEC,
  executeAll,
  executeNotebook,
  extractError,
  jupyterEnv,
  listNotebooks,
  notebookOutputText,
  selectNotebooks,
  stripAnsi,
  summarizeError,
  writeNbconvertConfig,
} from './execute';
export type { ExecuteAllOptions, ExecuteOptions, ExecuteResult, NotebookRun } from './execute';
export { ciEnvironment, ciModel } from './ci';
