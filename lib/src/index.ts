/** dirmag: direction vs magnitude in transformer hidden states. */
export * from './engine/types';
export { Model, type LoadOptions, type Provider } from './engine/model';
export { RunError, PlanError, UnreachableDelta } from './engine/errors';
export { PROVIDERS, parseProvider, probeProvider, providerMissing } from './engine/providers';
export { nodePlacement, formatPlacement, type PlacementReport, type PlacedNode } from './engine/placement';
export { plan, Plan, type PlanShape } from './engine/plan';
export { hooks, parseHook, isHookName, LAYER_SITES, GLOBAL_HOOKS, type HookName, type LayerSite } from './engine/hooks';
export { ActivationCache } from './engine/cache';
export * as interventions from './engine/interventions';
export { loadModel, modelName, type LoadModelOptions } from './engine/load';
export { closest } from './util/closest';
export { verifyGolden, GOLDEN_TOLERANCE, type GoldenRow } from './engine/golden';
export { streamId, normals, signs, philox } from './engine/rng';
export { parseConfig, SUPPORTED_ARCHS, type ArchName } from './models/registry';
export { ConfigError } from './models/config';
export { readSafetensorsHeader, readTensor, SafetensorsError } from './weights/safetensors';
export * as hub from './hub';
export * as data from './data';
export * as results from './results';
export * as stats from './stats';
export * as tables from './tables';
export * as plots from './plots';
export * as experiments from './experiments';
export { Progress } from './util/progress';
export { repoRoot, resultsDir, figuresDir, tablesDir } from './util/paths';
export { perturbTensor } from './engine/perturb-tensor';
export * as report from './report';
export {
  notebookSettings,
  DEVICES,
  type Device,
  type NotebookSettings,
  type SettingsInput,
} from './notebooks/settings';
export { notebookTime, projectNotebook, readBenchCosts, type BenchCost } from './notebooks/timing';
export * as prose from './prose';
