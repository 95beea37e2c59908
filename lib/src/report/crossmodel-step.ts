/**
 * Cross-model replication in `reproduce`: the model's own registry cell (E8, E10, E12, E13,
 * Zephyr) when --model is one of them, and the cross-model summary + Figure 3 from whatever
 * cross-model results exist.
 */
import * as C from '../experiments/crossmodel';
import { Study } from '../experiments/study';
import * as M from '../experiments/mechanism';
import type { E1Summary } from '../experiments/e1-stats';
import { Comparability, ReportRow, row } from './verdict';
import { PublishedTarget, comparableWith } from './reproduce';
import { Step, emptyOutput } from './step';

function entryFor(study: Study): C.CrossModelEntry | undefined {
  return C.CROSSMODEL_REGISTRY.find((e) => e.runner && e.hfId === study.opts.model);
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
 * REPORT.md rows of one cross-model cell: loss (baseline, damages), E8 entropy and E10 repair
 * against the cell's published numbers; each row names the original cell and model, and its
 * verdict is computed only when `ctx` says the run is that model with the published settings.
 */
export function crossModelCellRows(
  entry: C.CrossModelEntry,
  ctx: Comparability,
  r: { lossSummary?: E1Summary | null; entropy?: M.E3Record[]; repair?: M.RepairRecord[] },
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

export const crossModelCellStep: Step = {
  name: 'cross-model replication cell',
  applies: (study) => !!entryFor(study),
  async run(study) {
    const out = emptyOutput();
    const entry = entryFor(study)!;
    const r = await C.runCrossModel(entry.key, study);
    out.notes.push(
      `${entry.label}: ${r.info.scale}; memory: ${r.info.memory}; BOS: ${r.info.bos.message ?? (r.info.bos.ok ? 'as expected' : 'differs')}.`,
    );
    if (r.lossSummary) out.tables[`${entry.key}_loss`] = C.publishedComparisonTable(entry.key, r.lossSummary);
    const ctx = comparableWith(study, cellTarget(entry));
    out.notes.push(`${entry.label} (${entry.cell}) comparability: ${ctx.comparability}.`);
    out.rows.push(...crossModelCellRows(entry, ctx, r));
    return out;
  },
};

/** Every registry model's stored results; this study's own model read from the stores it used. */
function crossModelInputs(study: Study) {
  const own = C.CROSSMODEL_REGISTRY.find((e) => e.hfId === study.opts.model);
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
