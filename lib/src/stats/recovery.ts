/**
 * Recovery % formulas of EXPERIMENTS.md §1.5.5. B, U, R are mean losses (baseline, perturbed
 * unrepaired, perturbed repaired); the seed-level formulas take one value per seed.
 */
import { differences, mean, std } from './descriptive';

export interface LossTriple {
  baseline: readonly number[];
  unrepaired: readonly number[];
  repaired: readonly number[];
}

export interface RecoverySpread {
  /** Recovery % per seed. */
  perSeed: number[];
  mean: number;
  /** Population std over seeds (the notebook's "±"). */
  std: number;
}

function checkLengths({ baseline, unrepaired, repaired }: LossTriple): void {
  if (baseline.length !== unrepaired.length || unrepaired.length !== repaired.length)
    throw new RangeError(
      `recovery: B, U, R lengths differ (${baseline.length}, ${unrepaired.length}, ${repaired.length})`,
    );
}

function spread(perSeed: number[]): RecoverySpread {
  return { perSeed, mean: mean(perSeed), std: std(perSeed, 0) };
}

/**
 * R-seed (E4, E5, E6): rec_s = 100·[(U_s−B_s) − (R_s−B_s)]/((U_s−B_s) + ε).
 * ε defaults to 1e-8; E5 omits it (pass `{ epsilon: 0 }`).
 */
export function recoverySeed(losses: LossTriple, options: { epsilon?: number } = {}): RecoverySpread {
  checkLengths(losses);
  const epsilon = options.epsilon ?? 1e-8;
  const { baseline: B, unrepaired: U, repaired: R } = losses;
  return spread(B.map((b, s) => (100 * (U[s] - b - (R[s] - b))) / (U[s] - b + epsilon)));
}

/** R-pooled-baseline (E10, E11): rec_s = 100·(U_s − R_s)/((U_s − B̄) + 1e-8), B̄ = mean_s B_s. */
export function recoveryPooledBaseline(losses: LossTriple): RecoverySpread {
  checkLengths(losses);
  const bBar = mean(losses.baseline);
  const { unrepaired: U, repaired: R } = losses;
  return spread(U.map((u, s) => (100 * (u - R[s])) / (u - bBar + 1e-8)));
}

/** R-of-means (E9): 100·(mean U − mean R)/(mean U − mean B); one number, no spread. */
export function recoveryOfMeans(losses: LossTriple): number {
  checkLengths(losses);
  const u = mean(losses.unrepaired);
  return (100 * (u - mean(losses.repaired))) / (u - mean(losses.baseline));
}

/**
 * Standard per-sentence recovery (not used by the notebook): the arrays hold one loss per
 * sentence; returns mean_i 100·(U_i − R_i)/(U_i − B_i). Throws if a sentence has zero damage
 * (U_i = B_i), where the ratio is undefined.
 */
export function recoveryPerSentence(losses: LossTriple): number {
  checkLengths(losses);
  const damage = differences(losses.unrepaired, losses.baseline);
  const zero = damage.findIndex((d) => d === 0);
  if (zero >= 0) throw new RangeError(`recoveryPerSentence: sentence ${zero} has zero damage (U = B)`);
  const repairedGain = differences(losses.unrepaired, losses.repaired);
  return mean(damage.map((d, i) => (100 * repairedGain[i]) / d));
}
