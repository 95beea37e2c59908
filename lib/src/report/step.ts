/** One experiment group of `dirmag reproduce`: runs (resuming), then hands back what to publish. */
import { PlotlyFigure } from '../plots';
import { ResultsTable } from '../tables';
import { Study } from '../experiments/study';
import { ReportRow } from './verdict';

export interface StepOutput {
  tables: Record<string, ResultsTable>;
  figures: Record<string, PlotlyFigure>;
  rows: ReportRow[];
  /** prose lines generated from the results */
  notes: string[];
  /** Markdown sections generated from the results (question / method / result / limits) */
  prose?: string[];
  /** extra text files (e.g. statistics_summary.txt) */
  texts?: Record<string, string>;
}

export interface ReproduceContext {
  /** whether this model and these settings are the ones the original published */
  comparable: boolean;
  comparability: string;
}

export interface Step {
  name: string;
  /**
   * which model families the step applies to (default all); a string means it does not apply and
   * says why the user may have expected it to (reproduce prints it and lists the step as skipped)
   */
  applies?: (study: Study) => boolean | string;
  run(study: Study, ctx: ReproduceContext): Promise<StepOutput>;
}

export const emptyOutput = (): StepOutput => ({ tables: {}, figures: {}, rows: [], notes: [] });
