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
import { PUBLISHED_MODEL } from './published-main';
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
}

/** Whether this study is the published configuration (same architecture as Pythia-410M, full settings). */
export function comparability(study: Study): ReproduceContext {
  const c = study.model.cfg;
  const sameArch =
    c.modelType === PUBLISHED_MODEL.modelType &&
    c.nLayers === PUBLISHED_MODEL.nLayers &&
    c.dModel === PUBLISHED_MODEL.dModel &&
    c.nHeads === PUBLISHED_MODEL.nHeads &&
    c.vocabSize === PUBLISHED_MODEL.vocabSize;
  if (study.quick)
    return {
      comparable: false,
      comparability: 'quick mode: scaled settings, not comparable with the published numbers',
    };
  if (!sameArch)
    return {
      comparable: false,
      comparability: `different model (${c.modelType}, ${c.nLayers} layers, d=${c.dModel}) from the published ${PUBLISHED_MODEL.id}: numbers are not comparable`,
    };
  const id =
    study.opts.model === PUBLISHED_MODEL.id
      ? 'the published model id'
      : 'the published architecture (weights not verified by id)';
  return { comparable: true, comparability: `${id}, published settings: verdicts compare with the original's numbers` };
}

export async function reproduce(study: Study, opts: ReproduceOptions): Promise<{ runs: StepRun[]; report: string }> {
  const ctx = comparability(study);
  const folder = study.quick ? `${study.name}-quick` : study.name;
  const tdir = path.join(tablesDir(), folder);
  const fdir = path.join(figuresDir(), folder);
  fs.mkdirSync(tdir, { recursive: true });
  // no browser: results and tables are still written, figures are skipped with one line
  const noBrowser = opts.noFigures ? null : chromiumMissing();
  if (noBrowser) process.stderr.write(`figures skipped: ${noBrowser}\n`);
  const figuresSkipped = opts.noFigures ? 'skipped (--no-figures)' : noBrowser ? `skipped (${noBrowser})` : null;
  const runs: StepRun[] = [];
  for (const step of opts.steps) {
    if (step.applies && !step.applies(study)) continue;
    const t0 = performance.now();
    try {
      const output = await step.run(study, ctx);
      runs.push({ step: step.name, seconds: (performance.now() - t0) / 1000, output });
      for (const [name, t] of Object.entries(output.tables)) {
        const base = path.join(tdir, name);
        fs.writeFileSync(`${base}.md`, toMarkdown(t));
        fs.writeFileSync(`${base}.html`, toHTML(t));
        fs.writeFileSync(`${base}.tex`, toLatex(t));
        fs.writeFileSync(`${base}.csv`, toCSV(t));
      }
      for (const [name, text] of Object.entries(output.texts ?? {})) fs.writeFileSync(path.join(tdir, name), text);
      if (!figuresSkipped && Object.keys(output.figures).length) {
        fs.mkdirSync(fdir, { recursive: true });
        await exportFigures(
          Object.entries(output.figures).map(([name, figure]) => ({ figure, basePath: path.join(fdir, name) })),
          { formats: ['svg', 'pdf', 'png'] },
        );
      }
    } catch (e) {
      runs.push({ step: step.name, seconds: (performance.now() - t0) / 1000, error: (e as Error).message });
    }
  }
  const report = renderReport(study, ctx, runs, { tdir, fdir, figuresSkipped });
  const reportPath =
    opts.reportPath ?? path.join(repoRoot() ?? process.cwd(), study.quick ? `REPORT-${folder}.md` : 'REPORT.md');
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
    `# dirmag reproduction report — ${study.opts.model}${study.quick ? ' (quick)' : ''}`,
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
        `| ${r.step} | ${r.seconds.toFixed(1)} | ${r.error ? `failed: ${r.error.replace(/\|/g, '\\|')}` : 'ok (resumed records are not re-timed)'} |`,
    ),
  ];
  for (const r of runs) {
    if (!r.output) continue;
    lines.push('', `## ${r.step}`, '');
    if (r.output.notes.length) lines.push(...r.output.notes.map((n) => `- ${n}`), '');
    if (r.output.rows.length) lines.push(rowsTable(r.output.rows), '');
    const t = Object.keys(r.output.tables);
    if (t.length) lines.push(`Tables: ${t.map((n) => `\`${n}\``).join(', ')}.`);
    const f = Object.keys(r.output.figures);
    if (f.length) lines.push(`Figures: ${f.map((n) => `\`${n}\``).join(', ')}.`);
  }
  return lines.join('\n') + '\n';
}
