/**
 * Do the central claims survive the original's quirks (EXPERIMENTS.md §5)? The δ=1 and δ=5 loss
 * ratios and the BLiMP accuracy drops at δ=5 under each combination of angle matching (legacy
 * mean-matched bisection vs exact per-token rotation) × noise (legacy shape-keyed cache vs
 * independent per sentence and layer). Magnitude has no noise, only fresh signs, so it is run once.
 */
import { Study } from './study';
import { Mode, Scale, modeName } from './settings';
import { runSweep, sweepSettings } from './e1-sweep';
import { summarizeE1 } from './e1-stats';
import { blimpSettings, runBlimp, summarizeBlimp } from './e2-blimp';

export const ROBUSTNESS_ANGLE_MODES: Mode[] = [
  { op: 'angle_legacy', noise: 'legacy' },
  { op: 'angle_legacy', noise: 'independent' },
  { op: 'angle_exact', noise: 'legacy' },
  { op: 'angle_exact', noise: 'independent' },
];
const MAGNITUDE: Mode = { op: 'magnitude', noise: 'legacy' };

export interface RobustnessRow {
  matching: 'legacy' | 'exact';
  noise: 'legacy' | 'independent';
  ratio1: number;
  ratio5: number;
  /** seed-level two-sided p of angle vs magnitude damage at δ=5 */
  p5: number;
  blimpDropAngle: number;
  blimpDropMagnitude: number;
  /** one-sided p (magnitude drop > angular drop), seeds */
  blimpP: number;
}

export async function runRobustness(
  study: Study,
  opts: { quick?: boolean; scale?: Scale } = {},
): Promise<RobustnessRow[]> {
  const modes = [MAGNITUDE, ...ROBUSTNESS_ANGLE_MODES];
  const sweep = await sweepSettings(study, { quick: opts.quick, modes, deltas: [1, 5], experiment: 'robustness-loss' });
  const loss = await runSweep(study, sweep);
  const blimp = await blimpSettings(study, { quick: opts.quick, scale: sweep.scale, modes });
  blimp.experiment = 'robustness-blimp';
  blimp.deltas = [5 * sweep.scale.deltaScale];
  blimp.publishedDeltas = [5];
  const bl = await runBlimp(study, blimp);
  return ROBUSTNESS_ANGLE_MODES.map((m) => {
    const e1 = summarizeE1(loss, modeName(m));
    const b = summarizeBlimp(bl, 'sum', modeName(m)).rows.find((r) => r.publishedDelta === 5);
    const at = (d: number) => e1.rows.find((r) => r.publishedDelta === d);
    return {
      matching: m.op === 'angle_exact' ? 'exact' : 'legacy',
      noise: m.noise,
      ratio1: at(1)?.ratio ?? NaN,
      ratio5: at(5)?.ratio ?? NaN,
      p5: at(5)?.seedTest.pTwoSided ?? NaN,
      blimpDropAngle: b?.angle.drop ?? NaN,
      blimpDropMagnitude: b?.magnitude.drop ?? NaN,
      blimpP: b?.seedTest.pGreater ?? NaN,
    };
  });
}
