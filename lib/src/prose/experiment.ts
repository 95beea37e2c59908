/**
 * The prose a notebook prints under its results: question, method (plain words, the original's quirks
 * named), what this run found (with verdicts against the published numbers) and limits. Every sentence
 * that states a number is built from the results passed in; nothing here is typed-in output.
 */
import { comparability, type ComparedRun } from '../report/reproduce';
import { fmt, type Comparability, type ReportRow } from '../report/verdict';
import { resultsTable, type ResultsTable } from '../tables';

export interface ExperimentProse {
  question: string;
  /** plain words; mention the original's quirks that matter for reading the result */
  method: string;
  /** sentences about this run's numbers */
  found: string[];
  limits: string[];
  /** e.g. 'docs/experiments.md#e1-loss-sweep' */
  doc?: string;
}

/** The four-part note as Markdown. */
export function proseMarkdown(p: ExperimentProse): string {
  const list = (xs: string[]) => xs.map((x) => `- ${x}`).join('\n');
  return [
    `**Question.** ${p.question}`,
    `**Method.** ${p.method}${p.doc ? ` (details: [${p.doc.split('#')[0]}](../${p.doc}))` : ''}`,
    `**What this run found.**\n${list(p.found)}`,
    `**Limits.**\n${list(p.limits)}`,
  ].join('\n\n');
}

/** A published-vs-this-run table with the verdict column (verdicts from report/verdict.ts). */
export function verdictTable(rows: readonly ReportRow[], digits = 3): ResultsTable {
  return resultsTable(
    rows.map((r) => ({
      quantity: r.quantity,
      published: fmt(r.published, digits),
      'this run': fmt(r.reproduced, digits),
      verdict: r.verdict,
    })),
  );
}

/** How the verdict rows came out, in one sentence ("4 consistent, 2 differ, ..."). */
export function verdictCounts(rows: readonly Pick<ReportRow, 'verdict'>[]): string {
  const kind = (v: string) =>
    v.startsWith('consistent') || v === 'identical' || v.startsWith('close')
      ? 'agree'
      : v.startsWith('differs')
        ? 'differ'
        : v.startsWith('not comparable')
          ? 'not comparable'
          : v.startsWith('not run')
            ? 'not run'
            : 'new';
  const counts = new Map<string, number>();
  for (const r of rows) counts.set(kind(r.verdict), (counts.get(kind(r.verdict)) ?? 0) + 1);
  const order = ['agree', 'differ', 'not comparable', 'not run', 'new'];
  return order
    .filter((k) => counts.has(k))
    .map((k) => `${counts.get(k)} ${k === 'agree' ? 'agree with the published number' : k}`)
    .join(', ');
}

/** Whether this run can be compared with the original's numbers (of `c`'s target, default Pythia-410M), in one sentence. */
export function comparabilityLine(study: ComparedRun, c: Comparability = comparability(study)): string {
  return c.comparable
    ? `This run uses ${c.comparability}.`
    : `Verdicts read "not comparable": ${c.comparability}. Run the published model with quick mode off to compare.`;
}
