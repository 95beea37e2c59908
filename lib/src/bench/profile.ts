/** The WikiText length profile: token counts of the study's sentences (Pythia tokenizer, truncation 64). */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { blimpPool, loadTokenizer } from '../data';
import { resolveTokenizer } from '../hub';
import { wikitextSentences } from '../experiments/runs';
import { benchCacheDir } from './pythia';

export interface LengthProfile {
  source: string;
  tokenizer: string;
  maxLength: number;
  lengths: number[];
}

export async function wikitextLengths(
  opts: { tokenizer?: string; file?: string; maxLength?: number; cache?: string } = {},
): Promise<LengthProfile> {
  const tokenizer = await resolveTokenizer(opts.tokenizer ?? 'EleutherAI/pythia-410m');
  const maxLength = opts.maxLength ?? 64;
  const cacheFile = path.join(opts.cache ?? benchCacheDir(), `wikitext-lengths-${maxLength}.json`);
  if (!opts.file && fs.existsSync(cacheFile)) {
    const c = JSON.parse(fs.readFileSync(cacheFile, 'utf8')) as LengthProfile;
    if (c.tokenizer === tokenizer) return c;
  }
  const { sentences, source } = await wikitextSentences(opts.file);
  const tok = await loadTokenizer(tokenizer);
  const profile = { source, tokenizer, maxLength, lengths: sentences.map((s) => tok.encode(s, { maxLength }).length) };
  fs.mkdirSync(path.dirname(cacheFile), { recursive: true });
  fs.writeFileSync(cacheFile, JSON.stringify(profile));
  return profile;
}

export function describeLengths(l: number[]): string {
  const s = [...l].sort((a, b) => a - b);
  const mean = s.reduce((a, b) => a + b, 0) / s.length;
  return `${s.length} sentences, ${s.reduce((a, b) => a + b, 0)} tokens, length ${s[0]}–${s[s.length - 1]} (median ${s[s.length >> 1]}, mean ${mean.toFixed(1)})`;
}

/** Token lengths of the E2 BLiMP pool (both sentences of every pair, pairs × 2 items), cached like the WikiText profile. */
export async function blimpLengths(
  paradigms: string[],
  perParadigm: number,
  opts: { tokenizer: string; dir?: string; maxLength?: number; cache?: string },
): Promise<LengthProfile> {
  const tokenizer = opts.tokenizer;
  const maxLength = opts.maxLength ?? 64;
  const key = `${paradigms.join('+')}-${perParadigm}-${maxLength}`;
  const cacheFile = path.join(opts.cache ?? benchCacheDir(), `blimp-lengths-${key}.json`);
  if (!opts.dir && fs.existsSync(cacheFile)) {
    const c = JSON.parse(fs.readFileSync(cacheFile, 'utf8')) as LengthProfile;
    if (c.tokenizer === tokenizer) return c;
  }
  const pool = await blimpPool(paradigms, {
    mode: 'concat',
    perParadigm,
    total: perParadigm * paradigms.length,
    dir: opts.dir,
  });
  const tok = await loadTokenizer(tokenizer);
  const lengths = pool.flatMap((p) => [p.good, p.bad].map((s) => tok.encode(s, { maxLength }).length));
  const profile = { source: opts.dir ?? 'BLiMP ($DIRMAG_BLIMP_DIR or the hub)', tokenizer, maxLength, lengths };
  fs.mkdirSync(path.dirname(cacheFile), { recursive: true });
  fs.writeFileSync(cacheFile, JSON.stringify(profile));
  return profile;
}
