/** "Did you mean" suggestions: Levenshtein distance and the closest candidate. */

export function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++)
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length];
}

/** The candidate nearest to `name` (the first of equals). */
export function closest(name: string, candidates: readonly string[]): string {
  return candidates.reduce((best, c) => (editDistance(name, c) < editDistance(name, best) ? c : best), candidates[0]);
}
