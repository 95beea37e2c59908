/** Parsing of results JSONL files: one `{ "key": ..., ...data }` object per line. */
import * as fs from 'node:fs';

export interface ResultRecord {
  key: string;
  [field: string]: unknown;
}

export interface ParsedResults {
  records: ResultRecord[];
  /** byte length of the intact prefix (everything before a torn last line) */
  goodBytes: number;
  /** the torn last line, if any: its 1-based line number and byte length */
  torn: { line: number; bytes: number } | null;
  /** keys stored more than once with identical content (kept once, at the first line) */
  duplicates: { key: string; lines: number[] }[];
}

/** Every line of a results file, with its 1-based line number; nothing deduplicated. */
export interface ScannedResults {
  lines: { line: number; record: ResultRecord; canon: string }[];
  goodBytes: number;
  torn: { line: number; bytes: number } | null;
}

/**
 * Read a results file. Only the LAST line may be damaged (no trailing newline, or not a JSON
 * record): that is what a crash during (or a read during) an append can leave; it is reported in
 * `torn` and ignored. Damage anywhere else is an error.
 */
export function scanResultsFile(file: string): ScannedResults {
  if (!fs.existsSync(file)) return { lines: [], goodBytes: 0, torn: null };
  const buf = fs.readFileSync(file);
  const lines: ScannedResults['lines'] = [];
  let pos = 0;
  let line = 0;
  while (pos < buf.length) {
    line++;
    const nl = buf.indexOf(0x0a, pos);
    const end = nl < 0 ? buf.length : nl;
    const rec = parseRecord(buf.subarray(pos, end).toString('utf8'));
    const isLast = nl < 0 || nl === buf.length - 1;
    if (nl < 0 || typeof rec === 'string') {
      if (isLast) return { lines, goodBytes: pos, torn: { line, bytes: buf.length - pos } };
      throw new Error(
        `${file}:${line}: ${typeof rec === 'string' ? rec : 'line not terminated'} (not the last line, so not a torn append: fix the file by hand)`,
      );
    }
    lines.push({ line, record: rec, canon: canonicalJson(rec) });
    pos = end + 1;
  }
  return { lines, goodBytes: pos, torn: null };
}

/** Keys stored more than once with different content: each with every line that holds it. */
export function conflictingKeys(scan: ScannedResults): { key: string; lines: number[] }[] {
  const byKey = new Map<string, ScannedResults['lines']>();
  for (const l of scan.lines) byKey.set(l.record.key, [...(byKey.get(l.record.key) ?? []), l]);
  return [...byKey]
    .filter(([, ls]) => ls.some((l) => l.canon !== ls[0].canon))
    .map(([key, ls]) => ({ key, lines: ls.map((l) => l.line) }));
}

/**
 * Parse a results file into one record per key. A key stored twice with identical content (two
 * writers before locking existed, a hand edit) is kept once and listed in `duplicates`; with
 * different content it is an error naming both lines and the command that resolves it.
 */
export function parseResultsFile(file: string): ParsedResults {
  const scan = scanResultsFile(file);
  const first = new Map<string, { line: number; canon: string; record: ResultRecord }>();
  const dups = new Map<string, number[]>();
  for (const l of scan.lines) {
    const seen = first.get(l.record.key);
    if (!seen) {
      first.set(l.record.key, l);
      continue;
    }
    if (seen.canon !== l.canon) {
      const n = conflictingKeys(scan).length;
      throw new Error(
        `${file}:${l.line}: key '${l.record.key}' conflicts with line ${seen.line} (different content${n > 1 ? `; ${n} conflicting keys in all` : ''}); see them with \`dirmag results check ${file}\`, resolve with \`dirmag results repair ${file} --keep first|last|none\``,
      );
    }
    dups.set(l.record.key, [...(dups.get(l.record.key) ?? [seen.line]), l.line]);
  }
  return {
    records: [...first.values()].map((f) => f.record),
    goodBytes: scan.goodBytes,
    torn: scan.torn,
    duplicates: [...dups].map(([key, lines]) => ({ key, lines })),
  };
}

/** A record, or a string saying why the text is not one. */
function parseRecord(text: string): ResultRecord | string {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return 'invalid JSON';
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return 'not a JSON object';
  const key = (v as { key?: unknown }).key;
  if (typeof key !== 'string' || key === '') return 'record has no string "key"';
  return v as ResultRecord;
}

/** One JSON line for a record; rejects what JSON would silently change (NaN, Infinity, bigint). */
export function serializeRecord(record: ResultRecord): string {
  if (typeof record?.key !== 'string' || record.key === '') throw new Error('result record needs a non-empty string "key"');
  const text = JSON.stringify(record, (field, value) => {
    if (typeof value === 'number' && !Number.isFinite(value)) {
      throw new Error(`result '${record.key}': field '${field}' is ${value}, which JSON cannot store (use null or a string)`);
    }
    if (typeof value === 'bigint') throw new Error(`result '${record.key}': field '${field}' is a bigint, which JSON cannot store`);
    return value;
  });
  return text + '\n';
}

/** JSON with object keys sorted, to compare records regardless of field order. */
export function canonicalJson(v: unknown): string {
  return JSON.stringify(v, (_k, x) =>
    x && typeof x === 'object' && !Array.isArray(x) ? Object.fromEntries(Object.keys(x).sort().map((k) => [k, x[k]])) : x,
  );
}
