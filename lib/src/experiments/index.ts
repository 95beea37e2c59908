/** The experiments of the study, as functions over a Study (model + tokenizer + results store). */
export * from './study';
export * from './settings';
export * from './runs';
export * from './e1-sweep';
export * from './e1-stats';
export * from './e2-blimp';
export * from './robustness';
export * from './hook-check';
export * from './main-tables';
export * from './figure1-data';
export * from './tiny';
export * as beyond from './beyond';
export * as crossmodel from './crossmodel';
export * as mechanism from './mechanism';
