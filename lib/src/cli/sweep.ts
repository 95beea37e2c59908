/** dirmag sweep: E1 loss damage sweep (published defaults), then its tables. */
import * as path from 'node:path';
import { toMarkdown } from '../tables';
import { runSweep, sweepSettings } from '../experiments/e1-sweep';
import { summarizeE1 } from '../experiments/e1-stats';
import { e1StatsTable, e1Table } from '../experiments/main-tables';
import { Mode, NoisePolicy } from '../experiments/settings';
import { PerturbOp } from '../engine/types';
import { intOpt, numberList, parseArgs, stringOpt } from './args';
import { STUDY_HELP, openStudy, parseLayers } from './study-args';

export const HELP = `usage: dirmag sweep [options]
${STUDY_HELP}
  --deltas 1,2,5      δ grid (default 1,2,5,10,15,20)
  --seeds N           seeds (default 5)
  --layers 8-15       perturbed layers (default: the middle third, 8-15 of 24)
  --sentences N       first N filtered WikiText sentences (default all: 281)
  --modes LIST        e.g. magnitude,angle_legacy/legacy,angle_exact/independent
  --wikitext FILE     raw WikiText file or parquet (default $DIRMAG_WIKITEXT, else Salesforce/wikitext from the hub)`;

export function parseModes(text: string): Mode[] {
  return text.split(',').map((m) => {
    const [op, noise = 'legacy'] = m.trim().split('/');
    if (!['magnitude', 'angle_legacy', 'angle_exact'].includes(op))
      throw new Error(`--modes: unknown operator '${op}' (magnitude, angle_legacy, angle_exact)`);
    if (!['legacy', 'independent'].includes(noise))
      throw new Error(`--modes: unknown noise policy '${noise}' (legacy, independent)`);
    return { op: op as PerturbOp, noise: noise as NoisePolicy };
  });
}

export async function run(argv: string[]): Promise<number> {
  const args = parseArgs(argv, ['quick', 'help']);
  if (args.options.help) return (void console.log(HELP), 0);
  const study = await openStudy(args);
  const opt = (k: string) => stringOpt(args, k);
  const settings = await sweepSettings(study, {
    deltas: opt('deltas') ? numberList(opt('deltas')!, '--deltas') : undefined,
    seeds: intOpt(args, 'seeds'),
    layers: opt('layers') ? parseLayers(opt('layers')!) : undefined,
    sentences: intOpt(args, 'sentences'),
    modes: opt('modes') ? parseModes(opt('modes')!) : undefined,
    wikitextFile: opt('wikitext'),
  });
  console.log(
    `E1 sweep on ${study.name}: layers ${settings.layers.join(',')}, δ ${settings.publishedDeltas.join(',')}, ${settings.seeds} seeds${settings.scale.quick ? ` (${settings.scale.note})` : ''}`,
  );
  const records = await runSweep(study, settings);
  study.close();
  if (study.opts.shard)
    return (
      void console.log(
        `shard ${study.opts.shard.k}/${study.opts.shard.n} done; combine with: dirmag merge --model ${study.name} --experiment ${path.basename(study.resultsFile(settings.experiment), '.jsonl')}`,
      ),
      0
    );
  for (const m of settings.modes.filter((m) => m.op !== 'magnitude')) {
    const s = summarizeE1(records, `${m.op}/${m.noise}`);
    console.log(`\nbaseline loss ${s.baseline.toFixed(3)} (${s.nSentences} sentences)\n`);
    console.log(toMarkdown(e1Table(s)));
    console.log(toMarkdown(e1StatsTable(s)));
  }
  return 0;
}
