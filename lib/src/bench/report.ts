/** The benchmark's table and target checks. */
import { FLOP_FORMULA, ModelBenchResult } from './measure';
import type { TheoreticalPeak } from './ceiling';
import type { SweepBenchResult } from './sweep';
import type { MemoryBenchResult } from './memory';

export interface Target {
  name: string;
  model: string;
  value: number;
  goal: number;
  /** 'min': value ≥ goal passes; 'max': value ≤ goal passes */
  kind: 'min' | 'max';
  pass: boolean;
  note?: string;
}

export function targets(
  results: ModelBenchResult[],
  extra: { sweep?: SweepBenchResult | null; memory?: MemoryBenchResult[] } = {},
): Target[] {
  const t: Target[] = [];
  const add = (name: string, model: string, value: number, goal: number, kind: 'min' | 'max', note?: string) =>
    t.push({ name, model, value, goal, kind, pass: kind === 'min' ? value >= goal : value <= goal, note });
  for (const r of results) {
    for (const [op, p] of Object.entries(r.perturbed))
      add(`perturbed ${op} / plain`, r.model, p.ratioToPlain, 0.95, 'min');
    add('batched / batch-1 loop', r.model, r.loop.speedup, 3, 'min');
    add('padding waste (padded / real tokens)', r.model, r.padding.waste, 0.1, 'max');
  }
  const big = results.find((r) => r.model === 'pythia-410m');
  if (big) {
    if (big.ceilingInvalid)
      t.push({
        name: '410M plain GFLOP/s at 16 items/pass / MatMul GFLOP/s',
        model: big.model,
        value: NaN,
        goal: 0.6,
        kind: 'min',
        pass: false,
        note: `no ratio: ${big.ceilingInvalid}`,
      });
    else if (big.plainBatch16.ratioToMatmul !== null)
      add(
        '410M plain GFLOP/s at 16 items/pass / MatMul GFLOP/s',
        big.model,
        big.plainBatch16.ratioToMatmul,
        0.6,
        'min',
        `default policy (${Math.min(...big.plain.batchItems)}–${Math.max(...big.plain.batchItems)} items/pass): ${(big.gflopsRatioToMatmul ?? 0).toFixed(3)}`,
      );
    add(
      '410M peak RSS / fp32 weight bytes (one session)',
      big.model,
      big.rss.ratioAfterPlain,
      1.3,
      'max',
      `whole run incl. 2 sessions for repair: ${big.rss.ratioPeak.toFixed(2)}`,
    );
  }
  const sw = extra.sweep;
  if (sw?.speedup != null)
    add(
      'E1 sweep wall time: prefix reuse off / on (sessions + every pass)',
      sw.model,
      sw.speedup,
      1.35,
      'min',
      `perturbed passes alone ${f(sw.perturbedSpeedup ?? NaN, 3)}×; weights read once per model beforehand (${f(sw.weightLoadSeconds, 1)} s, not in the wall); max |Δloss| ${sw.maxAbsDeltaLoss!.toExponential(2)} over ${sw.grid.conditions} conditions × ${sw.sentences} sentences`,
    );
  if (sw?.maxAbsDeltaLoss != null)
    add('E1 sweep: max |Δloss| prefix reuse on vs off', sw.model, sw.maxAbsDeltaLoss, 1e-4, 'max', 'float32 rounding');
  for (const m of extra.memory ?? []) {
    const name = `whole dirmag reproduce: peak RSS / fp32 weight bytes (${m.dtype} checkpoint)`;
    const run = `dirmag ${m.command.map((a) => (a.startsWith('/') ? a.split('/').pop() : a)).join(' ')}`;
    // not measured: NaN never passes
    if (m.ratio === null) add(name, m.model, NaN, 1.3, 'max', `not measured: ${m.skipped}`);
    else
      add(name, m.model, m.ratio, 1.3, 'max', `${run} (${m.steps.length} steps)${m.skipped ? `; ${m.skipped}` : ''}`);
  }
  return t;
}

/** A ratio to a ceiling as text: never above 100% (a rate above its ceiling means the ceiling reading is wrong). */
export function ceilingText(ratio: number | null, invalid?: string): string {
  if (invalid) return 'ceiling reading wrong (pass above it)';
  return ratio === null ? '-' : `${(100 * ratio).toFixed(0)}%`;
}

const f = (x: number, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : String(x));
const mb = (b: number) => `${(b / 2 ** 20).toFixed(0)} MiB`;

function table(rows: string[][]): string {
  const w = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows
    .map(
      (r, j) =>
        r.map((c, i) => (i === 0 ? c.padEnd(w[i]) : c.padStart(w[i]))).join('  ') +
        (j === 0 ? `\n${w.map((x) => '-'.repeat(x)).join('  ')}` : ''),
    )
    .join('\n');
}

export function formatReport(
  results: ModelBenchResult[],
  meta: {
    profile: string;
    date: string;
    host: string;
    peak?: TheoreticalPeak;
    sweep?: SweepBenchResult | null;
    memory?: MemoryBenchResult[];
  },
): string {
  const out: string[] = [];
  out.push(`dirmag bench ${meta.date} on ${meta.host}`);
  out.push(`sentence lengths: ${meta.profile}`);
  if (meta.peak) out.push(`theoretical fp32 peak: ${f(meta.peak.gflops)} GFLOP/s = ${meta.peak.note}`);
  out.push('');
  if (results.length) out.push(passTable(results, meta.peak), '');
  if (meta.sweep) out.push(sweepSection(meta.sweep), '');
  if (meta.memory?.length) out.push(memorySection(meta.memory), '');
  out.push(FLOP_FORMULA);
  out.push('');
  out.push('targets:');
  for (const t of targets(results, { sweep: meta.sweep, memory: meta.memory }))
    out.push(
      `  ${t.pass ? 'pass' : 'MISS'}  ${t.model.padEnd(12)} ${t.name}: ${Number.isFinite(t.value) && Math.abs(t.value) < 1e-3 && t.value !== 0 ? t.value.toExponential(2) : f(t.value, 3)} (${t.kind === 'min' ? '≥' : '≤'} ${t.goal})${t.note ? `  [${t.note}]` : ''}`,
    );
  return out.join('\n');
}

function passTable(results: ModelBenchResult[], peak?: TheoreticalPeak): string {
  const rows: string[][] = [['', ...results.map((r) => r.model)]];
  const row = (label: string, fn: (r: ModelBenchResult) => string) => rows.push([label, ...results.map(fn)]);
  row(
    'params (non-embedding)',
    (r) => `${(r.params.total / 1e6).toFixed(0)}M (${(r.params.nonEmbedding / 1e6).toFixed(1)}M)`,
  );
  row('timed sentences / tokens', (r) => `${r.plain.batchItems.reduce((a, b) => a + b, 0)} / ${r.plain.tokens}`);
  row('graph build s', (r) => f(r.graphBuildSeconds, 2));
  row('session create s', (r) => f(r.sessionCreateSeconds, 2));
  row('(a) plain tok/s', (r) => f(r.plain.tokensPerSec));
  for (const op of Object.keys(results[0]?.perturbed ?? {}))
    row(
      `(b) ${op} tok/s (×plain)`,
      (r) => `${f(r.perturbed[op].tokensPerSec)} (${f(r.perturbed[op].ratioToPlain, 3)})`,
    );
  row('    noise draw s per angle pass', (r) => f(r.perturbed.angle_exact?.noiseSeconds ?? 0, 3));
  row('(c) repair tok/s (×plain)', (r) => `${f(r.repair.tokensPerSec)} (${f(r.repair.ratioToPlain, 3)})`);
  row('plain GFLOP/s', (r) => f(r.plain.gflops));
  row('MatMul GFLOP/s [m×k]·[k×n], reduced in graph', (r) =>
    r.matmul ? `${f(r.matmul.gflops)} [${r.matmul.m}×${r.matmul.k}]·[${r.matmul.k}×${r.matmul.n}]` : '-',
  );
  if (peak) row('MatMul / theoretical fp32 peak', (r) => (r.matmul ? ceilingText(r.matmul.gflops / peak.gflops) : '-'));
  row('plain / MatMul', (r) => ceilingText(r.gflopsRatioToMatmul, r.ceilingInvalid));
  row(
    'plain GFLOP/s at 16 items/pass (/MatMul)',
    (r) => `${f(r.plainBatch16.gflops)} (${ceilingText(r.plainBatch16.ratioToMatmul, r.ceilingInvalid)})`,
  );
  row('batch items (min–max)', (r) => `${Math.min(...r.plain.batchItems)}–${Math.max(...r.plain.batchItems)}`);
  row('padding waste (all sentences)', (r) => `${f(100 * r.padding.waste)}% in ${r.padding.batches} batches`);
  row('batch-1 loop tok/s', (r) => f(r.loop.batch1.tokensPerSec));
  row('batched tok/s (same sentences)', (r) => f(r.loop.batched.tokensPerSec));
  row('batched / batch-1', (r) => f(r.loop.speedup, 2));
  row('fp32 weights', (r) => mb(r.weightBytes));
  row('peak RSS after plain (×weights)', (r) => `${mb(r.rss.afterPlainBytes)} (${f(r.rss.ratioAfterPlain, 2)})`);
  row('peak RSS whole run (×weights)', (r) => `${mb(r.rss.peakBytes)} (${f(r.rss.ratioPeak, 2)})`);
  row('session rebuilds across δ/seed', (r) => String(r.sessionRebuilds));
  row('load average before/after', (r) => r.loadavg.map((x) => x.toFixed(1)).join(' / '));
  return table(rows);
}

const dur = (s: number) =>
  s >= 3600 ? `${(s / 3600).toFixed(1)} h` : s >= 60 ? `${(s / 60).toFixed(1)} min` : `${s.toFixed(0)} s`;

function sweepSection(s: SweepBenchResult): string {
  const out: string[] = [];
  out.push(
    `E1 sweep on ${s.model} (${s.provider}, ${s.threads} threads): ${s.grid.conditions} conditions (${s.grid.seeds} seeds × δ ${s.grid.deltas.join(',')} × ${s.grid.modes.join(', ')} + baseline) at layers ${s.layers[0]}–${s.layers[s.layers.length - 1]}, ${s.sentences} sentences (${s.tokensPerPass} tokens) per pass`,
  );
  const rows = [['', 'wall s', 'perturbed s', 'perturbed tok/s', 'sessions s']];
  for (const side of [s.reuse, s.full].filter((x) => x !== null))
    rows.push([
      side.reusePrefix ? 'prefix reuse on' : 'prefix reuse off',
      f(side.wallSeconds, 1),
      f(side.perturbedSeconds, 1),
      f(side.perturbedTokensPerSec, 1),
      f(side.compileSeconds, 1),
    ]);
  out.push(table(rows));
  if (s.speedup !== null)
    out.push(
      `wall time off / on: ${f(s.speedup, 3)}× (perturbed passes alone ${f(s.perturbedSpeedup ?? NaN, 3)}×); weights read beforehand in ${f(s.weightLoadSeconds, 1)} s per model; max |Δloss| ${s.maxAbsDeltaLoss!.toExponential(2)}`,
    );
  out.push(
    `peak RSS of the sweep process (both models): ${mb(s.peakRssBytes)} (${f(s.peakRssBytes / s.weightBytes, 2)}× fp32 weights)`,
  );
  out.push('projected wall time (published settings, prefix reuse on):');
  const models = [...new Set(s.projections.map((p) => p.model))];
  const exps = [...new Set(s.projections.map((p) => p.experiment))];
  const prow = [['', ...models.map((m) => `${m} (${s.provider})`)]];
  for (const e of exps)
    prow.push([
      e,
      ...models.map((m) => {
        const p = s.projections.find((x) => x.model === m && x.experiment === e);
        return p ? `${dur(p.seconds)} (${p.passes} passes)` : '-';
      }),
    ]);
  out.push(table(prow));
  const notes = [...new Set(s.projections.filter((p) => p.model !== s.model).map((p) => `${p.model}: ${p.method}`))];
  out.push(...notes.map((n) => `  ${n}`));
  return out.join('\n');
}

function memorySection(ms: MemoryBenchResult[]): string {
  const rows = [['whole-run memory (dirmag reproduce, reduced)', ...ms.map((m) => `${m.model} ${m.dtype}`)]];
  const row = (label: string, fn: (m: MemoryBenchResult) => string) => rows.push([label, ...ms.map(fn)]);
  row('checkpoint on disk', (m) => mb(m.checkpointBytes));
  row('fp32 weight bytes', (m) => mb(m.weightBytes));
  row('wall time', (m) => dur(m.wallSeconds));
  row('peak RSS (×fp32 weights)', (m) => (m.peakRssBytes === null ? '-' : `${mb(m.peakRssBytes)} (${f(m.ratio!, 2)})`));
  const steps = [...new Set(ms.flatMap((m) => m.steps.map((s) => s.step)))];
  for (const step of steps)
    row(`  peak after ${step}`, (m) => {
      const s = m.steps.find((x) => x.step === step);
      return s?.peakRssBytes ? `${mb(s.peakRssBytes)} (${f(s.peakRssBytes / m.weightBytes, 2)})` : '-';
    });
  const notes = ms.filter((m) => m.skipped).map((m) => `  ${m.model} ${m.dtype}: ${m.skipped}`);
  return [table(rows), ...notes].join('\n');
}
