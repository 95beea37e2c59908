/** dirmag reproduce: the README's main job — every implemented experiment, tables, figures, REPORT.md. */
import { mainStep } from '../report/main-step';
import { beyondStep } from '../report/beyond-step';
import { mechanismStep } from '../report/mechanism-step';
import { paperStep } from '../report/paper-step';
import { crossModelCellStep, crossModelSummaryStep } from '../report/crossmodel-step';
import { reproduce } from '../report/reproduce';
import { Step } from '../report/step';
import { intOpt, parseArgs, stringOpt } from './args';
import { STUDY_HELP, openStudy } from './study-args';

export const HELP = `usage: dirmag reproduce --model ID|DIR [--device cpu|cuda|webgpu] [--quick] [options]
${STUDY_HELP}
  --sentences N       reduced run: at most N sentences per experiment (a first look; not comparable)
  --seeds N           reduced run: at most N seeds per experiment
  --per-paradigm N    reduced run: at most N BLiMP pairs per paradigm
  --no-figures        skip figure export (no Chromium)
  --report PATH       where to write the report (default REPORT.md at the repo root)

Runs every implemented experiment with the published settings (resuming from results/), then writes
tables/<model>/, figures/<model>/ and REPORT.md (REPORT-<model>-quick.md in quick mode,
REPORT-<model>-reduced.md with --sentences/--seeds/--per-paradigm; their verdicts say "not comparable").`;

/** The steps, in the order of the original notebook. */
export async function allSteps(): Promise<Step[]> {
  return [mainStep, mechanismStep, paperStep, crossModelCellStep, crossModelSummaryStep, beyondStep];
}

export async function run(argv: string[]): Promise<number> {
  const args = parseArgs(argv, ['quick', 'help', 'no-figures']);
  if (args.options.help) return (void console.log(HELP), 0);
  const study = await openStudy(args, {
    sentences: intOpt(args, 'sentences'),
    seeds: intOpt(args, 'seeds'),
    perParadigm: intOpt(args, 'per-paradigm'),
  });
  const { runs } = await reproduce(study, {
    steps: await allSteps(),
    noFigures: !!args.options['no-figures'],
    reportPath: stringOpt(args, 'report'),
  });
  study.close();
  for (const r of runs)
    console.log(`${r.error ? 'FAIL' : 'ok  '} ${r.step} (${r.seconds.toFixed(1)} s)${r.error ? `: ${r.error}` : ''}`);
  return runs.some((r) => r.error) ? 1 : 0;
}
