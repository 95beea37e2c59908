/** What each family's reference forward pass provides, and the weights it reads. */
import { readSafetensorsHeader, readTensor } from '../../lib/src/weights/safetensors';
import { layerNorm, linear, type Json, type Mat, type Vec } from './numerics';

export interface Forward {
  D: number;
  L: number;
  /** the block-0 input (embeddings incl. learned positions) [T, D] */
  embed: Vec;
  /** block l: [T, D] → [T, D] */
  block: (x: Vec, l: number) => Vec;
  finalNorm: (x: Vec) => Vec;
  /** unembedding [V, D] */
  head: Mat;
}

/** What every family uses on a sequence of T tokens: linear layers and LayerNorm by HF parameter prefix. */
export interface RefOps {
  T: number;
  lin: (x: Vec, prefix: string, opts?: { bias?: 'yes' | 'no' | 'optional'; conv?: boolean }) => Vec;
  ln: (x: Vec, prefix: string, eps: number) => Vec;
}

export interface ReferenceFamily {
  modelTypes: readonly string[];
  build(w: RefWeights, cfg: Json, ids: number[], ops: RefOps): Forward;
}

export function refOps(w: RefWeights, T: number): RefOps {
  return {
    T,
    lin: (x, prefix, opts = {}) => w.linear(x, T, prefix, opts),
    ln: (x, prefix, eps) => layerNorm(x, T, x.length / T, w.vec(`${prefix}.weight`), w.vec(`${prefix}.bias`), eps),
  };
}

/** The checkpoint's tensors as float64, read with the library's safetensors reader. */
export class RefWeights {
  private file: ReturnType<typeof readSafetensorsHeader>;
  private cache = new Map<string, Float64Array>();

  constructor(file: string) {
    this.file = readSafetensorsHeader(file);
  }

  has(name: string): boolean {
    return this.file.tensors.has(name);
  }

  vec(name: string): Vec {
    let v = this.cache.get(name);
    if (!v) {
      v = Float64Array.from(readTensor(this.file, name).data);
      this.cache.set(name, v);
    }
    return v;
  }

  mat(name: string): Mat {
    const shape = this.file.tensors.get(name)?.shape;
    if (!shape || shape.length !== 2) throw new Error(`reference: ${name} missing or not a matrix`);
    return { rows: shape[0], cols: shape[1], data: this.vec(name) };
  }

  rows(name: string, idx: number[]): Vec {
    const m = this.mat(name);
    const out = new Float64Array(idx.length * m.cols);
    idx.forEach((r, t) => out.set(m.data.subarray(r * m.cols, (r + 1) * m.cols), t * m.cols));
    return out;
  }

  /** nn.Linear (or Conv1D with `conv`) `prefix`.weight/.bias applied to x [T, in]. */
  linear(x: Vec, T: number, prefix: string, opts: { bias?: 'yes' | 'no' | 'optional'; conv?: boolean } = {}): Vec {
    const b =
      opts.bias === 'no'
        ? null
        : opts.bias === 'optional' && !this.has(`${prefix}.bias`)
          ? null
          : this.vec(`${prefix}.bias`);
    return linear(x, T, this.mat(`${prefix}.weight`), b, opts.conv);
  }
}
