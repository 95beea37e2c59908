/**
 * The data types of the engine: what a model is, what a plan asks for, what a run returns.
 * Everything above the engine (experiments, notebooks, CLI) talks in these types only.
 */

/** Architecture facts read from a Hugging Face config.json, normalised across families. */
export interface ModelConfig {
  /** HF `model_type`: gpt_neox | llama | mistral | opt | gpt2 */
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

export type ArchName = 'gpt_neox' | 'llama' | 'mistral' | 'opt' | 'gpt2';
export const SUPPORTED_ARCHS: readonly ArchName[] = ['gpt_neox', 'llama', 'mistral', 'opt', 'gpt2'];

/**
 * TransformerLens hook names. Per layer L (0-based):
 *   blocks.L.hook_resid_pre        [B,T,D]
 *   blocks.L.ln1.hook_scale        [B,T,1]   (sqrt(var+eps) for LayerNorm, sqrt(mean(x²)+eps) for RMSNorm)
 *   blocks.L.ln1.hook_normalized   [B,T,D]   (output of the norm, γ and β included)
 *   blocks.L.attn.hook_q           [B,T,H,hd]   (after rotary)
 *   blocks.L.attn.hook_k/_v        [B,T,KVH,hd] (after rotary)
 *   blocks.L.attn.hook_pattern     [B,H,T,T]
 *   blocks.L.attn.hook_z           [B,T,H,hd]
 *   blocks.L.hook_attn_out         [B,T,D]
 *   blocks.L.hook_resid_mid        [B,T,D]   (sequential models only)
 *   blocks.L.ln2.hook_scale / ln2.hook_normalized
 *   blocks.L.mlp.hook_post         [B,T,F]
 *   blocks.L.hook_mlp_out          [B,T,D]
 *   blocks.L.hook_resid_post       [B,T,D]
 * and hook_embed (+ hook_pos_embed for learned positions), ln_final.hook_normalized.
 */
export type HookName = string;

/** The perturbation operators under study (ARCHITECTURE.md "Perturbations"). */
export type PerturbOp = 'magnitude' | 'angle_exact' | 'angle_legacy';

/**
 * Which parts of the random key a draw depends on, besides (seed, stream, position, dim), which
 * it always depends on.
 * - item:   the sentence's stable id (not its place in the batch)
 * - length: the sentence's token count (the original's shape-keyed noise cache)
 * - layer:  the perturbed layer
 * - pass:   the pass counter given at run time (fresh draws on every forward pass)
 */
export type KeyPart = 'item' | 'length' | 'layer' | 'pass';

export interface Perturbation {
  op: PerturbOp;
  /** hook to perturb at each layer, default 'hook_resid_post' */
  hook?: 'hook_resid_post' | 'hook_resid_pre' | 'hook_resid_mid';
  layers: number[];
  /** key parts of the angle noise (default: ['item', 'layer'] = independent) */
  noiseKey?: KeyPart[];
  /** key parts of the magnitude signs (default: ['item', 'layer', 'pass']) */
  signKey?: KeyPart[];
  /** bisection iterations of the legacy angle operator (the original: 20; 15 and 12 in later cells) */
  legacyIters?: number;
}

/** What happens at a hook, besides the perturbation. */
export type Intervention =
  | { kind: 'capture' }
  /** replace by a tensor given at run time; `heads` restricts the patch to those heads (hooks with a head axis) */
  | { kind: 'patch'; heads?: number[] }
  /** multiply by a factor given at run time (1 = no-op); `heads` as for patch */
  | { kind: 'scale'; heads?: number[] }
  | { kind: 'ablate'; how: 'zero' | 'mean'; heads?: number[] };

/** Outputs computed inside the graph, per real token. */
export type OutputKind =
  /** log p(token[t+1] | ≤ t), [T-1] per item */
  | 'logprobs'
  /** entropy of the next-token distribution at each position, [T] per item */
  | 'entropy'
  /** full logits [T, V] per item (slow for big vocabularies; verification only) */
  | 'logits';

export interface Plan {
  perturb?: Perturbation;
  hooks?: Record<HookName, Intervention>;
  outputs: OutputKind[];
}

/** One item (sentence) of a batch: its token ids and a stable id used for random keys. */
export interface Item {
  ids: number[];
  id: number;
}

export interface RunOptions {
  /** per-layer L2 displacement δ (required when the plan perturbs) */
  delta?: number;
  seed?: number;
  /** distinguishes conditions within one seed (e.g. a hash of experiment, δ and mode) */
  stream?: number;
  /** pass counter for key part 'pass' */
  pass?: number;
  /** patch values per hook, aligned with the run's items: each the hook's unpadded tensor (as captures return it) */
  patches?: Record<HookName, Tensor[]>;
  /** scale factors per hook (for 'scale' interventions) */
  scales?: Record<HookName, number>;
  /** means per hook for 'ablate mean' (the hook's trailing dims, e.g. [D]) */
  means?: Record<HookName, Float32Array>;
  /**
   * Explicit draws instead of the generator, aligned with the run's items and used at every
   * perturbed layer: noise [L, D] and signs [L] per item (golden fixtures, tests).
   */
  draws?: { noise?: Float32Array[]; signs?: Float32Array[] };
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
  /** per perturbed layer, per real token: ‖h‖ before the perturbation and the achieved ‖h' − h‖ */
  perturbation?: { layer: number; norms: Float32Array; disp: Float32Array }[];
}

export interface RunResult {
  items: ItemResult[];
  provider: string;
  seconds: number;
}
