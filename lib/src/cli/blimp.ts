/** dirmag blimp: E2 BLiMP accuracy under each perturbation, and the baseline-variant analysis. */
import { toMarkdown } from '../tables';
import { blimpBaselineVariants, blimpSettings, runBlimp, summarizeBlimp } from '../experiments/e2-blimp';
import { e2Table } from '../experiments/main-tables';
import { intOpt, numberList, parseArgs, stringOpt } from './args';
import { STUDY_HELP, openStudy, parseLayers } from './study-args';
import { parseModes } from './sweep';

export const HELP = `usage: dirmag blimp [options]
${STUDY_HELP}
  --paradigms A,B     BLiMP paradigms (default irregular_/regular_plural_subject_verb_agreement_1)
  --per-paradigm N    pairs per paradigm (default 100)
  --deltas 5,10,15    δ grid (default 5,10,15)
  --seeds N           seeds (default 5)
  --layers 8-15       perturbed layers
  --modes LIST        e.g. magnitude,angle_legacy/legacy
  --blimp-dir DIR     folder of <paradigm>.jsonl (default $DIRMAG_BLIMP_DIR, else nyu-mll/blimp from the hub)
  --variants          only the baseline-variant analysis (which reading gives 89.5%?)`;

export async function run(argv: string[]): Promise<number> {
  const args = parseArgs(argv, ['quick', 'help', 'variants']);
  if (args.options.help) return (void console.log(HELP), 0);
  const study = await openStudy(args);
  const opt = (k: string) => stringOpt(args, k);
  if (args.options.variants) {
    for (const v of await blimpBaselineVariants(study, { blimpDir: opt('blimp-dir') }))
      console.log(
        `${v.paradigms.join(' + ')} (${v.pooling}): sum ${v.accSum.toFixed(1)}% (${v.correctSum}/${v.pairs}), mean ${v.accMean.toFixed(1)}% (${v.correctMean}/${v.pairs})`,
      );
    return 0;
  }
  const s = await blimpSettings(study, {
    paradigms: opt('paradigms')?.split(','),
    perParadigm: intOpt(args, 'per-paradigm'),
    seeds: intOpt(args, 'seeds'),
    layers: opt('layers') ? parseLayers(opt('layers')!) : undefined,
    deltas: opt('deltas') ? numberList(opt('deltas')!, '--deltas') : undefined,
    modes: opt('modes') ? parseModes(opt('modes')!) : undefined,
    blimpDir: opt('blimp-dir'),
  });
  console.log(
    `E2 BLiMP on ${study.name}: ${s.paradigms.join(' + ')}, ${s.perParadigm} pairs each, δ ${s.publishedDeltas.join(',')}, ${s.seeds} seeds${s.scale.quick ? ` (${s.scale.note})` : ''}`,
  );
  const records = await runBlimp(study, s);
  study.close();
  if (study.opts.shard) return 0;
  for (const scoring of ['sum', 'mean'] as const) {
    const sum = summarizeBlimp(records, scoring);
    console.log(`\nscoring: ${scoring} log-prob; baseline accuracy ${sum.baseline.toFixed(1)}% (${sum.pairs} pairs)\n`);
    console.log(toMarkdown(e2Table(sum)));
  }
  return 0;
}
