/**
 * Cross-model replication (issue 8): registry, runners (E8, E10, E12, E13, Zephyr), memory plan,
 * norm profiles and the TinyLlama reversal investigation, the §4 summary and Figure 3.
 */
export * from './registry';
export * from './memory';
export * from './runners';
export * from './norms';
export * from './summary';
export { writeSyntheticLlama, measureOrtMemory, type SyntheticLlama, type OrtMemoryMeasurement } from './measure';
