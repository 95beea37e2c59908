/**
 * The mechanism experiments (issue 7): E3 attention entropy, E4 attention repair, E5 per-head
 * entropy and top-k repair, E6 layer-set control, E7 Q·K alignment, E9 pathway decomposition,
 * E11 LayerNorm pathway, and Figure 2 — each as run/summarize functions over a Study.
 */
export * from './common';
export * from './published';
export * from './e3-entropy';
export * from './e4-repair';
export * from './e5-e6-layers';
export * from './e7-qk';
export * from './e9-e11-pathways';
export * from './figure2';
export * from './tables';
