/** What each architecture definition provides, and the registry by HF model_type. */
import { ArchName } from '../engine/types';
import { Ctx } from './blocks';

export interface Architecture {
  /** prefixes HF checkpoints may carry on tensor names (the first is the canonical one used in code) */
  prefixes: string[];
  /** the forward pass up to and including the final norm: returns [N, D] */
  forward(c: Ctx): string;
  /** the unembedding matrix [V, D] */
  unembedding(c: Ctx): string;
}

export async function architectureFor(type: ArchName): Promise<Architecture> {
  switch (type) {
    case 'gpt_neox':
      return (await import('./gpt_neox')).gptNeox;
    case 'llama':
    case 'mistral':
      return (await import('./llama')).llama;
    case 'opt':
      return (await import('./opt')).opt;
    case 'gpt2':
      return (await import('./gpt2')).gpt2;
  }
}
