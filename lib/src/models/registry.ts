/** The architecture registry: the supported `model_type`s are whatever these definitions read. */
import type { ModelConfig } from '../engine/types';
import type { Architecture } from './architecture';
import { ConfigError, type Json } from './config';
import { gpt2 } from './gpt2';
import { gptNeox } from './gpt_neox';
import { llama } from './llama';
import { opt } from './opt';

export const ARCHITECTURES = [gptNeox, llama, opt, gpt2] as const;

export type ArchName = (typeof ARCHITECTURES)[number]['modelTypes'][number];
export const SUPPORTED_ARCHS: readonly ArchName[] = ARCHITECTURES.flatMap((a) => a.modelTypes);

export function architectureFor(modelType: string): Architecture {
  const a = ARCHITECTURES.find((x) => (x.modelTypes as readonly string[]).includes(modelType));
  if (!a)
    throw new ConfigError(
      `unsupported architecture model_type='${modelType}' (supported: ${SUPPORTED_ARCHS.join(', ')})`,
    );
  return a;
}

/** config.json → ModelConfig through the family's own reader. */
export function parseConfig(raw: Json, file = 'config.json'): ModelConfig {
  const type = raw.model_type;
  if (typeof type !== 'string' || !(SUPPORTED_ARCHS as readonly string[]).includes(type))
    throw new ConfigError(
      `${file}: unsupported architecture model_type='${type}' (supported: ${SUPPORTED_ARCHS.join(', ')})`,
    );
  return architectureFor(type).readConfig(raw, file);
}
