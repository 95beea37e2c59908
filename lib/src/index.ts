/** dirmag: direction vs magnitude in transformer hidden states. */
export * from './engine/types';
export { Model, RunError, type LoadOptions, type Provider } from './engine/model';
export { loadModel, modelName, type LoadModelOptions } from './engine/load';
export { PlanError, closest } from './engine/compile';
export { verifyGolden, GOLDEN_TOLERANCE, type GoldenRow } from './engine/golden';
export { streamId, normals, signs, philox } from './engine/rng';
export { parseConfig, ConfigError } from './models/config';
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
