/** dirmag reproduce: the README's main job — every implemented experiment, tables, figures, REPORT.md. */
import * as fs from 'node:fs';
import { mainStep } from '../report/main-step';
import { beyondStep } from '../report/beyond-step';
import { mechanismStep } from '../report/mechanism-step';
import { paperStep } from '../report/paper-step';
import { crossModelCellStep, crossModelSummaryStep } from '../report/crossmodel-step';
import { StepRun, reproduce } from '../report/reproduce';
import { peakRss } from '../util/rss';
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
  --summary PATH      also write each step's time and the run's peak memory as JSON (RunSummary)

Runs every implemented experiment with the published settings (resuming from results/), then writes
tables/<model>/, figures/<model>/ and REPORT.md (REPORT-<model>-quick.md in quick mode,
REPORT-<model>-reduced.md with --sentences/--seeds/--per-paradigm; their verdicts say "not comparable").`;

/** What --summary writes: each step's wall time and the process's peak RSS when it ended. */
export interface RunSummary {
  steps: Omit<StepRun, 'output'>[];
  /** the whole run's peak RSS (VmHWM), bytes */
  peakRssBytes: number;
  /** the model's floating-point weights as float32, bytes */
  weightBytes: number;
  provider: string;
}

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
  const gb = (b: number) => `${(b / 1e9).toFixed(2)} GB`;
  for (const r of runs)
    console.log(
      `${r.error ? 'FAIL' : 'ok  '} ${r.step} (${r.seconds.toFixed(1)} s${r.peakRssBytes ? `, peak RSS so far ${gb(r.peakRssBytes)}` : ''})${r.error ? `: ${r.error}` : ''}`,
    );
  // the whole run's memory against the model's float32 weights (the one copy every pass is fed on the CPU)
  const weights = study.model.ckpt.float32Bytes;
  const peak = peakRss();
  console.log(
    `peak memory: ${gb(peak)} RSS = ${(peak / weights).toFixed(2)} × the float32 weights (${gb(weights)}) on ${study.model.provider}`,
  );
  const summaryPath = stringOpt(args, 'summary');
  if (summaryPath) {
    const summary: RunSummary = {
      steps: runs.map(({ output: _output, ...r }) => r),
      peakRssBytes: peak,
      weightBytes: weights,
      provider: study.model.provider,
    };
    fs.writeFileSync(summaryPath, JSON.stringify(summary, null, 2) + '\n');
  }
  return runs.some((r) => r.error) ? 1 : 0;
}
