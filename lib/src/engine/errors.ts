/** The engine's errors: typed, so callers branch on the class, never on the message. */
import type { HookName } from './hooks';

/** A run that cannot proceed (bad items, values, a session that cannot be created, a non-finite output). */
export class RunError extends Error {}

/** A plan that does not fit the model (unknown hook, layer or head out of range, bad options). */
export class PlanError extends Error {}

/** Exact-angle δ beyond 2‖h‖ at one token: no rotation moves that vector by δ (never clamped). */
export class UnreachableDelta extends RunError {
  constructor(
    readonly hook: HookName,
    readonly layer: number,
    readonly item: number,
    readonly position: number,
    readonly delta: number,
    readonly norm: number,
  ) {
    super(
      `exact angle: δ=${delta} exceeds 2‖h‖=${(2 * norm).toFixed(4)} at ${hook}, item ${item}, position ${position}; no rotation moves that vector by δ (choose δ ≤ 2·min‖h‖ or the magnitude operator)`,
    );
  }
}

/** A non-finite output value; the runner turns it into a RunError naming the first non-finite hook. */
export class NonFiniteOutput extends RunError {
  constructor(
    message: string,
    readonly batchIndex: number,
  ) {
    super(message);
  }
}
