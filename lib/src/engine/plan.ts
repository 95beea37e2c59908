/**
 * Plans: what happens at each hook of one forward pass, as data. A plan is built step by step with
 * the values it needs (`plan('logprobs').perturb(hooks.residPost(8), { op, delta }).patch(h, cache)`),
 * so a plan and its inputs cannot drift apart. Its signature (outputs, and each step's kind, hook
 * and static spec, never the values) keys the session cache: a sweep over δ, seeds or cached values
 * compiles once. Steps at one hook apply in the order they were added; steps at different hooks in
 * forward order, whatever the order of the calls.
 */
import { PlanError } from './errors';
import { hookOrder, type HookName } from './hooks';
import { INTERVENTIONS, Interventions } from './interventions';
import type { ArgsOf, Json, Step } from './interventions/kind';
import type { OutputKind } from './types';

const OUTPUTS: readonly OutputKind[] = ['logprobs', 'entropy', 'logits'];

type Methods = {
  [K in keyof Interventions]: (hook: HookName | readonly HookName[], ...args: ArgsOf<Interventions[K]>) => Plan;
};

/** The serialisable part of a plan: what the graph looks like. */
export interface PlanShape {
  outputs: OutputKind[];
  steps: { kind: string; hook: HookName; spec: Json }[];
}

export interface Plan extends Methods {}
export class Plan {
  /** @internal use plan() */
  constructor(
    readonly outputs: readonly OutputKind[],
    /** in forward order of their hooks (steps at one hook in the order they were added) */
    readonly steps: readonly Step[],
  ) {
    for (const o of outputs)
      if (!OUTPUTS.includes(o)) throw new PlanError(`unknown output '${o}' (${OUTPUTS.join(', ')})`);
  }

  /** The same steps with other graph outputs. */
  withOutputs(...outputs: OutputKind[]): Plan {
    return new Plan(outputs, this.steps);
  }

  /** The plan with every step of `other` added (outputs of both). */
  merge(other: Plan): Plan {
    return new Plan([...new Set([...this.outputs, ...other.outputs])], sortSteps([...this.steps, ...other.steps]));
  }

  /** Steps at one hook. */
  at(hook: HookName): Step[] {
    return this.steps.filter((s) => s.hook === hook);
  }

  toJSON(): PlanShape {
    return { outputs: [...this.outputs], steps: this.steps.map(({ kind, hook, spec }) => ({ kind, hook, spec })) };
  }

  /** Canonical JSON of the plan's shape: the session cache key. */
  get signature(): string {
    return canonicalJson(this.toJSON());
  }
}

/** A new plan that computes `outputs` (none: captures only). */
export function plan(...outputs: OutputKind[]): Plan {
  return new Plan(outputs, []);
}

for (const [name, kind] of Object.entries(INTERVENTIONS)) {
  Object.defineProperty(Plan.prototype, name, {
    value(this: Plan, hook: HookName | readonly HookName[], ...args: unknown[]): Plan {
      const list = typeof hook === 'string' ? [hook] : hook;
      if (!Array.isArray(list) || !list.length) throw new PlanError(`${name}: no hook given`);
      const added = list.map((h): Step => {
        const { spec, value } = (kind.create as (h: HookName, ...a: unknown[]) => { spec: Json; value: unknown })(
          h,
          ...args,
        );
        return { kind: kind.kind, hook: h, spec, value };
      });
      return new Plan(this.outputs, sortSteps([...this.steps, ...added]));
    },
  });
}

/** Forward order of the hooks; steps at one hook keep the order they were added in. */
function sortSteps(steps: Step[]): Step[] {
  return steps
    .map((s, i) => ({ s, i, o: hookOrder(s.hook) }))
    .sort((a, b) => a.o - b.o || (a.s.hook < b.s.hook ? -1 : a.s.hook > b.s.hook ? 1 : a.i - b.i))
    .map((x) => x.s);
}

function canonicalJson(v: unknown): string {
  const canon = (x: unknown): unknown =>
    Array.isArray(x)
      ? x.map(canon)
      : x && typeof x === 'object'
        ? Object.fromEntries(
            Object.keys(x)
              .sort()
              .map((k) => [k, canon((x as Record<string, unknown>)[k])]),
          )
        : x;
  return JSON.stringify(canon(v));
}
