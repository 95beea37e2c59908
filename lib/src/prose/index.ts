/** Prose generated from results for the notebooks (question / method / found / limits) and verdict tables. */
export { proseMarkdown, verdictTable, verdictCounts, comparabilityLine, type ExperimentProse } from './experiment';
export { mainRows, sweepProse, blimpProse, figure1Prose, summaryProse, statisticsRows, statisticsProse } from './main';
export { resumeLines, resumeMarkdown } from './resume';
export { claims, claimsTable, claimsProse, type Claim, type ClaimsInput } from './claims';
export {
  mechanismVerdictRows,
  entropyProse,
  repairProse,
  layersProse,
  qkProse,
  figure2Prose,
  layernormProse,
} from './mechanism';
export { cellVerdictRows, cellProse, reversalProse, crossModelRatioRows, crossModelProse } from './crossmodel';
