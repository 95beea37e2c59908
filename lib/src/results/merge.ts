/** Combine the result files of several shards (or resumed runs) into one record list. */
import { canonicalJson, parseResultsFile, type ResultRecord } from './jsonl';

export interface MergeReport {
  /** one record per key: in expectedKeys order when given (unexpected keys after), else first-seen order */
  records: ResultRecord[];
  /** expected keys that no file has (gaps to re-run) */
  missing: string[];
  /** keys present but not expected */
  unexpected: string[];
  /** keys found in more than one file with identical content (harmless) */
  duplicates: string[];
  /** files whose last line is torn (ignored here; opening them with ResultStore repairs them) */
  torn: string[];
}

/** Merge files; a key stored twice with different content is an error naming both files. */
export function mergeResults(files: string[], expectedKeys?: readonly string[]): MergeReport {
  const found = new Map<string, { rec: ResultRecord; canon: string; file: string }>();
  const duplicates = new Set<string>();
  const torn: string[] = [];
  for (const file of files) {
    const parsed = parseResultsFile(file);
    if (parsed.torn) torn.push(file);
    for (const rec of parsed.records) {
      const canon = canonicalJson(rec);
      const prev = found.get(rec.key);
      if (!prev) found.set(rec.key, { rec, canon, file });
      else if (prev.canon === canon) duplicates.add(rec.key);
      else throw new Error(`key '${rec.key}' has conflicting results in ${prev.file} and ${file}`);
    }
  }
  if (!expectedKeys) {
    return { records: [...found.values()].map((f) => f.rec), missing: [], unexpected: [], duplicates: [...duplicates], torn };
  }
  const expected = new Set(expectedKeys);
  if (expected.size !== expectedKeys.length) throw new Error('mergeResults: expectedKeys has duplicates');
  const records: ResultRecord[] = [];
  const missing: string[] = [];
  for (const k of expectedKeys) {
    const f = found.get(k);
    if (f) records.push(f.rec);
    else missing.push(k);
  }
  const unexpected = [...found.keys()].filter((k) => !expected.has(k));
  for (const k of unexpected) records.push(found.get(k)!.rec);
  return { records, missing, unexpected, duplicates: [...duplicates], torn };
}
