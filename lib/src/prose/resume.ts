/**
 * "Resumed N conditions / ran M": what the result stores of a study held before this notebook ran and
 * what it computed, so a notebook that reads another notebook's results says which it did.
 */
import * as path from 'node:path';
import type { Study } from '../experiments/study';
import { conditionLog } from '../experiments/runs';

/** One line per experiment this study touched in this kernel session. */
export function resumeLines(study: Study): string[] {
  return conditionLog
    .filter((e) => path.dirname(e.file) === path.dirname(study.resultsFile('E1')))
    .map(
      (e) =>
        `${e.experiment}: resumed ${e.resumed} stored condition${e.resumed === 1 ? '' : 's'}, ran ${e.ran}` +
        (e.ran === 0 ? ' (all results were already there)' : ''),
    );
}

/** Markdown for the cell after the runs: the lines above, or a note that nothing ran. */
export function resumeMarkdown(study: Study): string {
  const lines = resumeLines(study);
  return lines.length ? `Results used:\n${lines.map((l) => `- ${l}`).join('\n')}` : 'No stored experiment was read.';
}
