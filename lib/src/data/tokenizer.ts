/**
 * Offline tokenizers via @huggingface/transformers' AutoTokenizer.
 *
 * The special tokens a model expects (Pythia/GPT-2: none; OPT: `</s>` prepended; Llama: `<s>`
 * prepended) are read off the tokenizer itself: at load time one probe text is encoded with and
 * without special tokens and the difference is the prefix/suffix its post-processor adds.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface EncodeOptions {
  /** truncate to this many tokens, special tokens included (as HF `truncation=True, max_length=`) */
  maxLength?: number;
}

export interface Tokenizer {
  /** where it was loaded from */
  source: string;
  /** the id the tokenizer prepends (BOS), or null when it prepends nothing */
  bos: number | null;
  /** every id added before / after the text by the post-processor */
  prefix: number[];
  suffix: number[];
  /** max id + 1 over the vocabulary and added tokens (not the model's padded embedding size) */
  vocabSize: number;
  encode(text: string, opts?: EncodeOptions): number[];
  decode(ids: number[], opts?: { skipSpecialTokens?: boolean }): string;
}

type HfTokenizer = {
  encode(text: string, o?: { add_special_tokens?: boolean }): number[];
  decode(ids: number[], o?: { skip_special_tokens?: boolean }): string;
  get_vocab(): Map<string, number>;
};

const PROBE = 'Hello world. The quick brown fox';

/** Load a tokenizer from a local directory (tokenizer.json + tokenizer_config.json); never downloads. */
export async function loadTokenizer(dirOrId: string): Promise<Tokenizer> {
  const hf = require('@huggingface/transformers') as typeof import('@huggingface/transformers');
  hf.env.allowRemoteModels = false;
  hf.env.allowLocalModels = true;
  // A directory is passed as an absolute path: transformers.js uses non-model-id paths as given.
  // Anything else is a model id, resolved under env.localModelPath.
  const isDir = fs.existsSync(dirOrId) && fs.statSync(dirOrId).isDirectory();
  const where = isDir ? path.resolve(dirOrId) : dirOrId;
  if (isDir && !fs.existsSync(path.join(where, 'tokenizer.json'))) {
    throw new Error(`tokenizer directory ${where} has no tokenizer.json`);
  }
  let tok: HfTokenizer;
  try {
    tok = (await hf.AutoTokenizer.from_pretrained(where, { local_files_only: true })) as unknown as HfTokenizer;
  } catch (e) {
    const hint = isDir
      ? ''
      : ` (not a directory; as a model id it was looked up under ${hf.env.localModelPath}, downloads are off)`;
    throw new Error(`cannot load tokenizer '${dirOrId}'${hint}: ${(e as Error).message}`);
  }
  const { prefix, suffix } = specialAffixes(tok);
  let vocabSize = 0;
  for (const id of tok.get_vocab().values()) vocabSize = Math.max(vocabSize, id + 1);
  const bos = prefix.length ? prefix[0] : null;

  return {
    source: where,
    bos,
    prefix,
    suffix,
    vocabSize,
    encode(text, opts = {}) {
      const body = tok.encode(text, { add_special_tokens: false });
      const { maxLength } = opts;
      let keep = body.length;
      if (maxLength !== undefined) {
        const room = maxLength - prefix.length - suffix.length;
        if (!Number.isInteger(maxLength) || room < 1) {
          throw new Error(
            `maxLength ${maxLength} leaves no room for text after ${prefix.length + suffix.length} special token(s)`,
          );
        }
        keep = Math.min(keep, room);
      }
      return [...prefix, ...body.slice(0, keep), ...suffix];
    },
    decode(ids, opts = {}) {
      return tok.decode(ids, { skip_special_tokens: opts.skipSpecialTokens ?? false });
    },
  };
}

/** The ids the tokenizer's post-processor adds around a single text. */
function specialAffixes(tok: HfTokenizer): { prefix: number[]; suffix: number[] } {
  const plain = tok.encode(PROBE, { add_special_tokens: false });
  const full = tok.encode(PROBE, { add_special_tokens: true });
  for (let start = 0; start + plain.length <= full.length; start++) {
    if (plain.every((id, i) => full[start + i] === id)) {
      return { prefix: full.slice(0, start), suffix: full.slice(start + plain.length) };
    }
  }
  throw new Error('tokenizer: encoding with special tokens does not contain the plain encoding; cannot infer BOS');
}
