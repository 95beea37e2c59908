/**
 * Hook sites at compile time: architecture code calls `sites.hook(name, value, layout)` at every
 * hook; the plan's steps at that hook run there (in order) and the value they return is what the
 * rest of the forward pass sees. Every step's graph inputs and outputs are named after its hook,
 * so the graph reads like the model in Netron.
 */
import { GraphBuilder } from '../onnx/builder';
import { DataType } from '../onnx/proto';
import { PlanError } from './errors';
import type { HookName } from './hooks';
import { parseHook } from './hooks';
import { INTERVENTIONS } from './interventions';
import type { BuildSite, InterventionKind } from './interventions/kind';
import type { Plan } from './plan';
import type { HookInfo, Layout, ModelConfig } from './types';

const KINDS = new Map<string, InterventionKind<unknown[]>>(
  Object.values(INTERVENTIONS).map((k) => [k.kind, k as unknown as InterventionKind<unknown[]>]),
);

export function kindOf(name: string): InterventionKind<unknown[]> {
  const k = KINDS.get(name);
  if (!k) throw new PlanError(`unknown intervention kind '${name}' (${[...KINDS.keys()].join(', ')})`);
  return k;
}

/** Graph input/output names of step i. */
export function ioName(plan: Plan, i: number, name: string, shared = false): string {
  if (shared) return `shared/${name}`;
  const s = plan.steps[i];
  return `${s.hook}/${s.kind}.${i}/${name}`;
}

export class Sites {
  /** every hook the model offers, in forward order */
  readonly seen: HookInfo[] = [];
  /** the hook of each step of the plan, once the forward pass reached it */
  readonly stepInfo: (HookInfo | undefined)[];
  private readonly declared = new Set<string>();

  constructor(
    private readonly g: GraphBuilder,
    private readonly cfg: ModelConfig,
    private readonly plan: Plan,
    /** int64 [2] = (B, T) */
    private readonly shapeBT: string,
    /** float [B, T], 1 = real token */
    private readonly maskBT: string,
  ) {
    this.stepInfo = plan.steps.map(() => undefined);
  }

  /** Whether any step acts at `name`. */
  has(name: HookName): boolean {
    return this.plan.steps.some((s) => s.hook === name);
  }

  /** Whether a step at `name` may change its value (anything but a capture). */
  changes(name: HookName): boolean {
    return this.plan.steps.some((s) => s.hook === name && !kindOf(s.kind).observes);
  }

  /** A hook the model offers but computes only when a step is at it (see `has`). */
  declare(name: HookName, layout: Layout): void {
    this.seen.push({ name, layout });
  }

  hook(name: HookName, value: string, layout: Layout): string {
    this.seen.push({ name, layout });
    let v = value;
    this.plan.steps.forEach((step, i) => {
      if (step.hook !== name) return;
      this.stepInfo[i] = { name, layout };
      const prev = this.g.scope;
      this.g.scope = `${name}/${step.kind}.${i}`;
      try {
        v = kindOf(step.kind).build(this.site(i, name, layout, v), step.spec);
      } finally {
        this.g.scope = prev;
      }
    });
    return v;
  }

  private site(i: number, hook: HookName, layout: Layout, value: string): BuildSite {
    const g = this.g;
    const flatShape = () =>
      g.op('Concat', [this.shapeBT, g.constI([(layout as { width: number }).width])], { axis: 0 });
    return {
      g,
      cfg: this.cfg,
      hook,
      layer: parseHook(hook)?.layer ?? null,
      layout,
      value,
      shapeBT: this.shapeBT,
      maskBT: this.maskBT,
      input: (name, type, dims, shared = false) => {
        const full = ioName(this.plan, i, name, shared);
        if (!this.declared.has(full)) g.input(full, type, dims);
        this.declared.add(full);
        return full;
      },
      output: (name, v) => g.output(ioName(this.plan, i, name), v),
      toExternal: (v) => (layout.kind === 'flat' ? g.reshape(v, flatShape(), ['B', 'T', layout.width]) : v),
      toInternal: (v) => (layout.kind === 'flat' ? g.reshape(v, g.constI([-1, layout.width]), ['N', layout.width]) : v),
      externalDims: () =>
        layout.kind === 'flat'
          ? ['B', 'T', layout.width]
          : layout.kind === 'heads'
            ? ['B', 'T', layout.heads, layout.headDim]
            : ['B', layout.heads, 'T', 'T'],
      headMask: (heads) => {
        if (layout.kind === 'flat')
          throw new PlanError(`hook '${hook}' has no head axis; per-head interventions need hook_q/k/v/z/pattern`);
        const n = layout.heads;
        for (const h of heads)
          if (!Number.isInteger(h) || h < 0 || h >= n)
            throw new PlanError(`hook '${hook}': head ${h} out of range 0..${n - 1}`);
        const vals = Array.from({ length: n }, (_, k) => (heads.includes(k) ? 1 : 0));
        const dims = layout.kind === 'heads' ? [1, 1, n, 1] : [1, n, 1, 1];
        return g.op('Cast', [g.constF(vals, dims)], { to: DataType.BOOL });
      },
    };
  }
}
