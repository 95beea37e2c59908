/**
 * A plain float64 reference forward pass for every architecture family (one file each), written
 * from Hugging Face's semantics (shared/fixtures/README.md) and independent of the ONNX engine: it
 * reads config.json itself and the weights with the library's safetensors reader. One item at a
 * time, no padding (with right padding and causal attention HF gives the same numbers for real
 * tokens), nanoGPT style. The tests' oracle for random architectures; not part of the product.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { RefWeights, refOps, type RefOps, type ReferenceFamily } from './family';
import { gpt2Reference } from './gpt2';
import { gptNeoxReference } from './gpt_neox';
import { llamaReference } from './llama';
import { linear, perturb, type Json, type ReferencePerturbation, type Vec } from './numerics';
import { optReference } from './opt';

export type { ReferencePerturbation } from './numerics';

/** One reference per family; test/reference.test.ts checks every supported model_type has one. */
export const REFERENCES: readonly ReferenceFamily[] = [gptNeoxReference, llamaReference, optReference, gpt2Reference];

export interface ReferenceResult {
  /** per item: [len, V] */
  logits: Float64Array[];
  /** per item: L tensors [len, D], the output of block l (after its perturbation, if any) */
  residPost: Float64Array[][];
  /** per item: the block-0 input (embeddings incl. learned positions) */
  embed: Float64Array[];
  /** per item: the final-norm output [len, D] */
  finalNorm: Float64Array[];
}

export class ReferenceModel {
  readonly cfg: Json;
  readonly type: string;
  private readonly family: ReferenceFamily;
  private readonly weights: RefWeights;

  constructor(readonly dir: string) {
    this.cfg = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8'));
    this.type = this.cfg.model_type;
    const f = REFERENCES.find((r) => r.modelTypes.includes(this.type));
    if (!f) throw new Error(`reference: model_type '${this.type}' not implemented`);
    this.family = f;
    this.weights = new RefWeights(path.join(dir, 'model.safetensors'));
  }

  /**
   * Runs each item alone. `wrapOps` may observe or replace what the family's linear layers and
   * norms return (by HF parameter prefix), per item: the clean-cache and patching of a repair run.
   */
  forward(
    items: number[][],
    pert?: ReferencePerturbation,
    wrapOps?: (ops: RefOps, item: number) => RefOps,
  ): ReferenceResult {
    const res: ReferenceResult = { logits: [], residPost: [], embed: [], finalNorm: [] };
    items.forEach((ids, b) => {
      const ops = refOps(this.weights, ids.length);
      const f = this.family.build(this.weights, this.cfg, ids, wrapOps ? wrapOps(ops, b) : ops);
      const T = ids.length;
      let x: Vec = f.embed;
      const residPost: Vec[] = [];
      for (let l = 0; l < f.L; l++) {
        x = f.block(x, l);
        if (pert && pert.layers.includes(l)) x = perturb(x, T, f.D, pert, b);
        residPost.push(x);
      }
      const fin = f.finalNorm(x);
      res.logits.push(linear(fin, T, f.head, null));
      res.residPost.push(residPost);
      res.embed.push(f.embed);
      res.finalNorm.push(fin);
    });
    return res;
  }
}
