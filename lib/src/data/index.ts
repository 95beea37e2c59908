/** Text data of the study: WikiText sentences, BLiMP pairs, hand-written sets, offline tokenizers. */
import { loadWikitext } from './wikitext';
import { loadTokenizer } from './tokenizer';

export * from './parquet';
export * from './wikitext';
export * from './tokenizer';
export * from './sentences';
export * from './blimp';

export interface WikitextStats {
  sentences: number;
  tokensMin: number;
  tokensMax: number;
  tokensMean: number;
  /** lines whose encoding was cut at maxLength */
  truncated: number;
  distinctLengths: number;
  bos: number | null;
}

/** Token-length statistics of the filtered WikiText set (a raw file, or a .parquet file). */
export async function wikitextStats(file: string, tokenizerDir: string, maxLength = 64): Promise<WikitextStats> {
  const sentences = await loadWikitext(file.endsWith('.parquet') ? { parquet: file } : { file });
  const tok = await loadTokenizer(tokenizerDir);
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  let truncated = 0;
  const lengths = new Set<number>();
  for (const s of sentences) {
    const n = tok.encode(s, { maxLength }).length;
    if (tok.encode(s).length > n) truncated++;
    min = Math.min(min, n);
    max = Math.max(max, n);
    sum += n;
    lengths.add(n);
  }
  return {
    sentences: sentences.length,
    tokensMin: min,
    tokensMax: max,
    tokensMean: sum / sentences.length,
    truncated,
    distinctLengths: lengths.size,
    bos: tok.bos,
  };
}
