/** Statistics used by the experiments: descriptives, t-tests, effect sizes, bootstrap, recovery. */
export { mean, std, variance, differences } from './descriptive';
export { ttestPaired, ttestPairedOrNA, ttestInd, ttestIndOrNA, needsMore, type TTestResult } from './ttest';
export { cohenDOriginalIdx6, cohenDPooledPopulation, cohenDPooled, cohenDz } from './effect';
export { bootstrapCI, mulberry32, quantileSorted, type BootstrapOptions, type BootstrapCI } from './bootstrap';
export { twoRegime, type SeedDamages, type RegimeSummary, type TwoRegimeResult } from './regime';
export {
  recoverySeed,
  recoveryPooledBaseline,
  recoveryOfMeans,
  recoveryPerSentence,
  type LossTriple,
  type RecoverySpread,
} from './recovery';
