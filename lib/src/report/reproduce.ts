/**
 * reproduce: run every step (each resumes from results/), then write tables (Markdown, HTML,
 * LaTeX, CSV), figures (SVG, PDF, PNG) and REPORT.md.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Study } from '../experiments/study';
import { describeSettings } from '../experiments/store-settings';
import { chromiumMissing, exportFigures } from '../plots';
import { toCSV, toHTML, toLatex, toMarkdown } from '../tables';
import { figuresDir, tablesDir, repoRoot } from '../util/paths';
import { peakRss } from '../util/rss';
import { PUBLISHED_MODEL } from './published-main';
import { ArchFacts, CROSSMODEL_REGISTRY, archDifferences } from '../experiments/crossmodel/registry';
import { ReproduceContext, Step, StepOutput } from './step';
import { ReportRow, fmt } from './verdict';

export interface ReproduceOptions {
  steps: Step[];
  /** skip figure export (no browser) */
  noFigures?: boolean;
  reportPath?: string;
}

export interface StepRun {
  step: string;
  seconds: number;
  output?: StepOutput;
  error?: string;
  /** why the step did not run (Step.applies gave a reason) */
  skipped?: string;
  /** the process's peak RSS (high-water mark) when the step ended, bytes */
  peakRssBytes?: number;
}

/** What comparability needs of a study (a Study, or its shape in tests). */
export interface ComparedRun {
  quick: boolean;
  /** the reduced settings in words (Study.reduced), null for a full run */
  reduced?: string | null;
  opts: { model: string };
  model: {
    /** the run's model config (a ModelConfig; its tensor dtype is not compared) */
    cfg: ArchFacts;
    revision: string | null;
  };
}

/** The model a published number belongs to: a hub id (and revision, when the original pinned one) and its full config. */
export interface PublishedTarget {
  label: string;
  hfId: string;
  revision?: string;
  /** every architecture field of the published config.json (the registry's `arch`) */
  arch: ArchFacts;
}

/**
 * Whether a run is the published configuration of `target`: the published settings (not quick,
 * not reduced) and the published model — by hub id (and revision, when pinned) for a hub run, by
 * config match for a local folder: every architecture field that changes the computation (norm,
 * residual layout, heads and key/value heads, MLP width, rotary dims and base, activation, tied
 * embeddings, …: registry ARCH_FIELDS) equals the published config's. Otherwise not comparable,
 * with the reason naming the differing fields.
 */
export function comparableWith(run: ComparedRun, target: PublishedTarget): ReproduceContext {
  const no = (why: string): ReproduceContext => ({
    comparable: false,
    comparability: `${why}: not comparable with the published ${target.label} numbers`,
  });
  if (run.quick) return no('quick mode: scaled settings');
  if (run.reduced) return no(`reduced settings (${run.reduced})`);
  const c = run.model.cfg;
  const id = run.opts.model;
  if (!fs.existsSync(id)) {
    if (id !== target.hfId) return no(`the run used ${id}, the published numbers are ${target.hfId}'s`);
    if (target.revision && run.model.revision !== target.revision)
      return no(`revision ${run.model.revision ?? 'unknown'} of ${id}, published ${target.revision}`);
  }
  const diff = archDifferences(c, target.arch);
  if (diff.length) return no(`different model from ${target.hfId} (config: ${diff.join(', ')})`);
  const how = fs.existsSync(id)
    ? `a local folder with ${target.hfId}'s config (weights not verified by id)`
    : `${target.hfId}${run.model.revision ? ` @ ${run.model.revision}` : ''}`;
  return {
    comparable: true,
    comparability: `${how}, published settings: verdicts compare with the original's numbers`,
  };
}

/** The registry entry of the published model with this hub id. */
export function publishedTarget(hfId: string): PublishedTarget {
  const e = CROSSMODEL_REGISTRY.find((x) => x.hfId === hfId);
  if (!e) throw new Error(`no registry entry for ${hfId}`);
  return { label: e.label, hfId: e.hfId, ...(e.revision ? { revision: e.revision } : {}), arch: e.arch };
}

/** Whether this study is the published configuration of the main experiments (Pythia-410M, full settings). */
export function comparability(study: ComparedRun): ReproduceContext {
  return comparableWith(study, publishedTarget(PUBLISHED_MODEL.id));
}

/** Writes a step's tables (.md .html .tex .csv) and text files into `tdir`; returns the paths written. */
export function writeStepOutput(tdir: string, output: Pick<StepOutput, 'tables' | 'texts'>): string[] {
  fs.mkdirSync(tdir, { recursive: true });
  const written: string[] = [];
  const write = (file: string, text: string) => (fs.writeFileSync(file, text), written.push(file));
  for (const [name, t] of Object.entries(output.tables)) {
    const base = path.join(tdir, name);
    write(`${base}.md`, toMarkdown(t));
    write(`${base}.html`, toHTML(t));
    write(`${base}.tex`, toLatex(t));
    write(`${base}.csv`, toCSV(t));
  }
  for (const [name, text] of Object.entries(output.texts ?? {})) write(path.join(tdir, name), text);
  return written;
}

export async function reproduce(study: Study, opts: ReproduceOptions): Promise<{ runs: StepRun[]; report: string }> {
  const ctx = comparability(study);
  const folder = study.outputName;
  const tdir = path.join(tablesDir(), folder);
  const fdir = path.join(figuresDir(), folder);
  fs.mkdirSync(tdir, { recursive: true });
  // no browser: results and tables are still written, figures are skipped with one line
  const noBrowser = opts.noFigures ? null : chromiumMissing();
  if (noBrowser) process.stderr.write(`figures skipped: ${noBrowser}\n`);
  const figuresSkipped = opts.noFigures ? 'skipped (--no-figures)' : noBrowser ? `skipped (${noBrowser})` : null;
  const runs: StepRun[] = [];
  for (const step of opts.steps) {
    const applies = step.applies ? step.applies(study) : true;
    if (typeof applies === 'string') {
      process.stderr.write(`${step.name} skipped: ${applies}\n`);
      runs.push({ step: step.name, seconds: 0, skipped: applies });
    }
    if (applies !== true) continue;
    const t0 = performance.now();
    try {
      const output = await step.run(study, ctx);
      runs.push({ step: step.name, seconds: (performance.now() - t0) / 1000, output, peakRssBytes: peakRss() });
      writeStepOutput(tdir, output);
      if (!figuresSkipped && Object.keys(output.figures).length) {
        fs.mkdirSync(fdir, { recursive: true });
        await exportFigures(
          Object.entries(output.figures).map(([name, figure]) => ({ figure, basePath: path.join(fdir, name) })),
          { formats: ['svg', 'pdf', 'png'] },
        );
      }
    } catch (e) {
      runs.push({
        step: step.name,
        seconds: (performance.now() - t0) / 1000,
        error: (e as Error).message,
        peakRssBytes: peakRss(),
      });
    }
  }
  const report = renderReport(study, ctx, runs, { tdir, fdir, figuresSkipped });
  const reportPath =
    opts.reportPath ??
    path.join(repoRoot() ?? process.cwd(), folder === study.name ? 'REPORT.md' : `REPORT-${folder}.md`);
  fs.writeFileSync(reportPath, report);
  return { runs, report };
}

function rowsTable(rows: ReportRow[]): string {
  const esc = (s: string) => s.replace(/\|/g, '\\|');
  return [
    '| quantity | published | reproduced | verdict |',
    '| :-- | --: | --: | :-- |',
    ...rows.map(
      (r) =>
        `| ${esc(r.quantity)} | ${fmt(r.published)} | ${fmt(r.reproduced)}${r.reproduced?.n ? ` (n=${r.reproduced.n})` : ''} | ${esc(r.verdict)} |`,
    ),
  ].join('\n');
}

export function renderReport(
  study: Study,
  ctx: ReproduceContext,
  runs: StepRun[],
  where: { tdir: string; fdir: string; figuresSkipped?: string | null },
): string {
  const env = study.environment();
  const rel = (p: string) => path.relative(repoRoot() ?? process.cwd(), p) || '.';
  const lines = [
    `# dirmag reproduction report — ${study.opts.model}${study.quick ? ' (quick)' : ''}${study.reduced ? ` (reduced: ${study.reduced})` : ''}`,
    '',
    `Generated by \`dirmag reproduce\` from the result files in \`${rel(path.dirname(study.resultsFile('E1')))}\`. Every verdict is computed: a seed-level number is *consistent* when |z| = |ours − published| / √(SE²ours + SE²published) ≤ 3 (SE from the population std over seeds); numbers published without uncertainty get only their relative difference.`,
    '',
    `**Comparability:** ${ctx.comparability}.`,
    '',
    '## Environment',
    '',
    `- dirmag ${env.dirmag}, Node ${env.node}, onnxruntime-node ${env.onnxruntime}, provider **${env.provider}**`,
    `- machine: ${env.platform}, ${env.cpus}`,
    `- model: ${env.model} → ${env.modelDir}; hub revision: ${env.revision ?? 'none (local files)'}`,
    `- model config: ${study.model.cfg.modelType}, ${study.model.cfg.nLayers} layers, d=${study.model.cfg.dModel}, ${study.model.cfg.nHeads} heads, ${study.model.cfg.norm}, ${study.model.cfg.parallelResidual ? 'parallel' : 'sequential'} residual, checkpoint ${study.model.cfg.dtype} (computed in float32)`,
    `- tables: \`${rel(where.tdir)}\` (.md .html .tex .csv); figures: ${where.figuresSkipped ? where.figuresSkipped : `\`${rel(where.fdir)}\` (.svg .pdf .png)`}`,
    '',
    '## Results stores (which settings every number comes from)',
    '',
    ...study
      .openedStores()
      .map(
        (o) =>
          `- ${o.experiment}: \`${rel(o.file)}\`, ${o.records} record(s); ${o.first ? describeSettings(o.first) : 'empty'}`,
      ),
    '',
    '## Wall time per step',
    '',
    '| step | seconds | status |',
    '| :-- | --: | :-- |',
    ...runs.map(
      (r) =>
        `| ${r.step} | ${r.seconds.toFixed(1)} | ${r.error ? `failed: ${r.error.replace(/\|/g, '\\|')}` : r.skipped ? `skipped: ${r.skipped.replace(/\|/g, '\\|')}` : 'ok (resumed records are not re-timed)'} |`,
    ),
  ];
  for (const r of runs) {
    if (!r.output) continue;
    lines.push('', `## ${r.step}`, '');
    if (r.output.notes.length) lines.push(...r.output.notes.map((n) => `- ${n}`), '');
    for (const p of r.output.prose ?? []) lines.push(p.trim(), '');
    if (r.output.rows.length) lines.push(rowsTable(r.output.rows), '');
    const t = Object.keys(r.output.tables);
    if (t.length) lines.push(`Tables: ${t.map((n) => `\`${n}\``).join(', ')}.`);
    const f = Object.keys(r.output.figures);
    if (f.length) lines.push(`Figures: ${f.map((n) => `\`${n}\``).join(', ')}.`);
  }
  return lines.join('\n') + '\n';
}
