/**
 * Hook points: architecture code calls `ctx.hook(name, value, layout)` at every TransformerLens
 * hook; this applies the plan there (perturb, patch, scale, ablate, capture) and returns the value
 * the rest of the forward pass sees.
 */
import { GraphBuilder } from '../onnx/builder';
import { DataType } from '../onnx/proto';
import { perturbGraph } from './perturb-graph';
import { HookName, ModelConfig, Plan } from './types';

/** How a hook's tensor is laid out inside the graph and how it is shown outside. */
export type Layout =
  /** internal [N, width], external [B, T, width] */
  | { kind: 'flat'; width: number }
  /** [B, T, heads, headDim] both inside and outside */
  | { kind: 'heads'; heads: number; headDim: number }
  /** attention pattern [B, H, T, T] */
  | { kind: 'pattern'; heads: number };

export interface HookInfo {
  name: HookName;
  layout: Layout;
}

/** The graph inputs and outputs a compiled plan has, beyond input_ids/position_ids/attention_mask. */
export interface IoSpec {
  patches: HookInfo[];
  scales: HookInfo[];
  means: HookInfo[];
  captures: HookInfo[];
  /** perturbed layers in order; noise/sign inputs are per layer unless shared */
  perturbLayers: number[];
  noiseInputs: string[]; // graph input names, one per layer or one shared
  signInputs: string[];
}

export class HookPoints {
  readonly seen: HookInfo[] = [];
  readonly io: IoSpec = {
    patches: [],
    scales: [],
    means: [],
    captures: [],
    perturbLayers: [],
    noiseInputs: [],
    signInputs: [],
  };

  constructor(
    private g: GraphBuilder,
    private cfg: ModelConfig,
    private plan: Plan,
    /** int64 [2] = (B, T) */
    private shapeBT: string,
    /** float [B, T], 1 = real token */
    private maskBT: string,
  ) {}

  private externalShape(layout: Layout): string | null {
    return layout.kind === 'flat'
      ? this.g.op('Concat', [this.shapeBT, this.g.constI([layout.width])], { axis: 0 })
      : null;
  }

  private toExternal(v: string, layout: Layout): string {
    const s = this.externalShape(layout);
    return s ? this.g.op('Reshape', [v, s]) : v;
  }

  private toInternal(v: string, layout: Layout): string {
    return layout.kind === 'flat' ? this.g.op('Reshape', [v, this.g.constI([-1, layout.width])]) : v;
  }

  private externalDims(layout: Layout): (number | string)[] {
    if (layout.kind === 'flat') return ['B', 'T', layout.width];
    if (layout.kind === 'heads') return ['B', 'T', layout.heads, layout.headDim];
    return ['B', layout.heads, 'T', 'T'];
  }

  /** Bool mask broadcastable over the hook's head axis, true on the selected heads. */
  private headMask(layout: Layout, heads: number[], name: HookName): string {
    if (layout.kind === 'flat')
      throw new Error(`hook '${name}' has no head axis; per-head interventions need hook_q/k/v/z/pattern`);
    const n = layout.heads;
    for (const h of heads)
      if (!Number.isInteger(h) || h < 0 || h >= n)
        throw new Error(`hook '${name}': head ${h} out of range 0..${n - 1}`);
    const vals = Array.from({ length: n }, (_, i) => (heads.includes(i) ? 1 : 0));
    const dims = layout.kind === 'heads' ? [1, 1, n, 1] : [1, n, 1, 1];
    return this.g.op('Cast', [this.g.constF(vals, dims)], { to: DataType.BOOL });
  }

  hook(name: HookName, value: string, layout: Layout): string {
    this.seen.push({ name, layout });
    const g = this.g;
    let v = value;
    const pert = this.plan.perturb;
    const m = /^blocks\.(\d+)\.(hook_resid_\w+)$/.exec(name);
    if (pert && m && (pert.hook ?? 'hook_resid_post') === m[2] && pert.layers.includes(Number(m[1]))) {
      v = this.perturb(Number(m[1]), v);
    }
    const iv = this.plan.hooks?.[name];
    if (!iv) return v;
    const info = { name, layout };
    const heads = 'heads' in iv && iv.heads ? this.headMask(layout, iv.heads, name) : null;
    const restrict = (replacement: string) => (heads ? g.op('Where', [heads, replacement, v]) : replacement);
    switch (iv.kind) {
      case 'capture':
        this.io.captures.push(info);
        g.output(`cap:${name}`, this.toExternal(v, layout));
        return v;
      case 'patch': {
        this.io.patches.push(info);
        const input = g.input(`patch:${name}`, DataType.FLOAT, this.externalDims(layout));
        if (heads) return this.toInternal(g.op('Where', [heads, input, this.toExternal(v, layout)]), layout);
        return this.toInternal(input, layout);
      }
      case 'scale': {
        this.io.scales.push(info);
        const s = g.input(`scale:${name}`, DataType.FLOAT, [1]);
        return restrict(g.op('Mul', [v, s]));
      }
      case 'ablate': {
        if (iv.how === 'zero') return restrict(g.op('Mul', [v, g.constF([0])]));
        this.io.means.push(info);
        const trailing =
          layout.kind === 'flat'
            ? [layout.width]
            : layout.kind === 'heads'
              ? [layout.heads, layout.headDim]
              : ['T', 'T'];
        const mean = g.input(`mean:${name}`, DataType.FLOAT, trailing);
        return restrict(g.op('Add', [g.op('Mul', [v, g.constF([0])]), mean]));
      }
    }
  }

  private perturb(layer: number, h: string): string {
    const g = this.g;
    const pert = this.plan.perturb!;
    const D = this.cfg.dModel;
    const noiseShared = !(pert.noiseKey ?? ['item', 'layer']).includes('layer');
    const signShared = !(pert.signKey ?? ['item', 'layer', 'pass']).includes('layer');
    const delta = this.ensureInput('delta', [1]);
    let noise: string | undefined;
    let signs: string | undefined;
    if (pert.op === 'magnitude') {
      const name = signShared ? 'signs' : `signs:${layer}`;
      if (!this.io.signInputs.includes(name)) this.io.signInputs.push(name);
      signs = g.op('Reshape', [this.ensureInput(name, ['B', 'T']), g.constI([-1, 1])]);
    } else {
      const name = noiseShared ? 'noise' : `noise:${layer}`;
      if (!this.io.noiseInputs.includes(name)) this.io.noiseInputs.push(name);
      noise = g.op('Reshape', [this.ensureInput(name, ['B', 'T', D]), g.constI([-1, D])]);
    }
    this.io.perturbLayers.push(layer);
    const r = perturbGraph(g, pert.op, h, {
      delta,
      noise,
      signs,
      maskBT: this.maskBT,
      shapeBT: this.shapeBT,
      legacyIters: pert.legacyIters ?? 20,
    });
    g.output(`pnorm:${layer}`, g.op('Reshape', [r.norm, this.shapeBT]));
    g.output(`disp:${layer}`, g.op('Reshape', [r.disp, this.shapeBT]));
    return r.out;
  }

  private declared = new Set<string>();
  private ensureInput(name: string, dims: (number | string)[]): string {
    if (!this.declared.has(name)) {
      this.g.input(name, DataType.FLOAT, dims);
      this.declared.add(name);
    }
    return name;
  }
}
