/** `dirmag results check|repair`: find and resolve keys stored more than once in a results file. */
import * as fs from 'node:fs';
import { conflictingKeys, scanResultsFile, type ResultRecord } from './jsonl';
import { lockStore, type LockOptions } from './lock';

export interface CheckReport {
  file: string;
  records: number;
  keys: number;
  /** keys stored more than once with identical content */
  identical: { key: string; lines: number[] }[];
  /** keys stored more than once with different content */
  conflicts: { key: string; lines: number[] }[];
  torn: { line: number; bytes: number } | null;
}

export function checkResultsFile(file: string): CheckReport {
  if (!fs.existsSync(file)) throw new Error(`${file}: no such results file`);
  const scan = scanResultsFile(file);
  const conflicts = conflictingKeys(scan);
  const bad = new Set(conflicts.map((c) => c.key));
  const lines = new Map<string, number[]>();
  for (const l of scan.lines) lines.set(l.record.key, [...(lines.get(l.record.key) ?? []), l.line]);
  return {
    file,
    records: scan.lines.length,
    keys: lines.size,
    identical: [...lines].filter(([k, ls]) => ls.length > 1 && !bad.has(k)).map(([key, ls]) => ({ key, lines: ls })),
    conflicts,
    torn: scan.torn,
  };
}

export type KeepPolicy = 'first' | 'last' | 'none';

/**
 * Rewrite `file` with one record per key: identical duplicates collapse; conflicting keys keep the
 * first or the last line, or none (drop both: rerun those conditions). Takes the write lock; the
 * new file is written beside it and renamed over it, the old one kept as `<file>.bak-<time>`.
 */
export function repairResultsFile(
  file: string,
  keep: KeepPolicy,
  lock: LockOptions = {},
): { backup: string; kept: number; dropped: string[]; removedLines: number } {
  const release = lockStore(file, lock);
  try {
    const scan = scanResultsFile(file);
    const conflicts = new Set(conflictingKeys(scan).map((c) => c.key));
    const chosen = new Map<string, ResultRecord>();
    for (const l of scan.lines) {
      const k = l.record.key;
      if (conflicts.has(k) && keep === 'none') continue;
      if (!chosen.has(k) || (conflicts.has(k) && keep === 'last')) {
        chosen.delete(k); // keep-last moves the record to its last position
        chosen.set(k, l.record);
      }
    }
    const text = [...chosen.values()].map((r) => JSON.stringify(r) + '\n').join('');
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    const backup = `${file}.bak-${stamp}`;
    const tmp = `${file}.${process.pid}.tmp`;
    fs.copyFileSync(file, backup);
    const fd = fs.openSync(tmp, 'w');
    try {
      fs.writeSync(fd, text);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, file);
    return {
      backup,
      kept: chosen.size,
      dropped: keep === 'none' ? [...conflicts] : [],
      removedLines: scan.lines.length - chosen.size + (scan.torn ? 1 : 0),
    };
  } finally {
    release();
  }
}
