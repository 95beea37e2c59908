/** The main result (E1 sweep + statistics, E2 BLiMP, robustness, Figure 1); the statistics export is paper-step's. */
import { wikitextItems } from '../experiments/runs';
import { runSweep, sweepSettings } from '../experiments/e1-sweep';
import { PUBLISHED } from '../experiments/settings';
import { summarizeE1 } from '../experiments/e1-stats';
import {
  blimpBaselineVariants,
  blimpSettings,
  readingsReproducing,
  runBlimp,
  summarizeBlimp,
} from '../experiments/e2-blimp';
import { runRobustness } from '../experiments/robustness';
import { e1StatsTable, e1Table, e2Table, robustnessTable } from '../experiments/main-tables';
import { figure1FromResults } from '../experiments/figure1-data';
import { hookCheck } from '../experiments/hook-check';
import { resultsTable } from '../tables';
import { PUBLISHED_MAIN, mainReportRows } from './published-main';
import { Step, emptyOutput } from './step';

export const mainStep: Step = {
  name: 'main result (E1, E2, robustness)',
  async run(study, ctx) {
    const out = emptyOutput();
    const checks = await hookCheck(study.model.cfg.dModel);
    out.tables['cell3_hook_check'] = resultsTable(
      checks.map((r) => ({ op: r.op, delta: r.delta, mean: r.meanDisp, min: r.minDisp, max: r.maxDisp })),
      { mean: { digits: 3 }, min: { digits: 3 }, max: { digits: 3 } },
    );
    const { items } = await wikitextItems(study, PUBLISHED.wikitextCap);
    const lens = items.map((i) => i.ids.length);
    const data = {
      sentences: items.length,
      tokensMin: Math.min(...lens),
      tokensMax: Math.max(...lens),
      tokensMean: lens.reduce((a, b) => a + b, 0) / lens.length,
    };

    const settings = await sweepSettings(study);
    const e1 = summarizeE1(await runSweep(study, settings));
    const blimp = await runBlimp(study, await blimpSettings(study));
    const e2 = summarizeBlimp(blimp);
    const e2mean = summarizeBlimp(blimp, 'mean');
    const variants = await blimpBaselineVariants(study);
    const robust = await runRobustness(study);

    out.tables['table1_loss_damage'] = e1Table(e1);
    out.tables['cell6_statistics'] = e1StatsTable(e1);
    out.tables['table2_blimp_sum'] = e2Table(e2);
    out.tables['table2_blimp_mean'] = e2Table(e2mean);
    out.tables['blimp_baseline_variants'] = resultsTable(
      variants.map((v) => ({
        paradigms: v.paradigms.join(' + '),
        pooling: v.pooling,
        acc_sum: v.accSum,
        acc_mean: v.accMean,
        correct: `${v.correctSum}/${v.pairs}`,
        correct_mean: `${v.correctMean}/${v.pairs}`,
      })),
    );
    out.tables['robustness'] = robustnessTable(robust);
    out.figures['figure1_dissociation'] = figure1FromResults(e1, e2);
    out.rows.push(...mainReportRows(e1, e2, ctx.comparable, data));

    const pubPairs = PUBLISHED.e2.items;
    const pubCorrect = Math.round((PUBLISHED_MAIN.blimpBaseline * pubPairs) / 100);
    const hit = readingsReproducing(variants, { accuracy: PUBLISHED_MAIN.blimpBaseline, pairs: pubPairs });
    out.notes.push(
      `Settings: layers ${settings.layers.join(', ')}; δ ${settings.publishedDeltas.join(', ')}${settings.scale.quick ? ` (${settings.scale.note})` : ''}; ${settings.seeds} seeds; ${e1.nSentences} sentences.`,
      `BLiMP baseline readings reproducing the published ${pubCorrect}/${pubPairs} (sum and mean scoring checked): ${hit.length ? hit.map((h) => `${h.variant.paradigms.join(' + ')} (${h.variant.pooling}, ${h.scoring} scoring)`).join('; ') : 'none on this model'}.`,
      `Robustness: the δ=1 loss ratio is ${robust.map((r) => `${r.ratio1.toFixed(2)} (${r.matching} matching, ${r.noise} noise)`).join(', ')}.`,
    );
    return out;
  },
};
