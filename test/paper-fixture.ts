/**
 * Tiny synthetic result records for every experiment the recap, Tables 1–4 and the statistics export
 * read (3 seeds, 4 sentences), summarised by the library's own summarize functions. The numbers are
 * chosen so that each claim's direction is known: angular loss damage above magnitude at every δ,
 * magnitude BLiMP drops above angular, angular entropy rise above magnitude, attention repair favouring
 * angular and LayerNorm repair favouring magnitude. `flip` reverses the loss asymmetry at the last δ.
 */
import { summarizeE1 } from '../lib/src/experiments/e1-stats';
import { summarizeBlimp } from '../lib/src/experiments/e2-blimp';
import * as M from '../lib/src/experiments/mechanism';
import type { PaperResults } from '../lib/src/report/paper-results';

const SEEDS = [0, 1, 2];
const sentences = (x: number) => [x, x + 0.1, x + 0.2, x + 0.3];

function lossRecords(deltas: number[], flipLast: boolean) {
  return [
    { key: 'b', kind: 'baseline', loss: 4.15, losses: sentences(4) },
    ...deltas.flatMap((d, i) =>
      SEEDS.flatMap((s) =>
        (['angle_legacy/legacy', 'magnitude'] as const).map((mode) => {
          const big = d / 5 + s / 100,
            small = d / 50 + s / 200;
          const angular = flipLast && i === deltas.length - 1 ? small : big;
          const x = 4 + (mode === 'magnitude' ? (angular === big ? small : big) : angular);
          return {
            key: `${mode}|${d}|${s}`,
            kind: 'condition',
            seedIndex: s,
            publishedDelta: d,
            delta: d,
            mode,
            loss: x + 0.15,
            losses: sentences(x),
            seconds: 0,
          };
        }),
      ),
    ),
  ];
}

function blimpRecords() {
  const margins = (correct: number) => Array.from({ length: 10 }, (_, i) => (i < correct ? 1 : -1));
  const rec = (key: string, correct: number, extra: object) => ({
    key,
    marginSum: margins(correct),
    marginMean: margins(correct),
    accSum: correct * 10,
    accMean: correct * 10,
    seconds: 0,
    ...extra,
  });
  return [
    rec('b', 9, { kind: 'baseline' }),
    ...[5, 10].flatMap((d) =>
      SEEDS.flatMap((s) => [
        rec(`m|${d}|${s}`, 5 - (s % 2), {
          kind: 'condition',
          mode: 'magnitude',
          publishedDelta: d,
          delta: d,
          seedIndex: s,
        }),
        rec(`a|${d}|${s}`, 8 + (s % 2), {
          kind: 'condition',
          mode: 'angle_legacy/legacy',
          publishedDelta: d,
          delta: d,
          seedIndex: s,
        }),
      ]),
    ),
  ];
}

function entropyRecords() {
  const layers = (v: number) => [
    [v, v],
    [v + 0.1, v + 0.1],
  ];
  return [
    { key: 'b', kind: 'baseline', sentence: [1, 1.1], byLayer: layers(1), layers: [0], seconds: 0 },
    ...SEEDS.flatMap((s) =>
      (['angle', 'magnitude'] as const).map((mode) => {
        const v = 1.05 + (mode === 'angle' ? 0.1 + (s * s) / 500 : 0.02 + s / 1000);
        return {
          key: `${mode}${s}`,
          kind: 'condition',
          mode,
          seedIndex: s,
          sentence: [v, v + 0.1],
          byLayer: layers(v),
          layers: [0],
          seconds: 0,
        };
      }),
    ),
  ];
}

/** Repair records: unrepaired 3 / 4 / 5 over a baseline 1 / 2 / 3; `repaired(mode, seed)` gives the repaired losses per set. */
function repairRecords(
  repaired: (mode: 'angle' | 'magnitude', s: number) => Record<string, number[]>,
  extra = {},
  modes: readonly ('angle' | 'magnitude')[] = ['angle', 'magnitude'],
) {
  return [
    { key: 'baseline', kind: 'baseline', losses: [1, 2, 3], seconds: 0, ...extra },
    ...SEEDS.flatMap((s) =>
      modes.map((mode) => ({
        key: `${mode}${s}`,
        kind: 'condition',
        mode,
        seedIndex: s,
        unrepaired: [3, 4, 5],
        repaired: repaired(mode, s),
        patched: Object.fromEntries(Object.keys(repaired(mode, s)).map((k) => [k, [1]])),
        seconds: 0,
      })),
    ),
  ];
}

/** Repaired losses that recover `pct` % of the 2-nat damage (plus a per-seed wobble). */
const recovering = (pct: number, s: number) => [3, 4, 5].map((u) => u - (2 * pct) / 100 - s / 100);

export function paperFixture(o: { flip?: boolean; replication?: PaperResults['replication'] } = {}): PaperResults {
  const e1 = summarizeE1(lossRecords([1, 5, 20], !!o.flip) as never);
  const e2 = summarizeBlimp(blimpRecords() as never);
  const e3 = M.summarizeE3(entropyRecords() as never);
  const e4 = M.summarizeE4(
    repairRecords((mode, s) => ({ attn: recovering(mode === 'angle' ? 30 : 10 + 5 * s, s) })) as never,
  );
  const e5 = M.summarizeE5(
    [
      { key: 'ranking', kind: 'ranking', ranking: [1, 0], heads: [], layerScores: { 1: 2, 0: 1 }, seconds: 0 },
      ...repairRecords((_, s) => ({ top1: recovering(20, s) }), {}, ['angle']),
    ] as never,
    e4,
  );
  const sets = M.layerSets([1, 0]);
  const byName: Record<string, number> = { top: 40, middle: 30, bottom: 5, random1: 20, random2: 15, random3: 10 };
  const e6 = M.summarizeE6(
    repairRecords(
      (_, s) => Object.fromEntries(sets.map((x) => [x.name, recovering(byName[x.name] + s, s)])),
      { sets },
      ['angle'],
    ) as never,
  );
  const e11 = M.summarizeE11(
    repairRecords((mode, s) => ({ ln: recovering(mode === 'magnitude' ? 30 + s : 10, s) })) as never,
  );
  return {
    model: 'synthetic-model',
    e1,
    e2,
    e3,
    e4,
    e5,
    e6,
    e11,
    replication: o.replication ?? [],
    replicationMissing: [],
  };
}

/** A cross-model input with a stored loss sweep at `deltas`, angular damage above magnitude everywhere. */
export function replicationInput(entry: PaperResults['replication'][number]['entry'], deltas: number[]) {
  return { entry, loss: lossRecords(deltas, false) as never };
}
