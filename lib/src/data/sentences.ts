/**
 * Hand-written sentence sets of the chat/instruction-model cells (EXPERIMENTS.md idx 26-29).
 * Only E12's sentences are quoted in the doc; E13's and Zephyr's are not, so they are not invented here.
 */

/** E12 (TinyLlama, idx 26): the 10 sentences, in the order the doc quotes them. */
export const E12_SENTENCES: readonly string[] = Object.freeze([
  'The cat sat on the mat.',
  'Scientists discovered a new species in the Amazon.',
  'The economy is showing signs of recovery.',
  'She quickly finished her homework before dinner.',
  'The old house at the end of the street was abandoned.',
  'Technology continues to transform how we live.',
  'The children played happily in the park.',
  'He carefully analyzed the data from the experiment.',
  'The restaurant serves excellent Italian food.',
  'Climate change poses serious environmental challenges.',
]);

/** E12: the list is repeated 8 times (Python `sentences * 8`) and the first 50 are used. */
export const E12_REPEAT = 8;
export const E12_USED = 50;

/**
 * Python's `(base * repeat)[:take]`: whole-list repetition, so the first k·len(base) items hold
 * k copies of each sentence (E12: 5 copies of each of the 10).
 */
export function repeatAndTake(base: readonly string[], repeat: number, take: number): string[] {
  if (!Number.isInteger(repeat) || repeat < 0) throw new Error(`repeat must be a non-negative integer, got ${repeat}`);
  if (!Number.isInteger(take) || take < 0) throw new Error(`take must be a non-negative integer, got ${take}`);
  const all: string[] = [];
  for (let r = 0; r < repeat; r++) all.push(...base);
  if (take > all.length) throw new Error(`take ${take} exceeds ${base.length} sentences × ${repeat} = ${all.length}`);
  return all.slice(0, take);
}

/** The 50 sentences E12 actually ran on. */
export function e12Sentences(): string[] {
  return repeatAndTake(E12_SENTENCES, E12_REPEAT, E12_USED);
}

/** Why E13 (OPT-IML) and the Zephyr cell have no sentence list here. */
export const UNAVAILABLE_SENTENCE_SETS = Object.freeze({
  E13:
    'E13 (OPT-IML, idx 27) used "8 short sentences ×8, first 50 tokenised, first 40 used (5 copies each)"; ' +
    'EXPERIMENTS.md does not quote the sentences, so they are not available. Supply your own list explicitly.',
  Zephyr:
    'Zephyr (idx 29) used "8 sentences ×6, first 40 tokenised, first 30 used" and never produced a result; ' +
    'EXPERIMENTS.md does not quote the sentences, so they are not available. Supply your own list explicitly.',
});

/** The sentence list of a hand-written-data cell; throws with the note above for E13 / Zephyr. */
export function handWrittenSentences(cell: 'E12' | 'E13' | 'Zephyr'): string[] {
  if (cell === 'E12') return e12Sentences();
  const note = UNAVAILABLE_SENTENCE_SETS[cell];
  if (!note) throw new Error(`unknown hand-written sentence set '${cell}' (known: E12, E13, Zephyr)`);
  throw new Error(note);
}
