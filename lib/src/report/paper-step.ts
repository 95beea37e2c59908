/**
 * The claims recap (original idx 11), Tables 1–4 and the statistics export (idx 21–22) in
 * `reproduce`: the same outputs notebooks 17 and 18 show, from `paperResults` (every experiment
 * resumes, so after the main and mechanism steps nothing is recomputed).
 */
import { claims, claimsProse, claimsTable } from '../prose/claims';
import { proseMarkdown } from '../prose/experiment';
import { paperResults, type PaperResults } from './paper-results';
import { paperTables } from './paper-tables';
import { statisticsJSON, statisticsRecords, statisticsTable, statisticsText } from './statistics-export';
import type { ComparedRun } from './reproduce';
import { Step, StepOutput, emptyOutput } from './step';
import type { Comparability } from './verdict';

/** Tables 1–4, the statistics export (statistics.json, statistics_summary.txt and the statistics table). */
export function paperOutputs(r: PaperResults, ctx: Comparability): Pick<StepOutput, 'tables' | 'texts'> {
  const records = statisticsRecords(r, ctx);
  return {
    tables: { ...paperTables(r), statistics: statisticsTable(records) },
    texts: {
      'statistics.json': statisticsJSON(r.model, ctx, records),
      'statistics_summary.txt': statisticsText(r.model, ctx, records),
    },
  };
}

/** The recap's table and prose (its numbers' verdict rows are the main and mechanism steps'). */
export function recapOutputs(study: ComparedRun, r: PaperResults): Pick<StepOutput, 'tables' | 'prose'> {
  const cs = claims(study, r);
  return {
    tables: { claims_recap: claimsTable(cs) },
    prose: [proseMarkdown(claimsProse(study, cs))],
  };
}

export const paperStep: Step = {
  name: "claims recap, Tables 1–4 and the statistics export (the original's recap, table and statistics cells)",
  async run(study, ctx): Promise<StepOutput> {
    const r = await paperResults(study);
    const paper = paperOutputs(r, ctx);
    const recap = recapOutputs(study, r);
    const out = emptyOutput();
    Object.assign(out.tables, recap.tables, paper.tables);
    out.texts = paper.texts;
    out.prose = recap.prose;
    out.notes.push(
      `Replication rows (Tables 1, 3 and claim 4) read ${r.replication.length} other model(s) with stored results` +
        (r.replicationMissing.length ? `; missing: ${r.replicationMissing.join('; ')}` : '') +
        '.',
    );
    return out;
  },
};
