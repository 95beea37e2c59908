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
}

/**
 * Parse a results file. Only the LAST line may be damaged (no trailing newline, or not a JSON
 * record): that is what a crash during an append can leave, and it is reported in `torn`.
 * Damage anywhere else, or a duplicate key, is an error.
 */
export function parseResultsFile(file: string): ParsedResults {
  if (!fs.existsSync(file)) return { records: [], goodBytes: 0, torn: null };
  const buf = fs.readFileSync(file);
  const records: ResultRecord[] = [];
  const firstLine = new Map<string, number>();
  let pos = 0;
  let line = 0;
  while (pos < buf.length) {
    line++;
    const nl = buf.indexOf(0x0a, pos);
    const end = nl < 0 ? buf.length : nl;
    const rec = parseRecord(buf.subarray(pos, end).toString('utf8'));
    const isLast = nl < 0 || nl === buf.length - 1;
    if (nl < 0 || typeof rec === 'string') {
      if (isLast) return { records, goodBytes: pos, torn: { line, bytes: buf.length - pos } };
      throw new Error(`${file}:${line}: ${typeof rec === 'string' ? rec : 'line not terminated'} (not the last line, so not a torn append: fix the file by hand)`);
    }
    const seen = firstLine.get(rec.key);
    if (seen !== undefined) throw new Error(`${file}:${line}: duplicate key '${rec.key}' (first at line ${seen})`);
    firstLine.set(rec.key, line);
    records.push(rec);
    pos = end + 1;
  }
  return { records, goodBytes: pos, torn: null };
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
