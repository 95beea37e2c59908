/** loadModel: a Hugging Face model id or a local folder → a ready Model (one way to load). */
import * as path from 'node:path';
import { resolveModel } from '../hub';
import { LoadOptions, Model } from './model';
import { parseProvider, requireProvider } from './providers';

export interface LoadModelOptions extends LoadOptions {
  /** hub revision (branch, tag or commit) */
  hubRevision?: string;
  onProgress?: (file: string, bytesDone: number, bytesTotal: number) => void;
}

export async function loadModel(idOrDir: string, opts: LoadModelOptions = {}): Promise<Model> {
  // a missing provider fails before a download starts
  requireProvider(parseProvider(opts.provider ?? 'cpu'));
  const resolved = await resolveModel(idOrDir, { revision: opts.hubRevision, onProgress: opts.onProgress });
  return Model.fromDir(resolved.dir, { ...opts, revision: resolved.revision, name: modelName(idOrDir) });
}

/** A short, file-system-safe name for results folders: `org--name` for hub ids, the folder name for paths. */
export function modelName(idOrDir: string): string {
  const clean = idOrDir.replace(/\/+$/, '');
  const looksLocal = clean.startsWith('.') || clean.startsWith('/') || clean.split('/').length > 2;
  return (looksLocal ? path.basename(clean) : clean.replace('/', '--')).replace(/[^A-Za-z0-9._-]/g, '_');
}
