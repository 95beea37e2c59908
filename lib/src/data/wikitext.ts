/** The WikiText sentence set of EXPERIMENTS.md §1.5.1 (281 lines of the raw test split). */
import * as fs from 'node:fs';
import { readParquetRows } from './parquet';

export interface WikitextFilter {
  /** keep iff minLen < length (code points) < maxLen */
  minLen?: number;
  maxLen?: number;
  /** stop after this many kept lines */
  max?: number;
}

/** Characters Python's str.isspace() accepts (what str.strip() removes). */
const PY_WS =
  '\t\n\v\f\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000';

/** Python's `str.strip()` with no argument (JS `trim()` differs on \x1c-\x1f, \x85 and \ufeff). */
export function pyStrip(s: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && PY_WS.includes(s[a])) a++;
  while (b > a && PY_WS.includes(s[b - 1])) b--;
  return s.slice(a, b);
}

/** Length in Unicode code points, like Python's len(str). */
export function codePointLength(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

/** Strip each row and keep it iff minLen < len < maxLen, it does not start with '=' and contains '.'; stop at max. */
export function filterWikitextLines(lines: Iterable<string>, opts: WikitextFilter = {}): string[] {
  const { minLen = 30, maxLen = 300, max = 500 } = opts;
  const out: string[] = [];
  if (max <= 0) return out;
  for (const raw of lines) {
    const s = pyStrip(raw);
    const n = codePointLength(s);
    if (n > minLen && n < maxLen && !s.startsWith('=') && s.includes('.')) {
      out.push(s);
      if (out.length >= max) break;
    }
  }
  return out;
}

export interface WikitextSource extends WikitextFilter {
  /** the raw text file (one dataset row per line), e.g. shared/data/wikitext-2-raw/wiki.test.raw */
  file?: string;
  /** a parquet file of the HF dataset (column `text`) */
  parquet?: string;
}

/** Rows of the raw file: the lines, split on '\n' only (as the dataset's rows are). */
export function readRawRows(file: string): string[] {
  if (!fs.existsSync(file)) throw new Error(`wikitext file not found: ${file}`);
  return fs.readFileSync(file, 'utf8').split('\n');
}

/** Load and filter the WikiText rows from exactly one of `file` / `parquet`. */
export async function loadWikitext(src: WikitextSource): Promise<string[]> {
  if (!!src.file === !!src.parquet) throw new Error('loadWikitext: give exactly one of file or parquet');
  let rows: string[];
  if (src.file) rows = readRawRows(src.file);
  else {
    const objs = await readParquetRows(src.parquet!, ['text']);
    rows = objs.map((r, i) => {
      if (typeof r.text !== 'string') throw new Error(`${src.parquet}: row ${i} column text is not a string`);
      return r.text;
    });
  }
  const out = filterWikitextLines(rows, src);
  if (out.length === 0) {
    throw new Error(`${src.file ?? src.parquet}: no line passes the WikiText filter (${rows.length} rows read)`);
  }
  return out;
}
