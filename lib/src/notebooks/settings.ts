/**
 * The one settings cell every notebook starts with: model, quick mode, device and results folder.
 * Precedence: what the cell passes > environment (DIRMAG_MODEL, DIRMAG_QUICK, DIRMAG_DEVICE,
 * DIRMAG_RESULTS, DIRMAG_GPU_MEMORY) > the published configuration. So a notebook runs the paper's
 * setup unchanged, CI points it elsewhere through the environment, and a JupyterLab user edits the cell.
 */
import * as path from 'node:path';
import type { Provider } from '../engine/model';
import { resultsDir } from '../util/paths';

/** Where the model runs. `webgpu` is accepted here and checked by the engine when it loads the model. */
export type Device = 'cpu' | 'cuda' | 'webgpu';
export const DEVICES: readonly Device[] = ['cpu', 'cuda', 'webgpu'];

export interface SettingsInput {
  /** hub id or local checkpoint folder */
  model?: string;
  /** small-model settings: scaled δ, fewer sentences and seeds; results under `<model>-quick` */
  quick?: boolean;
  device?: Device;
  /** results root (the model's folder is created under it) */
  results?: string;
  /** free GPU memory in GiB for the memory plan, when nvidia-smi is absent or wrong */
  gpuMemoryGiB?: number;
}

export interface NotebookSettings {
  readonly model: string;
  readonly quick: boolean;
  readonly device: Device;
  readonly results: string;
  readonly gpuMemoryGiB?: number;
  /** the published model of this notebook (the default) */
  readonly published: string;
  /** options for `Study.open` */
  studyOptions(): { model: string; quick: boolean; provider: Provider; resultsDir: string };
  /** one line: what this run uses and where each value came from */
  describe(): string;
}

function parseQuick(v: string): boolean {
  const s = v.trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(s)) return true;
  if (['0', 'false', 'no', 'off', ''].includes(s)) return false;
  throw new Error(`DIRMAG_QUICK must be 1 or 0 (or true/false), got '${v}'`);
}

function checkDevice(v: string, from: string): Device {
  if ((DEVICES as readonly string[]).includes(v)) return v as Device;
  throw new Error(`${from} must be one of ${DEVICES.join(', ')}, got '${v}'`);
}

function parseGiB(v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`DIRMAG_GPU_MEMORY must be a positive number of GiB, got '${v}'`);
  return n;
}

/**
 * Settings for one notebook. `published` is the notebook's published model; `overrides` are what the
 * user typed into the cell. Throws one line for a bad value.
 */
export function notebookSettings(
  published: string,
  overrides: SettingsInput = {},
  env: Record<string, string | undefined> = process.env,
): NotebookSettings {
  if (!published) throw new Error('notebookSettings: the published model must be named');
  const from: string[] = [];
  const pick = <T>(name: string, cell: T | undefined, envVar: string, parse: (v: string) => T, dflt: T): T => {
    if (cell !== undefined) {
      from.push(`${name} from the cell`);
      return cell;
    }
    const e = env[envVar];
    if (e !== undefined && e !== '') {
      from.push(`${name} from ${envVar}`);
      return parse(e);
    }
    return dflt;
  };
  const model = pick('model', overrides.model, 'DIRMAG_MODEL', (v) => v, published);
  const quick = pick('quick', overrides.quick, 'DIRMAG_QUICK', parseQuick, false);
  const envDevice = env.DIRMAG_DEVICE ? 'DIRMAG_DEVICE' : 'DIRMAG_PROVIDER'; // DIRMAG_PROVIDER: the older name
  const device = checkDevice(
    pick('device', overrides.device, envDevice, (v) => v as Device, 'cpu'),
    overrides.device !== undefined ? 'device' : envDevice,
  );
  const results = path.resolve(pick('results', overrides.results, 'DIRMAG_RESULTS', (v) => v, resultsDir()));
  const gpuMemoryGiB = pick('GPU memory', overrides.gpuMemoryGiB, 'DIRMAG_GPU_MEMORY', parseGiB, undefined);
  if (!model.trim()) throw new Error('model must be a hub id or a checkpoint folder, got an empty string');
  return {
    model,
    quick,
    device,
    results,
    gpuMemoryGiB,
    published,
    studyOptions: () => ({ model, quick, provider: device as Provider, resultsDir: results }),
    describe: () => {
      const what = model === published ? `${model} (the published model)` : `${model} (published: ${published})`;
      const mode = quick ? 'quick mode (small-model settings)' : 'full published settings';
      const src = from.length ? `; ${from.join(', ')}` : '; all defaults';
      return `settings: ${what}, ${mode}, device ${device}, results under ${results}${src}`;
    },
  };
}
