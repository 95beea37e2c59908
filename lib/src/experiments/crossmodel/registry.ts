/**
 * The cross-model replication registry (EXPERIMENTS.md §1.3, idx 16, 17, 23, 26–29, §4): one typed
 * entry per model with its published config.json (architecture fields, read by the engine's own
 * config readers into `arch`), the dtype the original computed in, the perturbed layers, the
 * tokenizer's expected BOS, sentence sets, seed offsets, bisection iterations, and the published
 * numbers (PUBLISHED_CROSSMODEL, for REPORT.md). Nothing here is a result: every table and figure is
 * computed from result files.
 */
import { ModelConfig } from '../../engine/types';
import { architectureFor, parseConfig } from '../../models/registry';
import type { Json } from '../../models/config';
import { Tokenizer } from '../../data';
import { MECH_DELTA, MECH_PUBLISHED } from '../mechanism/common';

/**
 * Every architecture fact of a checkpoint that changes the computation: the whole ModelConfig but
 * the checkpoint's tensor dtype (every run computes in float32; the dtype is `checkpointDtype`).
 */
export type ArchFacts = Omit<ModelConfig, 'dtype'>;

/** The fields of ArchFacts, in ModelConfig's order (what a config match compares). */
export const ARCH_FIELDS = [
  'modelType',
  'nLayers',
  'dModel',
  'nHeads',
  'nKvHeads',
  'headDim',
  'dMlp',
  'vocabSize',
  'maxPositions',
  'norm',
  'normEps',
  'parallelResidual',
  'positional',
  'rotaryDims',
  'rotaryBase',
  'activation',
  'tiedEmbeddings',
] as const satisfies readonly (keyof ArchFacts)[];

/** The fields in which two architectures differ, as `field ours vs theirs` (empty: the same computation). */
export function archDifferences(ours: ArchFacts, published: ArchFacts): string[] {
  return ARCH_FIELDS.filter((k) => ours[k] !== published[k]).map((k) => `${k} ${ours[k]} vs ${published[k]}`);
}

export type SentenceSet =
  /** the first n filtered WikiText-103 test lines (EXPERIMENTS.md §1.5.1) */
  | { source: 'wikitext'; n: number; note?: string }
  /** E12's 10 hand-written sentences ×8, first 50 */
  | { source: 'e12'; n: number };

export interface SweepSpec {
  /** store name of the loss sweep (results/<model>/<store>.jsonl) */
  store: string;
  deltas: number[];
  seeds: number;
  /** seed = 42 + offset + s */
  seedOffset: number;
  sentences: SentenceSet;
}

export interface SectionSpec {
  store: string;
  delta: number;
  seeds: number;
  seedOffset: number;
  sentences: SentenceSet;
}

/** A section run with a mechanism experiment's procedure, and the original's cell it reproduces. */
export interface PathwaySpec extends SectionSpec {
  /** the original's cell (EXPERIMENTS.md), e.g. idx 17 for E9 on Pythia-1.4B */
  cell: string;
}

export type RunnerName = 'E8' | 'E10' | 'E12' | 'E13' | 'Zephyr';

export interface CrossModelEntry {
  /** registry key */
  key: string;
  label: string;
  hfId: string;
  /** the hub revision the original ran (absent: it did not pin one, any revision of hfId counts) */
  revision?: string;
  /** the notebook cell (EXPERIMENTS.md) */
  cell: string;
  /** the experiment label; null for Pythia-410M (its loss sweep is E1, run by `dirmag sweep`) */
  runner: RunnerName | null;
  /** the architecture fields of the hub checkpoint's published config.json, as published */
  config: Json;
  /** `config` read by the engine's config reader (what a local folder's config must equal) */
  arch: ArchFacts;
  /** dtype the original notebook computed in */
  originalDtype: 'float32' | 'float16';
  /** dtype of the hub checkpoint's tensors (config.json torch_dtype; read, then cast to float32 in the graph) */
  checkpointDtype: ModelConfig['dtype'];
  /** the perturbed layers (hook_resid_post) of the published model */
  layers: number[];
  /** token the tokenizer is expected to prepend (null: none); checked against the tokenizer at run time */
  bos: string | null;
  legacyIters: number;
  loss: SweepSpec;
  entropy?: SectionSpec;
  repair?: SectionSpec;
  /** E9 (idx 17): the attention / MLP / both pathway repairs, E9's procedure under the cell's model */
  pathways?: PathwaySpec;
  /** fixture case of the same architecture used for CI runs (tinyCheckpoint) */
  tinyCase: string;
  /** deviations from the original this re-implementation makes, stated in notebooks and reports */
  notes: string[];
}

const PYTHIA_TOK = 'no BOS (GPT-NeoX tokenizer adds nothing)';

/** An entry as written below: its published config.json; `arch` and `checkpointDtype` are read from it. */
type Written = Omit<CrossModelEntry, 'arch' | 'checkpointDtype'>;

function fromConfig(e: Written): CrossModelEntry {
  const cfg = parseConfig(e.config, `${e.hfId}/config.json`);
  return { ...e, arch: archFactsOf(cfg), checkpointDtype: cfg.dtype };
}

/** The published config.json of a Pythia model (GPT-NeoX, parallel residual, rotary on a quarter of each head). */
const pythiaConfig = (hidden: number, heads: number) => ({
  model_type: 'gpt_neox',
  hidden_size: hidden,
  intermediate_size: 4 * hidden,
  num_hidden_layers: 24,
  num_attention_heads: heads,
  vocab_size: 50304,
  max_position_embeddings: 2048,
  rotary_pct: 0.25,
  rotary_emb_base: 10000,
  layer_norm_eps: 1e-5,
  hidden_act: 'gelu',
  use_parallel_residual: true,
  tie_word_embeddings: false,
  torch_dtype: 'float16',
});

/** The published config.json of OPT-1.3B (and OPT-IML-1.3B, fine-tuned from it): pre-LN, learned positions, ReLU, tied head. */
const opt13Config = {
  model_type: 'opt',
  hidden_size: 2048,
  ffn_dim: 8192,
  word_embed_proj_dim: 2048,
  num_hidden_layers: 24,
  num_attention_heads: 32,
  vocab_size: 50272,
  max_position_embeddings: 2048,
  do_layer_norm_before: true,
  activation_function: 'relu',
  torch_dtype: 'float16',
};

export const CROSSMODEL_REGISTRY: readonly CrossModelEntry[] = Object.freeze(
  (
    [
      {
        key: 'pythia-410m',
        label: 'Pythia-410M',
        hfId: 'EleutherAI/pythia-410m',
        cell: "the original's loss sweep (E1)",
        runner: null,
        config: pythiaConfig(1024, 16),
        originalDtype: 'float32',
        layers: [8, 9, 10, 11, 12, 13, 14, 15],
        bos: null,
        legacyIters: 20,
        loss: {
          store: 'E1',
          deltas: [1, 2, 5, 10, 15, 20],
          seeds: 5,
          seedOffset: 0,
          sentences: { source: 'wikitext', n: 281 },
        },
        tinyCase: 'gpt_neox_parallel',
        notes: [PYTHIA_TOK, 'reference row: its loss sweep is E1 (`dirmag sweep`), read from results/<model>/E1.jsonl'],
      },
      {
        key: 'pythia-1.4b',
        label: 'Pythia-1.4B',
        hfId: 'EleutherAI/pythia-1.4b',
        cell: "the original's Pythia-1.4B cell (E8)",
        runner: 'E8',
        config: pythiaConfig(2048, 16),
        originalDtype: 'float32',
        layers: [8, 9, 10, 11, 12, 13, 14, 15],
        bos: null,
        legacyIters: 20,
        loss: { store: 'E8', deltas: [2, 5, 10], seeds: 3, seedOffset: 700, sentences: { source: 'wikitext', n: 100 } },
        entropy: { store: 'E8-entropy', delta: 5, seeds: 3, seedOffset: 800, sentences: { source: 'wikitext', n: 50 } },
        // idx 17 (E9): Pythia-1.4B reloaded, patches at layers 8–15, δ = 5, first 50 sentences, 3 seeds (42+s+900)
        pathways: {
          store: 'E9',
          cell: "the original's attention/MLP pathway-repair cell",
          delta: MECH_DELTA,
          seeds: MECH_PUBLISHED.E9.seeds,
          seedOffset: MECH_PUBLISHED.E9.seedOffset,
          sentences: { source: 'wikitext', n: MECH_PUBLISHED.E9.sentences },
        },
        tinyCase: 'gpt_neox_parallel_fp16',
        notes: [
          PYTHIA_TOK,
          'the hub checkpoint is float16; like the original (torch_dtype=float32) it is computed in float32',
        ],
      },
      {
        key: 'opt-1.3b',
        label: 'OPT-1.3B',
        hfId: 'facebook/opt-1.3b',
        cell: "the original's OPT-1.3B cell (E10)",
        runner: 'E10',
        config: opt13Config,
        originalDtype: 'float32',
        layers: [8, 9, 10, 11, 12, 13, 14, 15],
        bos: '</s>',
        legacyIters: 20,
        loss: {
          store: 'E10',
          deltas: [2, 5, 10],
          seeds: 3,
          seedOffset: 1000,
          sentences: { source: 'wikitext', n: 100 },
        },
        repair: { store: 'E10-repair', delta: 5, seeds: 3, seedOffset: 1100, sentences: { source: 'wikitext', n: 50 } },
        tinyCase: 'opt',
        notes: [
          'BOS </s> prepended; truncation to 64 includes it, so the first word is predicted (baselines not comparable with Pythia)',
        ],
      },
      {
        key: 'tinyllama-1.1b-chat',
        label: 'TinyLlama-1.1B-Chat',
        hfId: 'TinyLlama/TinyLlama-1.1B-Chat-v1.0',
        cell: "the original's TinyLlama cell (E12)",
        runner: 'E12',
        config: {
          model_type: 'llama',
          hidden_size: 2048,
          intermediate_size: 5632,
          num_hidden_layers: 22,
          num_attention_heads: 32,
          num_key_value_heads: 4,
          vocab_size: 32000,
          max_position_embeddings: 2048,
          rms_norm_eps: 1e-5,
          rope_theta: 10000,
          rope_scaling: null,
          hidden_act: 'silu',
          tie_word_embeddings: false,
          torch_dtype: 'bfloat16',
        },
        originalDtype: 'float16',
        layers: [4, 5, 6, 7],
        bos: '<s>',
        legacyIters: 15,
        loss: { store: 'E12', deltas: [1, 2, 5], seeds: 3, seedOffset: 0, sentences: { source: 'e12', n: 50 } },
        tinyCase: 'llama_bf16',
        notes: [
          'the original computed in fp16 (fp16 noise, fp32 perturbation arithmetic); we compute everything in float32',
          '10 hand-written sentences ×5 copies (copies share legacy noise)',
        ],
      },
      {
        key: 'opt-iml-1.3b',
        label: 'OPT-IML-1.3B',
        hfId: 'facebook/opt-iml-1.3b',
        cell: "the original's OPT-IML-1.3B cell (E13)",
        runner: 'E13',
        config: opt13Config,
        originalDtype: 'float16',
        layers: [4, 5, 6, 7],
        bos: '</s>',
        legacyIters: 15,
        loss: {
          store: 'E13',
          deltas: [1, 2, 5],
          seeds: 3,
          seedOffset: 0,
          sentences: {
            source: 'wikitext',
            n: 40,
            note: "E13's 8 hand-written sentences are not quoted in EXPERIMENTS.md: the first 40 WikiText sentences are used instead (40 unique, not 8×5)",
          },
        },
        tinyCase: 'opt',
        notes: [
          'the original computed in fp16; we compute in float32',
          'sentences replaced by WikiText (originals not quoted)',
          'layers 4–7 as the original (its comment wrongly claims "same layers as OPT-1.3B", which used 8–15)',
        ],
      },
      {
        key: 'zephyr-7b-beta',
        label: 'Zephyr-7B-β',
        hfId: 'HuggingFaceH4/zephyr-7b-beta',
        cell: "the original's unfinished Zephyr-7B cell",
        runner: 'Zephyr',
        config: {
          model_type: 'mistral',
          hidden_size: 4096,
          intermediate_size: 14336,
          num_hidden_layers: 32,
          num_attention_heads: 32,
          num_key_value_heads: 8,
          vocab_size: 32000,
          max_position_embeddings: 32768,
          rms_norm_eps: 1e-5,
          rope_theta: 10000,
          sliding_window: 4096,
          hidden_act: 'silu',
          tie_word_embeddings: false,
          torch_dtype: 'bfloat16',
        },
        originalDtype: 'float16',
        layers: [4, 5, 6, 7],
        bos: '<s>',
        legacyIters: 12,
        loss: {
          store: 'Zephyr',
          deltas: [1, 2, 5],
          seeds: 3,
          seedOffset: 0,
          sentences: {
            source: 'wikitext',
            n: 30,
            note: "Zephyr's 8 hand-written sentences are not quoted in EXPERIMENTS.md: the first 30 WikiText sentences are used instead",
          },
        },
        tinyCase: 'llama_gqa',
        notes: [
          'never finished in the original (no published numbers)',
          'the original computed in fp16; we compute in float32 (29 GB of weights: see the memory plan)',
          'sentences replaced by WikiText (originals not quoted)',
          'Mistral = Llama blocks + sliding-window attention (window 4096 > 64 tokens: inactive here); CI uses the llama_gqa fixture',
        ],
      },
    ] as Written[]
  ).map(fromConfig),
);

export function registryEntry(nameOrRunner: string): CrossModelEntry {
  const e = CROSSMODEL_REGISTRY.find(
    (x) => x.key === nameOrRunner || x.runner === nameOrRunner || x.hfId === nameOrRunner,
  );
  if (!e)
    throw new Error(
      `unknown cross-model experiment '${nameOrRunner}' (known: ${CROSSMODEL_REGISTRY.map((x) => `${x.runner ?? '-'}/${x.key}`).join(', ')})`,
    );
  return e;
}

/**
 * The published layers scaled to a model of `nLayers` (tiny CI checkpoints): the same fraction of
 * depth, at least one layer. Identity when the depth is the published one.
 */
export function scaledLayers(entry: CrossModelEntry, nLayers: number): number[] {
  if (nLayers === entry.arch.nLayers) return [...entry.layers];
  const N = entry.arch.nLayers;
  const a = Math.min(nLayers - 1, Math.round((entry.layers[0] * nLayers) / N));
  const b = Math.min(nLayers, Math.max(a + 1, Math.round(((entry.layers[entry.layers.length - 1] + 1) * nLayers) / N)));
  return Array.from({ length: b - a }, (_, i) => a + i);
}

export interface BosCheck {
  expected: string | null;
  /** the prefix the tokenizer adds, as token strings */
  actual: string | null;
  actualIds: number[];
  ok: boolean;
  message: string;
}

/** Compares the tokenizer's prepended token with the registry's expectation (BOS is always taken from the tokenizer). */
export function checkBos(entry: CrossModelEntry, tok: Tokenizer): BosCheck {
  const actual = tok.prefix.length ? tok.prefix.map((id) => tok.decode([id])).join('') : null;
  const ok = actual === entry.bos;
  const show = (x: string | null) => (x === null ? 'nothing' : `'${x}'`);
  return {
    expected: entry.bos,
    actual,
    actualIds: [...tok.prefix],
    ok,
    message: ok
      ? `tokenizer prepends ${show(actual)} as ${entry.label}'s does`
      : `tokenizer ${tok.source} prepends ${show(actual)}${tok.prefix.length ? ` (ids ${tok.prefix.join(',')})` : ''} but ${entry.label}'s prepends ${show(entry.bos)}; the run uses the tokenizer's behaviour (expected for tiny CI checkpoints, which use the stories260k tokenizer)`,
  };
}

/** Parameter count of an architecture (embeddings, blocks, final norm, unembedding unless tied). */
export function paramCount(a: ArchFacts): number {
  return architectureFor(a.modelType).paramCount(a);
}

/** The facts of a loaded model's config in registry form (every field but the tensor dtype). */
export function archFactsOf(cfg: ArchFacts & { dtype?: unknown }): ArchFacts {
  return Object.fromEntries(ARCH_FIELDS.map((k) => [k, cfg[k]])) as unknown as ArchFacts;
}

// ---------------------------------------------------------------------------------------------
// published numbers (EXPERIMENTS.md idx 5, 16, 23, 26, 27, §4) — for REPORT.md comparisons only

export interface PublishedLossRow {
  delta: number;
  angular: { mean: number; std: number | null };
  magnitude: { mean: number; std: number | null };
  /** as printed (null where the notebook printed none) */
  ratio: number | null;
  /** one-sided p (H1 angle > magnitude), null where no test was run */
  pOneSided: number | null;
  perSeed?: { angular: number[]; magnitude: number[] };
}

export interface PublishedCrossModel {
  baseline: number | null;
  loss: PublishedLossRow[];
  entropy?: {
    base: number;
    deltaAngle: { mean: number; std: number };
    deltaMagnitude: { mean: number; std: number };
    t: number;
    pOneSided: number;
  };
  /** attention-repair recovery %, angle vs magnitude (mean ± std over seeds); Pythia-1.4B's E9 numbers are PUBLISHED_MECHANISM.E9 */
  repair?: {
    angular: { mean: number; std: number | null };
    magnitude: { mean: number; std: number | null };
    source: string;
    t?: number;
    pOneSided?: number;
  };
  verdict: string;
}

const row = (
  delta: number,
  a: number,
  as: number | null,
  m: number,
  ms: number | null,
  ratio: number | null,
  p: number | null,
  perSeed?: PublishedLossRow['perSeed'],
): PublishedLossRow => ({
  delta,
  angular: { mean: a, std: as },
  magnitude: { mean: m, std: ms },
  ratio,
  pOneSided: p,
  ...(perSeed ? { perSeed } : {}),
});

export const PUBLISHED_CROSSMODEL: Readonly<Record<string, PublishedCrossModel>> = Object.freeze({
  'pythia-410m': {
    baseline: 4.107,
    loss: [
      row(1, 0.368, 0.011, 0.009, 0.002, 42.87, null),
      row(2, 0.983, 0.026, 0.042, 0.002, 23.21, null),
      row(5, 3.757, 0.06, 0.7, 0.028, 5.37, null),
      row(10, 7.061, 0.044, 3.262, 0.033, 2.16, null),
      row(15, 7.718, 0.05, 4.6, 0.045, 1.68, null),
      row(20, 7.75, 0.087, 5.433, 0.033, 1.43, null),
    ],
    entropy: {
      base: 1.0312,
      deltaAngle: { mean: 0.1287, std: 0.0081 },
      deltaMagnitude: { mean: 0.0251, std: 0.0012 },
      t: 25.38,
      pOneSided: 7.2e-6,
    },
    repair: {
      angular: { mean: 28.4, std: 0.6 },
      magnitude: { mean: 15.2, std: 5.5 },
      source: 'E4 (mean of per-seed recoveries, 100 sentences, 5 seeds)',
      t: 4.927,
      pOneSided: 0.003945,
    },
    verdict: 'angular dominates loss at every δ (p two-sided < 1e-6, seeds)',
  },
  'pythia-1.4b': {
    baseline: 3.899,
    loss: [
      row(2, 0.251, 0.008, 0.004, 0.0, 56.81, 0.0003),
      row(5, 0.971, 0.015, 0.04, 0.006, 24.41, 0.0001),
      row(10, 3.41, 0.071, 0.572, 0.019, 5.96, 0.0001),
    ],
    entropy: {
      base: 1.0325,
      deltaAngle: { mean: -0.0228, std: 0.0091 },
      deltaMagnitude: { mean: 0.0058, std: 0.0012 },
      t: -4.331,
      pOneSided: 0.975,
    },
    verdict: 'loss asymmetry replicates; entropy reversed ("PARTIAL REPLICATION")',
  },
  'opt-1.3b': {
    baseline: 4.18,
    loss: [
      row(2, 0.577, 0.007, 0.018, 0.001, 32.7, 1e-4),
      row(5, 3.893, 0.041, 0.204, 0.011, 19.1, 1e-4),
      row(10, 5.773, 0.012, 2.36, 0.041, 2.4, 0.0001),
    ],
    repair: {
      angular: { mean: 27.0, std: 0.1 },
      magnitude: { mean: 34.4, std: 8.0 },
      source: 'E10 test 2 (R-pooled-baseline, 50 sentences, 3 seeds)',
      t: -1.3,
      pOneSided: 0.838,
    },
    verdict: 'loss asymmetry replicates; attention mediation does not (p = 0.84)',
  },
  'tinyllama-1.1b-chat': {
    baseline: 4.019,
    loss: [
      row(1, 0.119, 0.064, 0.645, 0.071, 0.2, 0.996, { angular: [0.196, 0.04, 0.121], magnitude: [0.734, 0.64, 0.56] }),
      row(2, 0.808, 0.082, 3.823, 0.09, 0.2, 0.9995, {
        angular: [0.692, 0.872, 0.86],
        magnitude: [3.866, 3.905, 3.698],
      }),
      row(5, 5.76, 0.24, 4.956, 0.221, 1.2, 0.0107, {
        angular: [5.519, 6.088, 5.673],
        magnitude: [4.644, 5.122, 5.103],
      }),
    ],
    verdict: 'reversal: magnitude damage larger at δ ≤ 2',
  },
  'opt-iml-1.3b': {
    baseline: 4.858,
    loss: [
      row(1, 0.049, null, -0.003, null, null, null, {
        angular: [0.093, 0.006, 0.05],
        magnitude: [-0.005, 0.0, -0.005],
      }),
      row(2, 0.303, null, 0.006, null, null, null, {
        angular: [0.414, 0.137, 0.357],
        magnitude: [0.011, 0.004, 0.005],
      }),
      row(5, 0.874, null, 0.106, null, null, null, { angular: [0.84, 1.317, 0.463], magnitude: [0.098, 0.106, 0.113] }),
    ],
    verdict: 'angular larger at 3/3 δ (no test was run)',
  },
  'zephyr-7b-beta': { baseline: null, loss: [], verdict: 'not run to completion (no result)' },
});
