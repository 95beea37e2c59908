/**
 * compile(model, plan) → ONNX bytes + the description of its inputs and outputs.
 * Plans are validated against the hooks the architecture really emits.
 */
import { GraphBuilder } from '../onnx/builder';
import { DataType } from '../onnx/proto';
import { Architecture } from '../models/architecture';
import { Ctx, attentionAllowed } from '../models/blocks';
import { Checkpoint } from '../models/weights';
import { HookInfo, HookPoints, IoSpec } from './hookpoints';
import { ModelConfig, Plan } from './types';

export interface Compiled {
  bytes: Uint8Array;
  io: IoSpec;
  /** every hook the model offers (for validation and discovery) */
  hooks: HookInfo[];
  signature: string;
}

export class PlanError extends Error {}

/** Canonical JSON of a plan: the session cache key. */
export function planSignature(plan: Plan): string {
  const canon = (v: unknown): unknown =>
    Array.isArray(v)
      ? v.map(canon)
      : v && typeof v === 'object'
        ? Object.fromEntries(
            Object.keys(v)
              .sort()
              .map((k) => [k, canon((v as Record<string, unknown>)[k])]),
          )
        : v;
  return JSON.stringify(canon(plan));
}

/** Levenshtein distance, for "did you mean" suggestions. */
function distance(a: string, b: string): number {
  const dp = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = dp[0];
    dp[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = dp[j];
      dp[j] = Math.min(dp[j] + 1, dp[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return dp[b.length];
}

export function closest(name: string, candidates: string[]): string {
  return candidates.reduce((best, c) => (distance(name, c) < distance(name, best) ? c : best), candidates[0]);
}

function validatePlan(plan: Plan, cfg: ModelConfig, hooks: HookInfo[]): void {
  const names = hooks.map((h) => h.name);
  for (const name of Object.keys(plan.hooks ?? {})) {
    if (names.includes(name)) continue;
    const layer = /^blocks\.(\d+)\./.exec(name);
    if (layer && Number(layer[1]) >= cfg.nLayers)
      throw new PlanError(
        `hook '${name}': layer ${layer[1]} does not exist: this model has layers 0..${cfg.nLayers - 1}`,
      );
    throw new PlanError(
      `unknown hook '${name}' for this ${cfg.modelType} model; did you mean '${closest(name, names)}'?`,
    );
  }
  const p = plan.perturb;
  if (p) {
    if (!p.layers.length) throw new PlanError('perturbation has no layers');
    for (const l of p.layers)
      if (!Number.isInteger(l) || l < 0 || l >= cfg.nLayers)
        throw new PlanError(`perturbation layer ${l} does not exist: this model has layers 0..${cfg.nLayers - 1}`);
    const hook = p.hook ?? 'hook_resid_post';
    if (!names.includes(`blocks.0.${hook}`))
      throw new PlanError(`perturbation hook '${hook}' does not exist in a ${cfg.modelType} model`);
    if (!['magnitude', 'angle_exact', 'angle_legacy'].includes(p.op))
      throw new PlanError(`unknown perturbation '${p.op}' (magnitude, angle_exact, angle_legacy)`);
    if (p.legacyIters !== undefined && !(Number.isInteger(p.legacyIters) && p.legacyIters > 0 && p.legacyIters <= 60))
      throw new PlanError(`legacyIters must be an integer in 1..60, got ${p.legacyIters}`);
  }
  for (const o of plan.outputs)
    if (!['logprobs', 'entropy', 'logits'].includes(o))
      throw new PlanError(`unknown output '${o}' (logprobs, entropy, logits)`);
}

export function compile(cfg: ModelConfig, ckpt: Checkpoint, arch: Architecture, plan: Plan): Compiled {
  const g = new GraphBuilder();
  const inputIds = g.input('input_ids', DataType.INT64, ['B', 'T']);
  const positionIds = g.input('position_ids', DataType.INT64, ['B', 'T']);
  const mask = g.input('attention_mask', DataType.INT64, ['B', 'T']);
  const shapeBT = g.op('Shape', [inputIds]);
  const maskBT = g.op('Cast', [mask], { to: DataType.FLOAT });
  const hooks = new HookPoints(g, cfg, plan, shapeBT, maskBT);
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
    hooks,
    name,
    inputIds,
    positionIds,
    shapeBT,
    allowed: attentionAllowed(g, mask, shapeBT),
  };
  const final = arch.forward(c);
  validatePlan(plan, cfg, hooks.seen);

  const outs = new Set(plan.outputs);
  if (outs.size) {
    const logits = g.op('Gemm', [final, arch.unembedding(c)], { transB: 1 }); // [N, V]
    if (outs.has('logits'))
      g.output('logits', g.op('Reshape', [logits, g.op('Concat', [shapeBT, g.constI([cfg.vocabSize])], { axis: 0 })]));
    if (outs.has('logprobs') || outs.has('entropy')) {
      // log p(target) = logit(target) − logsumexp(logits): no second [N, V] tensor for log-softmax
      const lse = g.op('ReduceLogSumExp', [logits], { axes: [1], keepdims: 1 }); // [N, 1]
      if (outs.has('logprobs')) {
        const targets = g.input('targets', DataType.INT64, ['B', 'T']);
        const picked = g.op('GatherElements', [logits, g.op('Reshape', [targets, g.constI([-1, 1])])], { axis: 1 });
        g.output('logprobs', g.op('Reshape', [g.op('Sub', [picked, lse]), shapeBT]));
      }
      if (outs.has('entropy')) {
        // H = lse − Σ p·z with p = exp(z − lse)
        const p = g.op('Exp', [g.op('Sub', [logits, lse])]);
        const ent = g.op('Sub', [
          g.op('Reshape', [lse, g.constI([-1])]),
          g.op('ReduceSum', [g.op('Mul', [p, logits]), g.constI([1])], { keepdims: 0 }),
        ]);
        g.output('entropy', g.op('Reshape', [ent, shapeBT]));
      }
    }
  }
  if (!g.outputs.length) throw new PlanError('plan computes nothing: ask for an output, a capture or a perturbation');
  return { bytes: g.encode('dirmag'), io: hooks.io, hooks: hooks.seen, signature: planSignature(plan) };
}
