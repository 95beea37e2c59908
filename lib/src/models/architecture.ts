/** What each architecture definition provides: everything about its family, in its own file. */
import type { ModelConfig } from '../engine/types';
import type { Ctx } from './blocks';
import type { Json } from './config';

export interface Architecture<T extends string = string> {
  /** the HF `model_type`s it reads */
  modelTypes: readonly T[];
  /** config.json → ModelConfig (ConfigError for what it does not support) */
  readConfig(raw: Json, file: string): ModelConfig;
  /** prefixes HF checkpoints may carry on tensor names (the first is the canonical one used in code) */
  prefixes: string[];
  /** the position id HF uses by default at token t of a right-padded row of `length` real tokens */
  position(t: number, length: number): number;
  /** the forward pass up to and including the final norm: returns [N, D] */
  forward(c: Ctx): string;
  /** the unembedding matrix [V, D] */
  unembedding(c: Ctx): string;
  /** parameters of a checkpoint of this shape (embeddings, blocks, final norm, unembedding unless tied) */
  paramCount(c: ShapeFacts): number;
}

/** The config facts a parameter count needs. */
export type ShapeFacts = Pick<
  ModelConfig,
  'nLayers' | 'dModel' | 'nHeads' | 'nKvHeads' | 'dMlp' | 'vocabSize' | 'maxPositions' | 'tiedEmbeddings'
>;
