/**
 * What one intervention kind is: a small module that owns both its graph ops (at compile time) and
 * its graph inputs and outputs (at run time). A plan step is `{ kind, hook, spec, value }`: `spec` is
 * the static, serialisable part that shapes the graph (it is in the plan's signature, so one session
 * serves every value), `value` the run-time part (δ, patch tensors, factors) that becomes feeds.
 */
import type * as ort from 'onnxruntime-node';
import type { GraphBuilder } from '../../onnx/builder';
import type { DataType } from '../../onnx/proto';
import { PlanError } from '../errors';
import type { HookName } from '../hooks';
import type { HookInfo, Item, ItemResult, Layout, ModelConfig, RunOptions } from '../types';

export type Json = string | number | boolean | null | Json[] | { [k: string]: Json };

/** One intervention of a plan. */
export interface Step<S extends Json = Json, V = unknown> {
  kind: string;
  hook: HookName;
  spec: S;
  value: V;
}

/** Compile time: the hook's value and the means to add ops, inputs and outputs for this step. */
export interface BuildSite {
  g: GraphBuilder;
  cfg: ModelConfig;
  hook: HookName;
  /** the hook's block, or null outside the blocks */
  layer: number | null;
  layout: Layout;
  /** the hook's value in the internal layout ([N, width] for flat hooks) */
  value: string;
  /** int64 [2] = (B, T) */
  shapeBT: string;
  /** float [B, T], 1 = real token */
  maskBT: string;
  /**
   * A graph input of this step (its name is made unique to the step), or with `shared` one input
   * for every step that asks for the same name (e.g. noise that does not depend on the layer).
   */
  input(name: string, type: DataType, dims: (number | string)[], shared?: boolean): string;
  /** a graph output of this step */
  output(name: string, v: string): void;
  /** internal ↔ external layout ([N, width] ↔ [B, T, width] for flat hooks; identity otherwise) */
  toExternal(v: string): string;
  toInternal(v: string): string;
  /** the external dims with B and T symbolic */
  externalDims(): (number | string)[];
  /** a bool mask broadcastable over the head axis, true on `heads` (PlanError for hooks without heads) */
  headMask(heads: number[]): string;
}

/** Run time, one forward pass: the batch and the means to set this step's inputs. */
export interface FeedBatch {
  cfg: ModelConfig;
  info: HookInfo;
  /** the pass's items in batch order, padded to T */
  items: Item[];
  T: number;
  opts: RunOptions;
  set(name: string, tensor: ort.Tensor, shared?: boolean): void;
  /** whether a shared input is already set in this pass */
  has(name: string, shared?: boolean): boolean;
}

/** Run time, one item of a finished pass: the step's outputs and the result being assembled. */
export interface ReadItem {
  info: HookInfo;
  item: Item;
  /** row of the item in the pass */
  b: number;
  T: number;
  get(name: string): ort.Tensor;
  result: ItemResult;
}

/** A non-finite run-time value of a step, for error messages. */
export interface BadInput {
  where: string;
  /** index into the run's items, or null for a run-wide value */
  item: number | null;
  /** token position, or null */
  position: number | null;
  value: number;
}

export interface InterventionKind<A extends unknown[] = never[], S extends Json = Json, V = unknown> {
  readonly kind: string;
  /** true when the step never changes the hook's value (capture) */
  readonly observes?: boolean;
  /** the builder's arguments after the hook → the step's spec and value (argument errors are thrown here) */
  create(hook: HookName, ...args: A): { spec: S; value: V };
  /** extra checks against the hook the model really has (e.g. heads in range) */
  check?(step: Step<S, V>, info: HookInfo, cfg: ModelConfig): void;
  /** checks across every step of this kind in one plan (e.g. two perturbations that would draw alike) */
  checkAll?(steps: Step<S, V>[]): void;
  /** emits the step's ops; returns the value the rest of the forward pass sees */
  build(site: BuildSite, spec: S): string;
  /**
   * Before a run's passes: makes the step's run-time values ready for passes of `batches` (values
   * left on the device are read back where a pass cannot feed them as they are, or for every item
   * with `host`, e.g. for badInput).
   */
  prepare?(step: Step<S, V>, batches: Item[][], host?: boolean): Promise<void>;
  feed?(batch: FeedBatch, step: Step<S, V>): void;
  read?(item: ReadItem, step: Step<S, V>): void;
  /** the first non-finite run-time value the step would feed to the items given (for diagnostics) */
  badInput?(step: Step<S, V>, items: Item[]): BadInput | null;
}

/** The builder arguments of a kind. */
export type ArgsOf<K> = K extends InterventionKind<infer A, infer _S, infer _V> ? A : never;

export function defineIntervention<A extends unknown[], S extends Json, V>(
  k: InterventionKind<A, S, V>,
): InterventionKind<A, S, V> {
  return k;
}

/** Heads option shared by the kinds that can act on some heads only. */
export function headsSpec(heads: number[] | undefined): number[] | null {
  if (heads === undefined) return null;
  if (!Array.isArray(heads) || !heads.length) throw new PlanError('heads must be a non-empty list of head indices');
  return [...heads].sort((a, b) => a - b);
}

export function firstNonFinite(data: ArrayLike<number>, keep: (i: number) => boolean = () => true): number {
  for (let i = 0; i < data.length; i++) if (!Number.isFinite(data[i]) && keep(i)) return i;
  return -1;
}
