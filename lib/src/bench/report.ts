/** The benchmark's table and target checks. */
import { FLOP_FORMULA, ModelBenchResult } from './measure';

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

export function targets(results: ModelBenchResult[]): Target[] {
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
    if (big.plainBatch16.ratioToMatmul !== null)
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
  return t;
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
  meta: { profile: string; date: string; host: string },
): string {
  const out: string[] = [];
  out.push(`dirmag bench ${meta.date} on ${meta.host}`);
  out.push(`sentence lengths: ${meta.profile}`);
  out.push('');
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
  row('    JS noise s per angle pass', (r) => f(r.perturbed.angle_exact?.noiseSeconds ?? 0, 3));
  row('(c) repair tok/s (×plain)', (r) => `${f(r.repair.tokensPerSec)} (${f(r.repair.ratioToPlain, 3)})`);
  row('plain GFLOP/s', (r) => f(r.plain.gflops));
  row('MatMul GFLOP/s [m×k]·[k×n]', (r) =>
    r.matmul ? `${f(r.matmul.gflops)} [${r.matmul.m}×${r.matmul.k}]·[${r.matmul.k}×${r.matmul.n}]` : '-',
  );
  row('plain / MatMul', (r) => (r.gflopsRatioToMatmul === null ? '-' : f(r.gflopsRatioToMatmul, 3)));
  row(
    'plain GFLOP/s at 16 items/pass (/MatMul)',
    (r) =>
      `${f(r.plainBatch16.gflops)} (${r.plainBatch16.ratioToMatmul === null ? '-' : f(r.plainBatch16.ratioToMatmul, 3)})`,
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
  out.push(table(rows));
  out.push('');
  out.push(FLOP_FORMULA);
  out.push('');
  out.push('targets:');
  for (const t of targets(results))
    out.push(
      `  ${t.pass ? 'pass' : 'MISS'}  ${t.model.padEnd(12)} ${t.name}: ${f(t.value, 3)} (${t.kind === 'min' ? '≥' : '≤'} ${t.goal})${t.note ? `  [${t.note}]` : ''}`,
    );
  return out.join('\n');
}
