/**
 * "Beyond" experiments (issue 9): what each component sees through the norms (B1), norm
 * interference with attention argmax targets (B2), and residual geometry of contrastive prompt
 * sets (B3). Functions over a Study with resumable JSONL records, figures and generated prose.
 */
export * from './geometry';
export * from './norm-view';
export * from './interference';
export * from './contrast';
export * from './figures';
export * from './prose';
