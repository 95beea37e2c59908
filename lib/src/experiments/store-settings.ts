/**
 * Which store a run's records go to: every record carries the fingerprint of the settings that
 * change every record (layers, sentences, data source, δ scale, model revision, ...; seeds and δ
 * are condition keys, so more seeds or a larger grid extend a store). Records of other settings go
 * to a sibling store `<experiment>@<id>.jsonl` (id: 8 hex digits of the fingerprint's SHA-256).
 */
import { createHash } from 'node:crypto';
import { canonicalJson } from '../results';

/** The canonical settings text of `common` (a run's shared record fields, `env` set apart). */
export function settingsFingerprint(common: Record<string, unknown>): string {
  const { env, ...settings } = common;
  const revision = (env as { revision?: string | null } | undefined)?.revision;
  return canonicalJson(revision ? { ...settings, modelRevision: revision } : settings);
}

export function settingsId(fingerprint: string): string {
  return createHash('sha256').update(fingerprint).digest('hex').slice(0, 8);
}

/** `<experiment>` for the default store, `<experiment>@<id>` for a store of other settings. */
export const settingsStem = (experiment: string, fingerprint: string): string =>
  `${experiment}@${settingsId(fingerprint)}`;

const short = (v: unknown): string => {
  const t = Array.isArray(v) ? v.join(',') : typeof v === 'string' ? v : JSON.stringify(v);
  return t.length > 100 ? `${t.slice(0, 97)}…` : t;
};

/** "layers 1,2,3; sentences 12; dataSource …" from a record's fingerprint (or its own fields). */
export function describeSettings(record: Record<string, unknown>): string {
  let s: Record<string, unknown>;
  try {
    s = typeof record.fingerprint === 'string' ? JSON.parse(record.fingerprint) : {};
  } catch {
    s = {};
  }
  const parts = Object.entries(s)
    .filter(([k]) => k !== 'experiment')
    .map(([k, v]) => `${k} ${short(v)}`);
  return parts.length ? `settings: ${parts.join('; ')}` : 'settings: not recorded';
}
