/**
 * BLiMP minimal pairs: by default the hub's `nyu-mll/blimp` (one parquet per paradigm, fetched into
 * the HF cache); or a local folder of <paradigm>.jsonl files (the original release) given as `dir`
 * or $DIRMAG_BLIMP_DIR; or one parquet file.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BLIMP_REPO, blimpFile, downloadDatasetFile, isHubError } from '../hub';
import { readParquetRows } from './parquet';
import { editDistance } from '../util/closest';

export interface BlimpItem {
  good: string;
  bad: string;
  /** the paradigm, e.g. regular_plural_subject_verb_agreement_1 */
  uid: string;
  pairId: string;
}

export interface BlimpSource {
  /** folder of <paradigm>.jsonl files; default $DIRMAG_BLIMP_DIR, else the hub */
  dir?: string;
  /** a parquet file (columns sentence_good, sentence_bad, UID, pair_id or pairID); rows of other UIDs are skipped */
  parquet?: string;
}

/** The env var naming a local BLiMP folder (jsonl) to use instead of the hub. */
export const BLIMP_DIR_ENV = 'DIRMAG_BLIMP_DIR';

/** Paradigm names available in a jsonl folder. */
export function blimpParadigms(dir: string): string[] {
  if (!fs.existsSync(dir)) throw new Error(`BLiMP folder not found: ${dir}`);
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.jsonl'))
    .map((f) => f.slice(0, -6))
    .sort();
}

/** One row: the original jsonl names its id `pairID`, the hub's parquet `pair_id`. */
function toItem(r: Record<string, unknown>, where: string): BlimpItem {
  const { sentence_good: good, sentence_bad: bad, UID: uid } = r;
  const pairID = r.pairID ?? r.pair_id;
  if (typeof good !== 'string' || typeof bad !== 'string' || typeof uid !== 'string' || pairID == null) {
    throw new Error(`${where}: expected string fields sentence_good, sentence_bad, UID and a pair_id (or pairID)`);
  }
  return { good, bad, uid, pairId: String(pairID) };
}

/** All pairs of one paradigm, in file order: from `src`, else $DIRMAG_BLIMP_DIR, else the hub. */
export async function loadBlimpParadigm(name: string, src: BlimpSource = {}): Promise<BlimpItem[]> {
  const dir = src.dir ?? process.env[BLIMP_DIR_ENV];
  if (!src.parquet && !dir) return loadBlimpParadigm(name, { parquet: await hubParadigm(name) });
  if (src.parquet) {
    const rows = await readParquetRows(src.parquet);
    const items = rows.map((r, i) => toItem(r, `${src.parquet} row ${i}`));
    const mine = items.filter((it) => it.uid === name);
    if (mine.length === 0) {
      const uids = [...new Set(items.map((it) => it.uid))];
      throw new Error(`unknown BLiMP paradigm '${name}' in ${src.parquet}${suggest(name, uids)}`);
    }
    return mine;
  }
  const file = path.join(dir!, `${name}.jsonl`);
  if (!fs.existsSync(file))
    throw new Error(`unknown BLiMP paradigm '${name}' in ${dir}${suggest(name, blimpParadigms(dir!))}`);
  const lines = fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '');
  return lines.map((l, i) => {
    let r: Record<string, unknown>;
    try {
      r = JSON.parse(l);
    } catch {
      throw new Error(`${file}:${i + 1}: invalid JSON`);
    }
    return toItem(r, `${file}:${i + 1}`);
  });
}

/** The cached hub parquet of one paradigm (downloaded on first use). */
async function hubParadigm(name: string): Promise<string> {
  try {
    return (await downloadDatasetFile(BLIMP_REPO, blimpFile(name))).path;
  } catch (e) {
    if (!isHubError(e, 'not_found')) throw e;
    throw new Error(`unknown BLiMP paradigm '${name}': ${BLIMP_REPO} has no ${blimpFile(name)}`);
  }
}

/** "; did you mean: a, b?" built from the closest names (substring matches, then edit distance). */
function suggest(name: string, names: string[]): string {
  if (names.length === 0) return ' (no paradigms found)';
  const q = name.toLowerCase();
  const scored = names.map((n) => ({
    n,
    d: n.toLowerCase().includes(q) || q.includes(n.toLowerCase()) ? 0 : editDistance(q, n.toLowerCase()),
  }));
  scored.sort((a, b) => a.d - b.d || a.n.localeCompare(b.n));
  const close = scored.filter((s) => s.d <= Math.max(3, Math.floor(q.length / 3))).slice(0, 5);
  return close.length
    ? `; did you mean: ${close.map((s) => s.n).join(', ')}?`
    : ` (${names.length} paradigms, none close)`;
}

export interface PoolOptions {
  /**
   * 'interleave': the first perParadigm items of each paradigm, alternating p1[0], p2[0], p1[1], ...;
   * 'concat': each paradigm's first perParadigm items (default: all), concatenated, then the first total.
   * The original's "200 items, 2 paradigms pooled" is either concat+perParadigm 100 (100 + 100,
   * p1 first) or concat+total 200 (all from the first paradigm); see EXPERIMENTS.md idx 7.
   */
  mode: 'interleave' | 'concat';
  perParadigm?: number;
  /** cap on the pool size; default 200 */
  total?: number;
}

/** Pool already-loaded paradigms (pure). Errors if a paradigm or the pool is too small. */
export function poolItems(lists: BlimpItem[][], opts: PoolOptions): BlimpItem[] {
  if (lists.length === 0) throw new Error('blimpPool: no paradigms given');
  const total = opts.total ?? 200;
  const per = opts.perParadigm ?? (opts.mode === 'interleave' ? Math.ceil(total / lists.length) : undefined);
  for (const [k, v] of Object.entries({ total, perParadigm: per })) {
    if (v !== undefined && (!Number.isInteger(v) || v < 1))
      throw new Error(`blimpPool: ${k} must be a positive integer, got ${v}`);
  }
  const heads = lists.map((l) => {
    if (per !== undefined && l.length < per)
      throw new Error(
        `blimpPool: paradigm ${l[0]?.uid ?? '(empty)'} has ${l.length} items, fewer than perParadigm ${per}`,
      );
    return per === undefined ? l : l.slice(0, per);
  });
  let pool: BlimpItem[];
  if (opts.mode === 'concat') pool = heads.flat();
  else if (opts.mode === 'interleave') {
    pool = [];
    const longest = Math.max(...heads.map((h) => h.length));
    for (let i = 0; i < longest; i++) for (const h of heads) if (i < h.length) pool.push(h[i]);
  } else throw new Error(`blimpPool: mode must be 'interleave' or 'concat', got '${String(opts.mode)}'`);
  if (pool.length < total) throw new Error(`blimpPool: only ${pool.length} items available, total ${total} requested`);
  return pool.slice(0, total);
}

/** Load paradigms by name and pool them (see PoolOptions). */
export async function blimpPool(paradigms: string[], opts: PoolOptions & BlimpSource): Promise<BlimpItem[]> {
  const lists: BlimpItem[][] = [];
  for (const p of paradigms) lists.push(await loadBlimpParadigm(p, opts));
  return poolItems(lists, opts);
}
