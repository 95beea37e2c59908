/**
 * Hugging Face config.json → ModelConfig, one reader per family, with clear errors for
 * unsupported architectures and missing or inconsistent fields.
 */
import { ArchName, ModelConfig, SUPPORTED_ARCHS } from '../engine/types';

type Json = Record<string, unknown>;

export class ConfigError extends Error {}

function field<T = number>(cfg: Json, file: string, ...names: string[]): T {
  for (const n of names) if (cfg[n] !== undefined && cfg[n] !== null) return cfg[n] as T;
  throw new ConfigError(
    `${file}: missing field '${names[0]}'${names.length > 1 ? ` (or ${names.slice(1).join(', ')})` : ''}`,
  );
}

function optional<T>(cfg: Json, name: string, fallback: T): T {
  return cfg[name] === undefined || cfg[name] === null ? fallback : (cfg[name] as T);
}

function dtypeOf(cfg: Json): ModelConfig['dtype'] {
  const t = optional<string>(cfg, 'torch_dtype', 'float32');
  if (t === 'float16' || t === 'bfloat16' || t === 'float32') return t;
  return 'float32';
}

function activation(name: string, file: string): ModelConfig['activation'] {
  const map: Record<string, ModelConfig['activation']> = {
    gelu: 'gelu',
    gelu_new: 'gelu_new',
    gelu_pytorch_tanh: 'gelu_new',
    relu: 'relu',
    silu: 'silu',
    swish: 'silu',
  };
  const a = map[name];
  if (!a)
    throw new ConfigError(`${file}: unsupported activation '${name}' (supported: ${Object.keys(map).join(', ')})`);
  return a;
}

function check(c: ModelConfig, file: string): ModelConfig {
  for (const [k, v] of Object.entries(c))
    if (typeof v === 'number' && !(Number.isFinite(v) && (v > 0 || k === 'rotaryDims')))
      throw new ConfigError(`${file}: field for ${k} must be a positive number, got ${v}`);
  if (c.dModel % c.nHeads !== 0)
    throw new ConfigError(`${file}: hidden size ${c.dModel} is not divisible by ${c.nHeads} heads`);
  if (c.nHeads % c.nKvHeads !== 0)
    throw new ConfigError(`${file}: ${c.nHeads} attention heads are not a multiple of ${c.nKvHeads} key/value heads`);
  if (c.rotaryDims % 2 !== 0) throw new ConfigError(`${file}: rotary dimension ${c.rotaryDims} must be even`);
  return c;
}

export function parseConfig(cfg: Json, file = 'config.json'): ModelConfig {
  const type = cfg.model_type as string;
  if (!SUPPORTED_ARCHS.includes(type as ArchName))
    throw new ConfigError(
      `${file}: unsupported architecture model_type='${type}' (supported: ${SUPPORTED_ARCHS.join(', ')})`,
    );
  const dtype = dtypeOf(cfg);
  switch (type as ArchName) {
    case 'gpt_neox': {
      const d = field(cfg, file, 'hidden_size');
      const h = field(cfg, file, 'num_attention_heads');
      if (optional(cfg, 'rope_scaling', null)) throw new ConfigError(`${file}: rope_scaling is not supported`);
      return check(
        {
          modelType: 'gpt_neox',
          nLayers: field(cfg, file, 'num_hidden_layers'),
          dModel: d,
          nHeads: h,
          nKvHeads: h,
          headDim: d / h,
          dMlp: field(cfg, file, 'intermediate_size'),
          vocabSize: field(cfg, file, 'vocab_size'),
          maxPositions: field(cfg, file, 'max_position_embeddings'),
          norm: 'layernorm',
          normEps: optional(cfg, 'layer_norm_eps', 1e-5),
          parallelResidual: optional(cfg, 'use_parallel_residual', true),
          positional: 'rotary',
          rotaryDims: Math.floor((d / h) * field(cfg, file, 'rotary_pct')),
          rotaryBase: optional(cfg, 'rotary_emb_base', 10000),
          activation: activation(optional(cfg, 'hidden_act', 'gelu'), file),
          tiedEmbeddings: optional(cfg, 'tie_word_embeddings', false),
          dtype,
        },
        file,
      );
    }
    case 'llama':
    case 'mistral': {
      const d = field(cfg, file, 'hidden_size');
      const h = field(cfg, file, 'num_attention_heads');
      if (optional(cfg, 'rope_scaling', null)) throw new ConfigError(`${file}: rope_scaling is not supported`);
      const hd = optional(cfg, 'head_dim', d / h);
      if (hd !== d / h)
        throw new ConfigError(`${file}: head_dim ${hd} ≠ hidden_size/num_attention_heads is not supported`);
      return check(
        {
          modelType: type as ArchName,
          nLayers: field(cfg, file, 'num_hidden_layers'),
          dModel: d,
          nHeads: h,
          nKvHeads: optional(cfg, 'num_key_value_heads', h),
          headDim: hd,
          dMlp: field(cfg, file, 'intermediate_size'),
          vocabSize: field(cfg, file, 'vocab_size'),
          maxPositions: field(cfg, file, 'max_position_embeddings'),
          norm: 'rmsnorm',
          normEps: optional(cfg, 'rms_norm_eps', 1e-6),
          parallelResidual: false,
          positional: 'rotary',
          rotaryDims: hd,
          rotaryBase: optional(cfg, 'rope_theta', 10000),
          activation: activation(optional(cfg, 'hidden_act', 'silu'), file),
          tiedEmbeddings: optional(cfg, 'tie_word_embeddings', false),
          dtype,
        },
        file,
      );
    }
    case 'opt': {
      const d = field(cfg, file, 'hidden_size');
      const h = field(cfg, file, 'num_attention_heads');
      if (optional(cfg, 'word_embed_proj_dim', d) !== d)
        throw new ConfigError(
          `${file}: OPT word_embed_proj_dim ≠ hidden_size (project_in/out, as in opt-350m) is not supported`,
        );
      if (!optional(cfg, 'do_layer_norm_before', true))
        throw new ConfigError(`${file}: OPT post-LN (do_layer_norm_before=false, as in opt-350m) is not supported`);
      if (optional(cfg, '_remove_final_layer_norm', false))
        throw new ConfigError(`${file}: OPT _remove_final_layer_norm=true is not supported`);
      return check(
        {
          modelType: 'opt',
          nLayers: field(cfg, file, 'num_hidden_layers'),
          dModel: d,
          nHeads: h,
          nKvHeads: h,
          headDim: d / h,
          dMlp: field(cfg, file, 'ffn_dim'),
          vocabSize: field(cfg, file, 'vocab_size'),
          maxPositions: field(cfg, file, 'max_position_embeddings'),
          norm: 'layernorm',
          normEps: 1e-5,
          parallelResidual: false,
          positional: 'learned',
          rotaryDims: 0,
          rotaryBase: 10000,
          activation: activation(optional(cfg, 'activation_function', 'relu'), file),
          tiedEmbeddings: optional(cfg, 'tie_word_embeddings', true),
          dtype,
        },
        file,
      );
    }
    case 'gpt2': {
      const d = field(cfg, file, 'n_embd', 'hidden_size');
      const h = field(cfg, file, 'n_head', 'num_attention_heads');
      if (optional(cfg, 'scale_attn_by_inverse_layer_idx', false) || optional(cfg, 'reorder_and_upcast_attn', false))
        throw new ConfigError(
          `${file}: GPT-2 scale_attn_by_inverse_layer_idx / reorder_and_upcast_attn are not supported`,
        );
      return check(
        {
          modelType: 'gpt2',
          nLayers: field(cfg, file, 'n_layer', 'num_hidden_layers'),
          dModel: d,
          nHeads: h,
          nKvHeads: h,
          headDim: d / h,
          dMlp: optional(cfg, 'n_inner', 4 * d),
          vocabSize: field(cfg, file, 'vocab_size'),
          maxPositions: field(cfg, file, 'n_positions', 'max_position_embeddings'),
          norm: 'layernorm',
          normEps: optional(cfg, 'layer_norm_epsilon', 1e-5),
          parallelResidual: false,
          positional: 'learned',
          rotaryDims: 0,
          rotaryBase: 10000,
          activation: activation(optional(cfg, 'activation_function', 'gelu_new'), file),
          tiedEmbeddings: optional(cfg, 'tie_word_embeddings', true),
          dtype,
        },
        file,
      );
    }
  }
}
