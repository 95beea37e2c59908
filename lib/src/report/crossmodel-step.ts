/**
 * Cross-model replication in `reproduce`: the model's own registry cell (E8 with E9 on
 * Pythia-1.4B, E10, E12, E13, Zephyr) when --model is one of them, and the cross-model summary +
 * Figure 3 from whatever cross-model results exist.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as C from '../experiments/crossmodel';
import { Study } from '../experiments/study';
import * as M from '../experiments/mechanism';
import type { E1Summary } from '../experiments/e1-stats';
import { Comparability, ReportRow, row } from './verdict';
import { PublishedTarget, comparableWith } from './reproduce';
import { Step, StepOutput, emptyOutput } from './step';

type RegistryQuery = Pick<Study, 'opts'> & { model: { cfg: C.ArchFacts } };

/** Registry models whose config (every ARCH_FIELD) a local folder has; [] for a hub id or no folder. */
function sameConfig(study: RegistryQuery): C.CrossModelEntry[] {
  if (!fs.existsSync(study.opts.model)) return [];
  return C.CROSSMODEL_REGISTRY.filter((e) => !C.archDifferences(study.model.cfg, e.arch).length);
}

const hubName = (e: C.CrossModelEntry) => e.hfId.split('/')[1];

/**
 * The registry model a study runs: by hub id, or for a local folder by config (every ARCH_FIELD
 * equal); OPT-1.3B and OPT-IML-1.3B share one config, so a folder matching several is told apart by
 * its name (the hub name, e.g. `opt-iml-1.3b`), else it is none of them (ambiguousRegistryModel says so).
 */
export function registryModelOf(study: RegistryQuery) {
  const byId = C.CROSSMODEL_REGISTRY.find((e) => e.hfId === study.opts.model);
  if (byId) return byId;
  const same = sameConfig(study);
  if (same.length <= 1) return same[0];
  const name = path.basename(path.resolve(study.opts.model)).toLowerCase();
  return same.find((e) => hubName(e).toLowerCase() === name);
}

/** Why a local folder with a registry config gets no cross-model cell (its config is several models'), or null. */
export function ambiguousRegistryModel(study: RegistryQuery): string | null {
  const same = sameConfig(study);
  if (same.length < 2 || registryModelOf(study)) return null;
  return (
    `${study.opts.model} has the config of ${same.map((e) => e.label).join(' and ')}, which its name does not tell apart: ` +
    `name the folder ${same.map(hubName).join(' or ')} to run that model's cross-model cell`
  );
}

function entryFor(study: Study): C.CrossModelEntry | undefined {
  const e = registryModelOf(study);
  return e?.runner ? e : undefined;
}

/** The published target of a registry cell: its own model (hub id, revision when pinned, shape). */
export function cellTarget(entry: C.CrossModelEntry): PublishedTarget {
  return {
    label: entry.label,
    hfId: entry.hfId,
    ...(entry.revision ? { revision: entry.revision } : {}),
    arch: entry.arch,
  };
}

/**
 * REPORT.md rows of one cross-model cell: loss (baseline, damages), E8 entropy, E9 pathway repairs
 * (Pythia-1.4B, against idx 17's numbers) and E10 repair against the cell's published numbers; each
 * row names the original cell and model, and its verdict is computed only when `ctx` says the run is
 * that model with the published settings.
 */
export function crossModelCellRows(
  entry: C.CrossModelEntry,
  ctx: Comparability,
  r: {
    lossSummary?: E1Summary | null;
    entropy?: M.E3Record[];
    repair?: M.RepairRecord[];
    pathways?: M.RepairRecord[];
  },
  /** name the original cell and model in each quantity (REPORT.md); a notebook's title already says it */
  withSource = true,
): ReportRow[] {
  const pub = C.PUBLISHED_CROSSMODEL[entry.key];
  const rows: ReportRow[] = [];
  if (!pub) return rows;
  const q = (what: string) => (withSource ? `${entry.label} [${entry.cell}, ${entry.hfId}] ${what}` : what);
  const ms = (pp: { mean: number; std: number | null }, n: number) => ({
    value: pp.mean,
    ...(pp.std === null ? {} : { std: pp.std, n }),
  });
  const ours = (m?: { mean: number; std: number; perSeed: number[] }) =>
    m ? { value: m.mean, std: m.std, n: m.perSeed.length } : null;
  if (r.lossSummary) {
    if (pub.baseline !== null)
      rows.push(row(q('baseline loss'), { value: pub.baseline }, { value: r.lossSummary.baseline }, ctx));
    for (const p of pub.loss) {
      const o = r.lossSummary.rows.find((x) => x.publishedDelta === p.delta);
      rows.push(row(q(`angular damage, δ=${p.delta}`), ms(p.angular, entry.loss.seeds), ours(o?.angle), ctx));
      rows.push(row(q(`magnitude damage, δ=${p.delta}`), ms(p.magnitude, entry.loss.seeds), ours(o?.magnitude), ctx));
    }
  }
  if (pub.entropy && entry.entropy && r.entropy?.length && C.pairedSeedCount(r.entropy) > 1) {
    const e = C.summarizeEntropy(r.entropy);
    const n = entry.entropy.seeds;
    rows.push(row(q('E8 entropy baseline'), { value: pub.entropy.base }, { value: e.base }, ctx));
    rows.push(row(q('E8 ΔH angle'), ms(pub.entropy.deltaAngle, n), ours(e.deltaAngle), ctx));
    rows.push(row(q('E8 ΔH magnitude'), ms(pub.entropy.deltaMagnitude, n), ours(e.deltaMagnitude), ctx));
    rows.push(row(q('E8 t (paired, seeds)'), { value: pub.entropy.t }, { value: e.t }, ctx));
  }
  if (entry.pathways && r.pathways?.length && C.pairedSeedCount(r.pathways) > 0) {
    const cell = withSource ? `${entry.label} [${entry.pathways.cell}, ${entry.hfId}] ` : '';
    for (const c of M.summarizeE9(r.pathways).compare)
      rows.push(
        row(
          `${cell}${c.experiment} ${c.quantity}`,
          c.published === null ? null : { value: c.published },
          { value: c.reproduced },
          ctx,
        ),
      );
  }
  if (pub.repair && entry.repair && r.repair?.length && C.pairedSeedCount(r.repair) > 0) {
    const e = C.summarizeRepair(r.repair);
    const n = entry.repair.seeds;
    const side = (x: { mean: number; std: number; recovery: number[] }) => ({
      value: x.mean,
      std: x.std,
      n: x.recovery.length,
    });
    rows.push(
      row(
        q(`E10 attention-repair recovery % angular (${pub.repair.source})`),
        ms(pub.repair.angular, n),
        side(e.angular),
        ctx,
      ),
    );
    rows.push(
      row(
        q(`E10 attention-repair recovery % magnitude (${pub.repair.source})`),
        ms(pub.repair.magnitude, n),
        side(e.magnitude),
        ctx,
      ),
    );
    if (pub.repair.t !== undefined)
      rows.push(row(q('E10 t (paired, seeds)'), { value: pub.repair.t }, { value: e.t }, ctx));
  }
  return rows;
}

/**
 * One cross-model cell on `study` (resuming): its loss table, E9's pathway table where the cell has
 * one, and its verdict rows against the cell's published numbers, compared only when `study` is
 * the cell's model with the published settings.
 */
export async function crossModelCellOutput(study: Study, entry: C.CrossModelEntry): Promise<StepOutput> {
  const out = emptyOutput();
  const r = await C.runCrossModel(entry, study);
  out.notes.push(
    `${entry.label}: ${r.info.scale}; memory: ${r.info.memory}; BOS: ${r.info.bos.message ?? (r.info.bos.ok ? 'as expected' : 'differs')}.`,
  );
  if (r.lossSummary) out.tables[`${entry.key}_loss`] = C.publishedComparisonTable(entry.key, r.lossSummary);
  if (entry.pathways && r.pathways?.length && C.pairedSeedCount(r.pathways) > 0)
    out.tables[`${entry.key}_e9_pathways`] = M.e9Table(M.summarizeE9(r.pathways));
  const ctx = comparableWith(study, cellTarget(entry));
  out.notes.push(`Comparability with ${entry.cell}: ${ctx.comparability}.`);
  out.rows.push(...crossModelCellRows(entry, ctx, r));
  return out;
}

export const crossModelCellStep: Step = {
  name: 'cross-model replication cell',
  applies: (study) => !!entryFor(study) || (ambiguousRegistryModel(study) ?? false),
  run: (study) => crossModelCellOutput(study, entryFor(study)!),
};

/** Every registry model's stored results; this study's own model read from the stores it used. */
function crossModelInputs(study: Study) {
  const own = registryModelOf(study);
  return C.loadCrossModelInputs({
    quick: study.quick,
    ...(own ? { own: { key: own.key, file: (store: string) => study.resultsFile(store) } } : {}),
  });
}

export const crossModelSummaryStep: Step = {
  name: 'cross-model summary and Figure 3',
  applies: (study) => crossModelInputs(study).inputs.length > 0,
  async run(study) {
    const out = emptyOutput();
    const { inputs, missing } = crossModelInputs(study);
    out.tables['crossmodel_summary'] = C.crossModelTable(C.crossModelSummary(inputs));
    out.figures['figure3_replication'] = C.figure3FromResults(inputs);
    out.notes.push(
      `Models with results: ${inputs.map((i) => i.entry.label).join(', ')}.${missing.length ? ` Not run yet: ${missing.join(', ')}.` : ''}`,
    );
    return out;
  },
};
