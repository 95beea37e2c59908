/**
 * B3 "Residual geometry from contrastive sets" (issue 9.3): last-token activations of two prompt
 * sets at every layer, for `hook_resid_pre` (plus the final `hook_resid_post` as layer nLayers) and
 * `hook_resid_mid` (sequential models only; parallel-residual models have no resid_mid and are
 * skipped with a note). Per layer: cosine of the two set means, ‖μ_A − μ_B‖, mean and max
 * per-feature variance over both sets, mean norm and its growth from the previous layer.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as crypto from 'node:crypto';
import { hooks, type HookName } from '../../engine/hooks';
import type { Item } from '../../engine/types';
import { Study } from '../study';
import { runConditions, Condition } from '../runs';
import { PUBLISHED } from '../settings';
import { installRoot } from '../../util/paths';
import { TwoSetStats, twoSetStats } from './geometry';

/** Non-empty, trimmed lines of a prompt file; lines starting with # are comments. */
export function loadPrompts(file: string): string[] {
  if (!fs.existsSync(file)) throw new Error(`${file}: no such prompt file`);
  const lines = fs
    .readFileSync(file, 'utf8')
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  if (!lines.length) throw new Error(`${file}: no prompts (one prompt per line)`);
  return lines;
}

/** The committed default sets: data/contrast/questions.txt vs data/contrast/statements.txt. */
export function defaultContrastFiles(): { a: string; b: string } {
  const dir = path.join(installRoot(), 'data/contrast');
  return { a: path.join(dir, 'questions.txt'), b: path.join(dir, 'statements.txt') };
}

export type ContrastHook = 'resid_pre' | 'resid_mid';

export interface ContrastSettings {
  experiment: string;
  fileA: string;
  fileB: string;
  labelA: string;
  labelB: string;
  hooks: ContrastHook[];
}

export function contrastSettings(
  study: Study,
  opts: Partial<ContrastSettings> = {},
): ContrastSettings & { skipped: string[] } {
  const def = defaultContrastFiles();
  const fileA = opts.fileA ?? def.a,
    fileB = opts.fileB ?? def.b;
  const want = opts.hooks ?? ['resid_pre', 'resid_mid'];
  const skipped: string[] = [];
  const hooks = want.filter((h) => {
    if (h === 'resid_mid' && study.model.cfg.parallelResidual) {
      skipped.push(
        'resid_mid: this model uses a parallel residual (attention and MLP both read the block input), so there is no residual state between them',
      );
      return false;
    }
    return true;
  });
  return {
    experiment: opts.experiment ?? 'B3-contrast',
    fileA,
    fileB,
    labelA: opts.labelA ?? path.basename(fileA).replace(/\.[^.]*$/, ''),
    labelB: opts.labelB ?? path.basename(fileB).replace(/\.[^.]*$/, ''),
    hooks,
    skipped,
  };
}

export interface ContrastLayer extends TwoSetStats {
  /** layer index; for resid_pre, layer nLayers is the final block's hook_resid_post */
  layer: number;
  hook: string;
  /** mean norm / mean norm of the previous row (NaN-free: 1 for the first) */
  growth: number;
}

export interface ContrastRecord {
  key: string;
  hook: ContrastHook;
  layers: ContrastLayer[];
  seconds: number;
  [k: string]: unknown;
}

function hookNamesFor(hook: ContrastHook, nLayers: number): HookName[] {
  const names = Array.from({ length: nLayers }, (_, l): HookName => `blocks.${l}.hook_${hook}`);
  if (hook === 'resid_pre') names.push(hooks.residPost(nLayers - 1));
  return names;
}

/** Last-token vectors of every item at each hook: [hook][item]. */
export async function lastTokenActivations(study: Study, items: Item[], names: HookName[]): Promise<Float32Array[][]> {
  const { cache } = await study.model.runWithCache(items, names);
  return names.map((h) =>
    items.map((it) => {
      const t = cache.get(h, it.id);
      const [T, D] = t.dims;
      return t.data.slice((T - 1) * D, T * D);
    }),
  );
}

/** Per-layer two-set statistics from activations [hook][item] of A and of B. */
export function contrastLayers(actsA: Float32Array[][], actsB: Float32Array[][], hookNames: string[]): ContrastLayer[] {
  const out: ContrastLayer[] = [];
  hookNames.forEach((h, i) => {
    const st = twoSetStats(actsA[i], actsB[i]);
    out.push({ layer: i, hook: h, ...st, growth: i ? st.norm / out[i - 1].norm : 1 });
  });
  return out;
}

const sha = (file: string) => crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex').slice(0, 16);

export async function runContrast(study: Study, s: ContrastSettings): Promise<ContrastRecord[]> {
  const A = loadPrompts(s.fileA),
    B = loadPrompts(s.fileB);
  const enc = (ps: string[], base: number): Item[] =>
    ps.map((p, i) => ({ id: base + i, ids: study.tokenizer.encode(p, { maxLength: PUBLISHED.maxLength }) }));
  const itemsA = enc(A, 0),
    itemsB = enc(B, 100000);
  const n = study.model.cfg.nLayers;
  const common = {
    experiment: s.experiment,
    fileA: path.basename(s.fileA),
    fileB: path.basename(s.fileB),
    shaA: sha(s.fileA),
    shaB: sha(s.fileB),
    nA: A.length,
    nB: B.length,
    labelA: s.labelA,
    labelB: s.labelB,
    parallelResidual: study.model.cfg.parallelResidual,
    env: study.environment(),
  };
  const conds: Condition<ContrastRecord>[] = s.hooks.map((hook) => ({
    key: hook,
    run: async () => {
      const t0 = performance.now();
      const names = hookNamesFor(hook, n);
      const [a, b] = [
        await lastTokenActivations(study, itemsA, names),
        await lastTokenActivations(study, itemsB, names),
      ];
      return { key: hook, hook, layers: contrastLayers(a, b, names), seconds: (performance.now() - t0) / 1000 };
    },
  }));
  return runConditions(study, s.experiment, conds, common);
}

export interface ContrastSummary {
  labelA: string;
  labelB: string;
  nA: number;
  nB: number;
  parallelResidual: boolean;
  byHook: Partial<Record<ContrastHook, ContrastLayer[]>>;
}

export function summarizeContrast(records: ContrastRecord[]): ContrastSummary {
  if (!records.length) throw new Error('no contrast records');
  const r0 = records[0];
  const byHook: ContrastSummary['byHook'] = {};
  for (const r of records) byHook[r.hook] = r.layers;
  return {
    labelA: r0.labelA as string,
    labelB: r0.labelB as string,
    nA: r0.nA as number,
    nB: r0.nB as number,
    parallelResidual: !!r0.parallelResidual,
    byHook,
  };
}
