/**
 * Mechanism experiments of Pythia-410M (E3–E7, E11) and Figure 2 in `reproduce`, in the original's
 * order. E9 (idx 17) is Pythia-1.4B's: the cross-model step runs it in that model's cell.
 */
import * as M from '../experiments/mechanism';
import { Study } from '../experiments/study';
import { Comparability, ReportRow, row } from './verdict';
import { ComparedRun, comparableWith, publishedTarget } from './reproduce';
import { PUBLISHED_MODEL } from './published-main';
import { Step, StepOutput, emptyOutput } from './step';

/**
 * REPORT.md rows of the mechanism summaries: each names its original cell and model, and gets a
 * verdict only when this run is *that* model with the published settings (E9, run by notebook 14
 * on any model, belongs to Pythia-1.4B; the others to `ctx`'s Pythia-410M).
 */
export function mechanismRows(
  summaries: { compare: M.CompareRow[] }[],
  study: ComparedRun,
  ctx: Comparability,
  /** name the original cell and model in each quantity (REPORT.md); a notebook's title already says it */
  withSource = true,
): ReportRow[] {
  const P = M.PUBLISHED_MECHANISM as Record<string, { cell?: string; model?: string }>;
  const ctxFor = new Map<string, Comparability>();
  const comparable = (model: string | undefined) => {
    if (!model || model === PUBLISHED_MODEL.id) return ctx;
    if (!ctxFor.has(model)) ctxFor.set(model, comparableWith(study, publishedTarget(model)));
    return ctxFor.get(model)!;
  };
  return summaries.flatMap((s) =>
    s.compare.map((c) => {
      const p = P[c.experiment];
      const from = withSource && p?.cell ? ` [${p.cell}, ${p.model ?? PUBLISHED_MODEL.id}]` : '';
      return row(
        `${c.experiment}${from} ${c.quantity}${c.note ? ` (${c.note})` : ''}`,
        c.published === null ? null : { value: c.published },
        { value: c.reproduced },
        comparable(p?.model),
      );
    }),
  );
}

/** Runs (resuming) the experiments the paper's repair claims rest on: E3, E4–E6 and E11. */
export async function runRepairs(study: Study) {
  const e3 = M.summarizeE3(await M.runE3(study, await M.e3Settings(study)));
  const e4 = M.summarizeE4(await M.runE4(study, await M.e4Settings(study)));
  const s5 = await M.e5Settings(study);
  const e5 = M.summarizeE5(await M.runE5(study, s5), e4);
  const s6 = await M.e6Settings(study);
  const e6 = M.summarizeE6(await M.runE6(study, s6, await M.ensureE5Ranking(study, s5)));
  const s11 = await M.e11Settings(study);
  const e11 = M.summarizeE11(await M.runE11(study, s11));
  return { e3, e4, e5, e6, e11, s11 };
}

/** Runs every mechanism experiment (each resumes) and returns their summaries. */
export async function runMechanism(study: Study) {
  const { s11, ...repairs } = await runRepairs(study);
  const e7 = M.summarizeE7(await M.runE7(study, await M.e7Settings(study)));
  const eq = await M.parallelEquivalence(study, s11);
  return { ...repairs, e7, eq };
}

export const mechanismStep: Step = {
  name: 'mechanism (E3 entropy, E4–E6 repairs, E7 Q·K, E11 LayerNorm)',
  async run(study, ctx): Promise<StepOutput> {
    const out = emptyOutput();
    const r = await runMechanism(study);
    Object.assign(out.tables, {
      e3_entropy: M.e3Table(r.e3),
      e3_entropy_by_layer: M.e3LayerTable(r.e3),
      table3_e4_attention_repair: M.e4Table(r.e4),
      e4_tests: M.e4TestsTable(r.e4),
      e5_topk_repair: M.e5Table(r.e5),
      table4_e6_layer_sets: M.e6Table(r.e6),
      e7_qk_alignment: M.e7Table(r.e7),
      e11_layernorm_pathway: M.e11Table(r.e11),
      e11_equivalence: M.equivalenceTable(r.eq.parallelResidual, r.eq.rows),
    });
    out.figures['figure2_mechanism'] = M.figure2FromResults(r.e4, r.e6, { e5: r.e5 });
    out.rows.push(...mechanismRows([r.e3, r.e4, r.e5, r.e6, r.e7, r.e11], study, ctx));
    out.notes.push(`E7: ${r.e7.verdict}`);
    return out;
  },
};
