/**
 * compile(model, plan) → ONNX bytes plus what the runner needs to feed and read it. Plans are
 * validated against the hooks the architecture really emits.
 */
import { GraphBuilder } from '../onnx/builder';
import { DataType, encodeModel } from '../onnx/proto';
import type { Architecture } from '../models/architecture';
import { Ctx, attentionAllowed } from '../models/blocks';
import { Checkpoint, WEIGHT_INPUT_PREFIX, type WeightMode } from '../models/weights';
import { PlanError } from './errors';
import { parseHook } from './hooks';
import type { Step } from './interventions/kind';
import type { Plan } from './plan';
import { Sites, kindOf } from './site';
import type { HookInfo, ModelConfig } from './types';
import { closest } from '../util/closest';

/**
 * A plan's graph, shared by every plan of the same signature: it holds no step's data (a patch's
 * values, say), which the runner feeds per pass, so caching it keeps no activations alive.
 */
export interface Compiled {
  bytes: Uint8Array;
  /** the hook of every step, in plan order */
  stepInfo: HookInfo[];
  /** every hook the model offers, in forward order */
  hooks: HookInfo[];
  signature: string;
  /** checkpoint tensors the graph takes as inputs ('inputs' mode; none with initializers) */
  weightInputs: string[];
}

function validate(plan: Plan, cfg: ModelConfig, sites: Sites): HookInfo[] {
  const names = sites.seen.map((h) => h.name);
  const infos = plan.steps.map((step, i) => {
    const info = sites.stepInfo[i];
    if (info) return info;
    const layer = parseHook(step.hook)?.layer;
    if (layer !== undefined && layer !== null && layer >= cfg.nLayers)
      throw new PlanError(
        `hook '${step.hook}': layer ${layer} does not exist: this model has layers 0..${cfg.nLayers - 1}`,
      );
    throw new PlanError(
      `unknown hook '${step.hook}' for this ${cfg.modelType} model; did you mean '${closest(step.hook, names)}'?`,
    );
  });
  const byKind = new Map<string, Step[]>();
  plan.steps.forEach((step, i) => {
    kindOf(step.kind).check?.(step, infos[i], cfg);
    byKind.set(step.kind, [...(byKind.get(step.kind) ?? []), step]);
  });
  for (const [kind, steps] of byKind) kindOf(kind).checkAll?.(steps);
  return infos;
}

export function compile(
  cfg: ModelConfig,
  ckpt: Checkpoint,
  arch: Architecture,
  plan: Plan,
  weights: WeightMode = 'initializers',
): Compiled {
  const g = new GraphBuilder();
  const inputIds = g.input('input_ids', DataType.INT64, ['B', 'T']);
  const positionIds = g.input('position_ids', DataType.INT64, ['B', 'T']);
  const mask = g.input('attention_mask', DataType.INT64, ['B', 'T']);
  const shapeBT = g.op('Shape', [inputIds]);
  const maskBT = g.op('Cast', [mask], { to: DataType.FLOAT });
  const sites = new Sites(g, cfg, plan, shapeBT, maskBT);
  const canonical = arch.prefixes[0];
  const name = (n: string): string => {
    if (ckpt.has(n)) return n;
    const bare = canonical && n.startsWith(canonical) ? n.slice(canonical.length) : n;
    for (const p of arch.prefixes) if (ckpt.has(p + bare)) return p + bare;
    return n; // reported as missing by Checkpoint.value
  };
  const c: Ctx = {
    g,
    cfg,
    ckpt,
    weights,
    sites,
    hook: (n, v, layout) => sites.hook(n, v, layout),
    name,
    inputIds,
    positionIds,
    shapeBT,
    allowed: attentionAllowed(g, mask, shapeBT),
  };
  const final = arch.forward(c);
  const stepInfo = validate(plan, cfg, sites);

  const outs = new Set(plan.outputs);
  if (outs.size) {
    g.scope = 'unembed';
    // only the rows an output reads go through the head (head_rows, built in feeds.ts): no padding, and no
    // last position when only log-probs are asked for
    const rows = g.op('Gather', [final, g.input('head_rows', DataType.INT64, ['R'])], { axis: 0 }); // [R, D]
    const logits = g.op('Gemm', [rows, arch.unembedding(c)], { transB: 1 }); // [R, V]
    if (outs.has('logits')) g.output('logits', logits);
    if (outs.has('logprobs') || outs.has('entropy')) {
      // log p(target) = logit(target) − logsumexp(logits): no second [R, V] tensor for log-softmax
      const lse = g.op('ReduceLogSumExp', [logits], { axes: [1], keepdims: 1 }); // [R, 1]
      const flat = g.constI([-1]);
      if (outs.has('logprobs')) {
        const targets = g.input('targets', DataType.INT64, ['R']);
        const picked = g.op('GatherElements', [logits, g.op('Reshape', [targets, g.constI([-1, 1])])], { axis: 1 });
        g.output('logprobs', g.op('Reshape', [g.op('Sub', [picked, lse]), flat]));
      }
      if (outs.has('entropy')) {
        // H = lse − Σ p·z with p = exp(z − lse)
        const p = g.op('Exp', [g.op('Sub', [logits, lse])]);
        const ent = g.op('Sub', [
          g.op('Reshape', [lse, flat]),
          g.op('ReduceSum', [g.op('Mul', [p, logits]), g.constI([1])], { keepdims: 0 }),
        ]);
        g.output('entropy', ent);
      }
    }
    g.scope = '';
  }
  if (!g.outputs.length) throw new PlanError('plan computes nothing: ask for an output, a capture or a perturbation');
  const model = g.toModel('dirmag');
  const weightInputs = model.graph.inputs
    .filter((v) => v.name.startsWith(WEIGHT_INPUT_PREFIX))
    .map((v) => v.name.slice(WEIGHT_INPUT_PREFIX.length));
  return { bytes: encodeModel(model), stepInfo, hooks: sites.seen, signature: plan.signature, weightInputs };
}
