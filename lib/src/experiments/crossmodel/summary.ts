/**
 * The cross-model summary table (EXPERIMENTS.md §4) and Figure 3 (§3), computed from result
 * records only: loss sweeps, E8 entropy, E10 repair, and the model facts recorded by the runner
 * (norm type, residual layout, dtype). Nothing is typed in; published values appear only in their
 * own column for comparison.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { modelName } from '../../engine/load';
import { parseResultsFile, resultsPath } from '../../results';
import { ResultsTable, fmtMeanStd, resultsTable } from '../../tables';
import { PlotlyFigure, figure3, type Figure3Model } from '../../plots';
import { resultsDir } from '../../util/paths';
import { SweepRecord } from '../e1-sweep';
import { summarizeE1 } from '../e1-stats';
import { CROSSMODEL_REGISTRY, CrossModelEntry, PUBLISHED_CROSSMODEL } from './registry';
import { E3Record, RepairRecord, pairedSeeds, summarizeE4, summarizeE9 } from '../mechanism';
import { ModelInfo, pairedSeedCount, summarizeEntropy, summarizeRepair } from './runners';

export interface CrossModelInput {
  entry: CrossModelEntry;
  /** recorded model facts; when absent, the registry's (marked in the row) */
  info?: Pick<ModelInfo, 'norm' | 'parallelResidual' | 'checkpointDtype' | 'layers'> & Partial<ModelInfo>;
  loss: SweepRecord[];
  /** E8-entropy records (E3's format) */
  entropy?: E3Record[];
  /** E10-repair records (E4's format) */
  repair?: RepairRecord[];
  /** repair recovery measured by a mechanism procedure (E4, or E9 for Pythia-1.4B), with its source */
  repairOverride?: {
    angular: { mean: number; std?: number };
    magnitude: { mean: number; std?: number };
    source: string;
  };
}

export interface CrossModelRow {
  key: string;
  model: string;
  arch: string;
  norm: 'LayerNorm' | 'RMSNorm';
  residual: 'parallel' | 'sequential';
  dtype: string;
  layers: string;
  seeds: number;
  sentences: number;
  delta: number;
  angular: number;
  angularStd: number;
  magnitude: number;
  magnitudeStd: number;
  ratio: number;
  /** one-sided p (H1 angle > magnitude), paired over seeds */
  pOneSided: number;
  publishedRatio: number | null;
  entropyAngle: number | null;
  entropyMagnitude: number | null;
  repairAngle: number | null;
  repairMagnitude: number | null;
  factsFrom: 'results' | 'registry';
}

const range = (ls: number[]) =>
  ls.length > 1 && ls.every((l, i) => i === 0 || l === ls[i - 1] + 1) ? `${ls[0]}–${ls[ls.length - 1]}` : ls.join(',');

export function crossModelSummary(inputs: CrossModelInput[]): CrossModelRow[] {
  const rows: CrossModelRow[] = [];
  for (const inp of inputs) {
    if (!inp.loss.some((r) => r.kind === 'baseline')) continue;
    const e1 = summarizeE1(inp.loss);
    const facts = inp.info ?? {
      norm: inp.entry.arch.norm,
      parallelResidual: inp.entry.arch.parallelResidual,
      checkpointDtype: inp.entry.checkpointDtype,
      layers: inp.entry.layers,
    };
    // the entropy test needs two seeds (an interrupted run with one shows '—')
    const ent = inp.entropy?.length && pairedSeedCount(inp.entropy) > 1 ? summarizeEntropy(inp.entropy) : null;
    const rep = inp.repair?.length && pairedSeedCount(inp.repair) > 0 ? summarizeRepair(inp.repair) : null;
    const repA = rep ? rep.angular.mean : (inp.repairOverride?.angular.mean ?? null);
    const repM = rep ? rep.magnitude.mean : (inp.repairOverride?.magnitude.mean ?? null);
    const pub = PUBLISHED_CROSSMODEL[inp.entry.key];
    for (const r of e1.rows)
      rows.push({
        key: inp.entry.key,
        model: inp.entry.label,
        arch: inp.entry.arch.modelType,
        norm: facts.norm === 'rmsnorm' ? 'RMSNorm' : 'LayerNorm',
        residual: facts.parallelResidual ? 'parallel' : 'sequential',
        dtype: `${inp.entry.originalDtype === 'float16' ? 'fp16' : 'fp32'} → fp32`,
        layers: range(Array.isArray(inp.loss[0].layers) ? (inp.loss[0].layers as number[]) : facts.layers),
        seeds: r.angle.perSeed.length,
        sentences: e1.nSentences,
        delta: r.publishedDelta,
        angular: r.angle.mean,
        angularStd: r.angle.std,
        magnitude: r.magnitude.mean,
        magnitudeStd: r.magnitude.std,
        ratio: r.ratio,
        pOneSided: r.angle.perSeed.length > 1 ? r.seedTest.pGreater : NaN,
        publishedRatio: pub?.loss.find((x) => x.delta === r.publishedDelta)?.ratio ?? null,
        entropyAngle: ent ? ent.deltaAngle.mean : null,
        entropyMagnitude: ent ? ent.deltaMagnitude.mean : null,
        repairAngle: repA,
        repairMagnitude: repM,
        factsFrom: inp.info ? 'results' : 'registry',
      });
  }
  return rows;
}

const fmtP = (p: number) => (Number.isNaN(p) ? '—' : p < 1e-4 ? p.toExponential(1) : p.toFixed(4));
const opt = (x: number | null, d: number) => (x === null ? '—' : x.toFixed(d));

/** §4 as a table: one row per model and δ. */
export function crossModelTable(rows: CrossModelRow[]): ResultsTable {
  return resultsTable(
    rows.map((r) => ({
      model: r.model,
      norm: r.norm,
      residual: r.residual,
      dtype: r.dtype,
      layers: r.layers,
      n: `${r.seeds} / ${r.sentences}`,
      delta: r.delta,
      angular: fmtMeanStd(r.angular, r.angularStd, 3),
      magnitude: fmtMeanStd(r.magnitude, r.magnitudeStd, 3),
      ratio: r.ratio,
      p: fmtP(r.pOneSided),
      published: r.publishedRatio === null ? '—' : r.publishedRatio.toFixed(2),
      entropy: r.entropyAngle === null ? '—' : `${r.entropyAngle.toFixed(4)} / ${r.entropyMagnitude!.toFixed(4)}`,
      repair: r.repairAngle === null ? '—' : `${opt(r.repairAngle, 1)} / ${opt(r.repairMagnitude, 1)}`,
    })),
    {
      model: { label: 'model' },
      norm: { label: 'norm' },
      residual: { label: 'residual' },
      dtype: { label: 'dtype (orig → ours)' },
      layers: { label: 'layers' },
      n: { label: 'seeds / sentences' },
      delta: { label: 'δ' },
      angular: { label: 'angular damage' },
      magnitude: { label: 'magnitude damage' },
      ratio: { label: 'ratio', digits: 2 },
      p: { label: 'p one-sided (seeds)' },
      published: { label: 'published ratio' },
      entropy: { label: 'ΔH ang / mag' },
      repair: { label: 'attn repair % ang / mag' },
    },
  );
}

/**
 * Figure 3 from results: panel A the angular/magnitude ratio at `deltas` for every model that has
 * all of them (the original: Pythia-410M and 1.4B at δ = 2, 5, 10; δ = 2, 5 are shared by every
 * cell), panel B attention-repair recovery where measured.
 */
export function figure3FromResults(inputs: CrossModelInput[], deltas: number[] = [2, 5, 10]): PlotlyFigure {
  const models: Figure3Model[] = [];
  for (const inp of inputs) {
    if (!inp.loss.some((r) => r.kind === 'baseline')) continue;
    const e1 = summarizeE1(inp.loss);
    if (!deltas.every((d) => e1.rows.some((r) => r.publishedDelta === d))) continue;
    const pts = (k: 'angle' | 'magnitude') =>
      e1.rows.map((r) => ({ delta: r.publishedDelta, mean: r[k].mean, std: r[k].std }));
    const rep = inp.repair?.length && pairedSeedCount(inp.repair) > 0 ? summarizeRepair(inp.repair) : null;
    const recovery = rep
      ? {
          angular: { mean: rep.angular.mean, std: rep.angular.std },
          magnitude: { mean: rep.magnitude.mean, std: rep.magnitude.std },
        }
      : inp.repairOverride
        ? { angular: inp.repairOverride.angular, magnitude: inp.repairOverride.magnitude }
        : undefined;
    models.push({
      name: inp.entry.label,
      damage: { angular: pts('angle'), magnitude: pts('magnitude') },
      ...(recovery ? { recovery } : {}),
    });
  }
  if (!models.length) throw new Error(`figure 3: no model has loss results at δ = ${deltas.join(', ')}`);
  return figure3({ models, ratioDeltas: deltas });
}

/** Where a model's cross-model results live: results/<org--name>[-quick]/ (or a given folder name). */
export function crossModelFolder(entry: CrossModelEntry, quick = false): string {
  return `${modelName(entry.hfId)}${quick ? '-quick' : ''}`;
}

function readRecords<T>(file: string): T[] {
  return fs.existsSync(file) ? (parseResultsFile(file).records as unknown as T[]) : [];
}

/**
 * Reads every registry model's result files that exist under `root`. `folders` maps registry keys
 * to results folder names (default: the published model's, with -quick in quick mode); `own` names
 * the files of the running study's model (the stores it used, which hold its settings).
 */
export function loadCrossModelInputs(
  o: {
    root?: string;
    quick?: boolean;
    folders?: Record<string, string>;
    own?: { key: string; file: (store: string) => string };
  } = {},
): {
  inputs: CrossModelInput[];
  missing: string[];
} {
  const root = o.root ?? resultsDir();
  const inputs: CrossModelInput[] = [];
  const missing: string[] = [];
  for (const entry of CROSSMODEL_REGISTRY) {
    const folder = o.folders?.[entry.key] ?? crossModelFolder(entry, o.quick);
    const file =
      o.own?.key === entry.key ? o.own.file : (store: string) => path.resolve(resultsPath(folder, store, root));
    const loss = readRecords<SweepRecord>(file(entry.loss.store));
    if (!loss.length) {
      missing.push(`${entry.label}: no ${path.relative(process.cwd(), file(entry.loss.store))}`);
      continue;
    }
    const info = readRecords<ModelInfo>(file('crossmodel-info')).find((r) => r.key === entry.key);
    const repair = entry.repair ? readRecords<RepairRecord>(file(entry.repair.store)) : [];
    const override = repair.length ? undefined : mechanismRepair(entry, file);
    inputs.push({
      entry,
      ...(info ? { info } : {}),
      loss,
      ...(entry.entropy ? { entropy: readRecords<E3Record>(file(entry.entropy.store)) } : {}),
      ...(entry.repair ? { repair } : {}),
      ...(override ? { repairOverride: override } : {}),
    });
  }
  return { inputs, missing };
}

/**
 * Attention-repair recovery of a model measured by a mechanism procedure in its own results folder
 * (the original's Figure 3B: 410M from E4, 1.4B from E9's attention set): for a cell with a pathways
 * section (Pythia-1.4B) its E9 store's attention recovery (ratio of means, as the original), for
 * any other model its E4 store's mean of per-seed recoveries. Undefined when that store has no
 * paired records.
 */
export function mechanismRepair(
  entry: CrossModelEntry,
  file: (store: string) => string,
): CrossModelInput['repairOverride'] {
  const store = entry.pathways?.store ?? 'E4';
  const r = readRecords<RepairRecord>(file(store));
  if (!r.some((x) => x.kind === 'baseline') || !pairedSeeds(r, 'angle', 'magnitude')[0].length) return undefined;
  if (entry.pathways) {
    const s = summarizeE9(r);
    return {
      angular: { mean: s.angle.recoveryOfMeans.attn },
      magnitude: { mean: s.magnitude.recoveryOfMeans.attn },
      source: `${store} (${entry.pathways.cell}, attention set, ratio of means)`,
    };
  }
  const s = summarizeE4(r);
  const ms = (x: { mean: number; std: number }) => ({ mean: x.mean, std: x.std });
  return { angular: ms(s.angle.recoverySeed), magnitude: ms(s.magnitude.recoverySeed), source: store };
}

/** Our loss damages next to the published ones for one registry model (δ as published). */
export function publishedComparisonTable(key: string, e1: import('../e1-stats').E1Summary): ResultsTable {
  const pub = PUBLISHED_CROSSMODEL[key];
  const ms = (m: number, s: number | null) => (s === null ? m.toFixed(3) : fmtMeanStd(m, s, 3));
  return resultsTable(
    e1.rows.map((r) => {
      const p = pub?.loss.find((x) => x.delta === r.publishedDelta);
      return {
        delta: r.publishedDelta,
        delta_run: r.delta,
        angular: fmtMeanStd(r.angle.mean, r.angle.std, 3),
        magnitude: fmtMeanStd(r.magnitude.mean, r.magnitude.std, 3),
        ratio: r.ratio,
        p: r.angle.perSeed.length > 1 ? fmtP(r.seedTest.pGreater) : '—',
        p_sent: fmtP(r.sentence.test.pTwoSided),
        pub_angular: p ? ms(p.angular.mean, p.angular.std) : '—',
        pub_magnitude: p ? ms(p.magnitude.mean, p.magnitude.std) : '—',
        pub_ratio: p?.ratio === null || !p ? '—' : p.ratio.toFixed(2),
      };
    }),
    {
      delta: { label: 'δ' },
      delta_run: { label: 'δ as run', digits: 3 },
      angular: { label: 'angular damage' },
      magnitude: { label: 'magnitude damage' },
      ratio: { label: 'ratio', digits: 2 },
      p: { label: 'p one-sided (seeds)' },
      p_sent: { label: 'p two-sided (sentences)' },
      pub_angular: { label: 'published angular' },
      pub_magnitude: { label: 'published magnitude' },
      pub_ratio: { label: 'published ratio' },
    },
  );
}
