/**
 * The results the recap (claims), Tables 1–4 and the statistics export are built from: this study's
 * E1, E2, E3, E4, E5, E6 and E11 summaries (each run resumes from its store, so after the
 * experiment notebooks or `reproduce` nothing is recomputed) and the other models' stored loss sweeps
 * (read only, never run here). One gatherer for the notebooks 17 and 18 and for `reproduce`.
 */
import * as path from 'node:path';
import type * as M from '../experiments/mechanism';
import { runSweep, sweepSettings } from '../experiments/e1-sweep';
import { summarizeE1, type E1Summary } from '../experiments/e1-stats';
import { blimpSettings, runBlimp, summarizeBlimp, type BlimpSummary } from '../experiments/e2-blimp';
import { loadCrossModelInputs, type CrossModelInput } from '../experiments/crossmodel/summary';
import { CROSSMODEL_REGISTRY } from '../experiments/crossmodel/registry';
import type { Study } from '../experiments/study';
import { resultsDir } from '../util/paths';
import { PUBLISHED_MODEL } from './published-main';
import { runRepairs } from './mechanism-step';

export interface PaperResults {
  /** the study's model: its hub id, or a local folder's name */
  model: string;
  e1: E1Summary;
  e2: BlimpSummary;
  e3: M.E3Summary;
  e4: M.E4Summary;
  e5: M.E5Summary;
  e6: M.E6Summary;
  e11: M.E11Summary;
  /** other models' stored loss sweeps (cross-model notebooks 20–25), never the study's own model */
  replication: CrossModelInput[];
  /** one line per other model without stored results */
  replicationMissing: string[];
}

/** Runs (resuming) every experiment the recap and the tables read, in the original's order. */
export async function paperResults(study: Study): Promise<PaperResults> {
  const e1 = summarizeE1(await runSweep(study, await sweepSettings(study)));
  const e2 = summarizeBlimp(await runBlimp(study, await blimpSettings(study)));
  const { e3, e4, e5, e6, e11 } = await runRepairs(study);
  const { inputs, missing } = loadCrossModelInputs({
    root: study.opts.resultsDir ?? resultsDir(),
    quick: study.quick,
  });
  // the main model's row is this study's E1; the study's own model is not its own replication
  const own = (hfId: string) => hfId === study.opts.model || hfId === PUBLISHED_MODEL.id;
  const ownLabels = CROSSMODEL_REGISTRY.filter((e) => own(e.hfId)).map((e) => `${e.label}:`);
  return {
    model: /^[./]/.test(study.opts.model) ? path.basename(study.opts.model.replace(/\/+$/, '')) : study.opts.model,
    e1,
    e2,
    e3,
    e4,
    e5,
    e6,
    e11,
    replication: inputs.filter((i) => !own(i.entry.hfId)),
    replicationMissing: missing.filter((m) => !ownLabels.some((l) => m.startsWith(l))),
  };
}
