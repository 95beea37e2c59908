/**
 * The intervention registry: every kind, by the name of its plan-builder method
 * (`plan().capture(hook)`, `.patch(hook, cache)`, ...). A new kind is one module plus one line here.
 */
import { ablate } from './ablate';
import { add } from './add';
import { capture } from './capture';
import { patch } from './patch';
import { perturb } from './perturb';
import { scale } from './scale';

export const INTERVENTIONS = { capture, patch, scale, ablate, perturb, add } as const;
export type Interventions = typeof INTERVENTIONS;

export type { CaptureOptions } from './capture';
export type { PatchOptions } from './patch';
export type { AblateOptions } from './ablate';
export type { PerturbOptions } from './perturb';
export type { Step, InterventionKind, BuildSite, FeedBatch, ReadItem } from './kind';
export { defineIntervention } from './kind';
