/** idx 6 two-regime analysis (low vs high δ). */
import { mean } from './descriptive';
import { ttestInd, type TTestResult } from './ttest';

/** Seed-level damages of both modes at one δ. */
export interface SeedDamages {
  delta: number;
  angular: readonly number[];
  magnitude: readonly number[];
}

export interface RegimeSummary {
  deltas: number[];
  meanAngular: number;
  meanMagnitude: number;
  /** meanAngular/(meanMagnitude + 1e-8). */
  ratio: number;
  /** Independent Student t of the pooled angular vs pooled magnitude damages (two-sided in the notebook). */
  test: TTestResult;
}

export interface TwoRegimeResult {
  low: RegimeSummary;
  high: RegimeSummary;
  /** 1 − high.ratio/low.ratio. */
  reduction: number;
}

function regime(rows: readonly SeedDamages[], deltas: readonly number[]): RegimeSummary {
  const chosen = deltas.map((d) => {
    const row = rows.find((r) => r.delta === d);
    if (!row) throw new RangeError(`twoRegime: no seed damages for δ = ${d}`);
    return row;
  });
  const angular = chosen.flatMap((r) => [...r.angular]);
  const magnitude = chosen.flatMap((r) => [...r.magnitude]);
  const meanAngular = mean(angular);
  const meanMagnitude = mean(magnitude);
  return {
    deltas: [...deltas],
    meanAngular,
    meanMagnitude,
    ratio: meanAngular / (meanMagnitude + 1e-8),
    test: ttestInd(angular, magnitude),
  };
}

/**
 * Pools, per mode, all seed damages of the `low` δ set and of the `high` δ set (notebook: {1,2,5}
 * and {10,15,20}) and compares angular vs magnitude with an independent t-test. Note the caveat of
 * EXPERIMENTS.md: this treats different δ as replicates.
 */
export function twoRegime(
  rows: readonly SeedDamages[],
  low: readonly number[],
  high: readonly number[],
): TwoRegimeResult {
  const lowSummary = regime(rows, low);
  const highSummary = regime(rows, high);
  return { low: lowSummary, high: highSummary, reduction: 1 - highSummary.ratio / lowSummary.ratio };
}
