/**
 * Helpers for reading a Hugging Face config.json into a ModelConfig (each architecture has its own
 * reader, in its file), with clear errors for missing or inconsistent fields.
 */
import type { ModelConfig } from '../engine/types';

export type Json = Record<string, unknown>;

export class ConfigError extends Error {}

export function field<T = number>(cfg: Json, file: string, ...names: string[]): T {
  for (const n of names) if (cfg[n] !== undefined && cfg[n] !== null) return cfg[n] as T;
  throw new ConfigError(
    `${file}: missing field '${names[0]}'${names.length > 1 ? ` (or ${names.slice(1).join(', ')})` : ''}`,
  );
}

export function optional<T>(cfg: Json, name: string, fallback: T): T {
  return cfg[name] === undefined || cfg[name] === null ? fallback : (cfg[name] as T);
}

export function dtypeOf(cfg: Json): ModelConfig['dtype'] {
  const t = optional<string>(cfg, 'torch_dtype', 'float32');
  if (t === 'float16' || t === 'bfloat16' || t === 'float32') return t;
  return 'float32';
}

export function activationOf(name: string, file: string): ModelConfig['activation'] {
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

export function checkConfig(c: ModelConfig, file: string): ModelConfig {
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
