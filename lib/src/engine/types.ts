/**
 * The data types of the engine: what a model is, what a plan asks for, what a run returns.
 * Everything above the engine (experiments, notebooks, CLI) talks in these types only.
 */
import type { ArchName } from '../models/registry';
import type { DeviceBatch } from './device-cache';
import type { HookName } from './hooks';

export type { HookName } from './hooks';

/** Architecture facts read from a Hugging Face config.json, normalised across families. */
export interface ModelConfig {
  /** HF `model_type` */
  modelType: ArchName;
  nLayers: number;
  dModel: number;
  nHeads: number;
  /** key/value heads (GQA); equals nHeads without GQA */
  nKvHeads: number;
  headDim: number;
  dMlp: number;
  vocabSize: number;
  maxPositions: number;
  norm: 'layernorm' | 'rmsnorm';
  normEps: number;
  /** true: attention and MLP both read the block input (GPT-NeoX use_parallel_residual) */
  parallelResidual: boolean;
  positional: 'rotary' | 'learned';
  /** rotary dims per head (0 when positional = learned) */
  rotaryDims: number;
  rotaryBase: number;
  activation: 'gelu' | 'gelu_new' | 'relu' | 'silu';
  tiedEmbeddings: boolean;
  /** dtype of the checkpoint's floating tensors (computation is always float32) */
  dtype: 'float32' | 'float16' | 'bfloat16';
}

/** HF `model_type`s the engine can compile: the architecture registry's (models/registry.ts). */
export type { ArchName } from '../models/registry';

/** The perturbation operators under study (ARCHITECTURE.md "Perturbations"). */
export type PerturbOp = 'magnitude' | 'angle_exact' | 'angle_legacy';

/**
 * Which parts of the random key a draw depends on, besides (seed, stream, position, dim), which
 * it always depends on.
 * - item:   the sentence's stable id (not its place in the batch)
 * - length: the sentence's token count (the original's shape-keyed noise cache)
 * - layer:  the perturbed hook's block (and site)
 * - pass:   the pass counter given at run time (fresh draws on every forward pass)
 */
export type KeyPart = 'item' | 'length' | 'layer' | 'pass';

/** How a hook's tensor is laid out inside the graph and how it is shown outside. */
export type Layout =
  /** internal [N, width], external [B, T, width] */
  | { kind: 'flat'; width: number }
  /** [B, T, heads, headDim] both inside and outside */
  | { kind: 'heads'; heads: number; headDim: number }
  /** attention scores or pattern [B, H, T, T] */
  | { kind: 'pattern'; heads: number };

export interface HookInfo {
  name: HookName;
  layout: Layout;
}

/** Outputs computed inside the graph, per real token. */
export type OutputKind =
  /** log p(token[t+1] | ≤ t), [T-1] per item */
  | 'logprobs'
  /** entropy of the next-token distribution at each position, [T] per item */
  | 'entropy'
  /** full logits [T, V] per item (slow for big vocabularies; verification only) */
  | 'logits';

/** One item (sentence) of a batch: its token ids and a stable id used for random keys. */
export interface Item {
  ids: number[];
  id: number;
}

/** How one run draws its random numbers and batches its items (the interventions carry their own values). */
export interface RunOptions {
  seed?: number;
  /** distinguishes conditions within one seed (e.g. a hash of experiment, δ and mode) */
  stream?: number;
  /** pass counter for key part 'pass' */
  pass?: number;
  /** items per forward pass (default: chosen by the runner) */
  batchSize?: number;
}

/** A captured tensor of one item: shape without the batch axis, padding removed. */
export interface Tensor {
  dims: number[];
  data: Float32Array;
}

export interface ItemResult {
  id: number;
  logprobs?: Float32Array;
  entropy?: Float32Array;
  logits?: Tensor;
  captures: Record<HookName, Tensor>;
  /** per perturbed hook in plan order, per real token: ‖h‖ before the perturbation and the achieved ‖h' − h‖ */
  perturbation?: PerturbationStats[];
}

export interface PerturbationStats {
  hook: HookName;
  /** the hook's block (-1 for hooks outside the blocks) */
  layer: number;
  norms: Float32Array;
  disp: Float32Array;
}

export interface RunResult {
  items: ItemResult[];
  /** captures left on the device (`capture(hook, { onDevice: true })` on webgpu), one per hook and pass */
  onDevice?: DeviceBatch[];
  provider: string;
  seconds: number;
}
