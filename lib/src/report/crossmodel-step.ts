/**
 * Cross-model replication in `reproduce`: the model's own registry cell (E8, E10, E12, E13,
 * Zephyr) when --model is one of them, and the cross-model summary + Figure 3 from whatever
 * cross-model results exist.
 */
import * as C from '../experiments/crossmodel';
import { Study } from '../experiments/study';
import { ReportRow, row } from './verdict';
import { Step, emptyOutput } from './step';

function entryFor(study: Study): C.CrossModelEntry | undefined {
  return C.CROSSMODEL_REGISTRY.find((e) => e.runner && e.hfId === study.opts.model);
}

export const crossModelCellStep: Step = {
  name: 'cross-model replication cell',
  applies: (study) => !!entryFor(study),
  async run(study, ctx) {
    const out = emptyOutput();
    const entry = entryFor(study)!;
    const r = await C.runCrossModel(entry.key, study);
    const pub = C.PUBLISHED_CROSSMODEL[entry.key];
    out.notes.push(
      `${entry.label}: ${r.info.scale}; memory: ${r.info.memory}; BOS: ${r.info.bos.message ?? (r.info.bos.ok ? 'as expected' : 'differs')}.`,
    );
    if (r.lossSummary) out.tables[`${entry.key}_loss`] = C.publishedComparisonTable(entry.key, r.lossSummary);
    const rows: ReportRow[] = [];
    if (pub && r.lossSummary) {
      if (pub.baseline !== null)
        rows.push(
          row(
            `${entry.label} baseline loss`,
            { value: pub.baseline },
            { value: r.lossSummary.baseline },
            ctx.comparable,
          ),
        );
      for (const p of pub.loss) {
        const o = r.lossSummary.rows.find((x) => x.publishedDelta === p.delta);
        const side = (pp: { mean: number; std: number | null }, m?: { mean: number; std: number; perSeed: number[] }) =>
          [
            { value: pp.mean, ...(pp.std === null ? {} : { std: pp.std, n: 3 }) },
            m ? { value: m.mean, std: m.std, n: m.perSeed.length } : null,
          ] as const;
        rows.push(row(`${entry.label} angular damage, δ=${p.delta}`, ...side(p.angular, o?.angle), ctx.comparable));
        rows.push(
          row(`${entry.label} magnitude damage, δ=${p.delta}`, ...side(p.magnitude, o?.magnitude), ctx.comparable),
        );
      }
    }
    out.rows.push(...rows);
    return out;
  },
};

export const crossModelSummaryStep: Step = {
  name: 'cross-model summary and Figure 3',
  applies: (study) => C.loadCrossModelInputs({ quick: study.quick }).inputs.length > 0,
  async run(study) {
    const out = emptyOutput();
    const { inputs, missing } = C.loadCrossModelInputs({ quick: study.quick });
    out.tables['crossmodel_summary'] = C.crossModelTable(C.crossModelSummary(inputs));
    out.figures['figure3_replication'] = C.figure3FromResults(inputs);
    out.notes.push(
      `Models with results: ${inputs.map((i) => i.entry.label).join(', ')}.${missing.length ? ` Not run yet: ${missing.join(', ')}.` : ''}`,
    );
    return out;
  },
};
