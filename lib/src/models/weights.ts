/**
 * The checkpoint's tensors in a graph, one of two ways:
 * - 'inputs' (CPU): graph inputs fed from one float32 copy per tensor, read once (fp16/bf16
 *   converted once) and shared by every session of the model: all plans hold one copy of the weights.
 * - 'initializers' (GPU providers, whose inputs would be uploaded on every pass): initializers with
 *   external data pointing into the safetensors file(s); fp16/bf16 are cast to float32 in the graph.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { GraphBuilder } from '../onnx/builder';
import { DataType } from '../onnx/proto';
import { SafetensorsFile, StTensor, readSafetensorsHeader } from '../weights/safetensors';

const ONNX_TYPE: Record<string, DataType> = { F32: DataType.FLOAT, F16: DataType.FLOAT16, BF16: DataType.BFLOAT16 };

export class WeightError extends Error {}

/** How a graph carries the weights (see the top of this file). */
export type WeightMode = 'inputs' | 'initializers';

/** The graph input that carries weight `name` in 'inputs' mode. */
export const weightInput = (name: string): string => `w:${name}`;
export const WEIGHT_INPUT_PREFIX = 'w:';

let f16Table: Float32Array | null = null;
/** float32 value of every float16 bit pattern */
function halfToFloat(): Float32Array {
  if (f16Table) return f16Table;
  const t = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const s = h & 0x8000 ? -1 : 1;
    const e = (h >> 10) & 0x1f;
    const m = h & 0x3ff;
    t[h] = e === 0 ? s * m * 2 ** -24 : e === 31 ? (m ? NaN : s * Infinity) : s * (1 + m / 1024) * 2 ** (e - 15);
  }
  return (f16Table = t);
}

/** Reads one F32/F16/BF16 tensor of a safetensors file as float32 (bulk reads, no per-element parsing). */
function readFloat32(file: string, t: StTensor): Float32Array {
  const n = t.shape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(n);
  const fd = fs.openSync(file, 'r');
  const read = (dst: Uint8Array, position: number) => {
    for (let done = 0; done < dst.byteLength; ) {
      const got = fs.readSync(fd, dst, done, dst.byteLength - done, position + done);
      if (got <= 0) throw new WeightError(`${file}: tensor '${t.name}' is truncated`);
      done += got;
    }
  };
  try {
    if (t.dtype === 'F32') read(new Uint8Array(out.buffer), t.offset);
    else if (t.dtype === 'F16' || t.dtype === 'BF16') {
      // in chunks, so a large fp16 tensor never needs a second full-size buffer
      const CHUNK = 1 << 22;
      const half = new Uint16Array(Math.min(n, CHUNK));
      const bits = new Uint32Array(out.buffer);
      const table = halfToFloat();
      for (let start = 0; start < n; start += CHUNK) {
        const len = Math.min(CHUNK, n - start);
        read(new Uint8Array(half.buffer, 0, 2 * len), t.offset + 2 * start);
        if (t.dtype === 'F16') for (let i = 0; i < len; i++) out[start + i] = table[half[i]];
        else for (let i = 0; i < len; i++) bits[start + i] = half[i] << 16;
      }
    } else throw new WeightError(`${file}: tensor '${t.name}' has dtype ${t.dtype}; weights must be F32, F16 or BF16`);
  } finally {
    fs.closeSync(fd);
  }
  return out;
}

export class Checkpoint {
  /** the real folder that holds every weight file (external data is resolved relative to it) */
  readonly dataDir: string;
  private readonly where = new Map<string, { file: SafetensorsFile; t: StTensor; location: string }>();

  private constructor(
    readonly dir: string,
    files: SafetensorsFile[],
  ) {
    const real = files.map((f) => fs.realpathSync(f.path));
    const dirs = new Set(real.map((p) => path.dirname(p)));
    if (dirs.size !== 1)
      throw new WeightError(`${dir}: weight shards resolve to different folders (${[...dirs].join(', ')})`);
    this.dataDir = [...dirs][0];
    files.forEach((file, i) => {
      for (const t of file.tensors.values()) this.where.set(t.name, { file, t, location: path.basename(real[i]) });
    });
  }

  static open(dir: string): Checkpoint {
    const single = path.join(dir, 'model.safetensors');
    const index = path.join(dir, 'model.safetensors.index.json');
    if (fs.existsSync(single)) return new Checkpoint(dir, [readSafetensorsHeader(single)]);
    if (fs.existsSync(index)) {
      let map: Record<string, string>;
      try {
        map = JSON.parse(fs.readFileSync(index, 'utf8')).weight_map;
      } catch (e) {
        throw new WeightError(`${index}: not a valid safetensors index (${(e as Error).message})`);
      }
      const shards = [...new Set(Object.values(map ?? {}))];
      if (!shards.length) throw new WeightError(`${index}: weight_map is empty`);
      return new Checkpoint(
        dir,
        shards.map((s) => readSafetensorsHeader(path.join(dir, s))),
      );
    }
    const bin = fs.existsSync(path.join(dir, 'pytorch_model.bin'))
      ? ' (only pytorch_model.bin found: convert it to safetensors)'
      : '';
    throw new WeightError(`${dir}: no model.safetensors or model.safetensors.index.json${bin}`);
  }

  has(name: string): boolean {
    return this.where.has(name);
  }

  names(): string[] {
    return [...this.where.keys()];
  }

  shape(name: string): number[] {
    return this.entry(name).t.shape;
  }

  /** Bytes of every floating-point tensor as float32: what 'inputs' mode holds once all are read. */
  get float32Bytes(): number {
    let n = 0;
    for (const { t } of this.where.values())
      if (t.dtype === 'F32' || t.dtype === 'F16' || t.dtype === 'BF16') n += 4 * t.shape.reduce((a, b) => a * b, 1);
    return n;
  }

  dtypes(): Set<string> {
    return new Set([...this.where.values()].map((e) => e.t.dtype));
  }

  private entry(name: string) {
    const e = this.where.get(name);
    if (!e) throw new WeightError(`${this.dir}: tensor '${name}' is missing from the checkpoint`);
    return e;
  }

  /** Emits (once) the graph input or initializer for `name`, checks its shape, and returns a float32 value name. */
  value(g: GraphBuilder, name: string, expected: number[], mode: WeightMode): string {
    const cached = this.emitted.get(g)?.get(name);
    if (cached) return cached;
    const { t, location } = this.entry(name);
    if (t.shape.length !== expected.length || t.shape.some((d, i) => d !== expected[i]))
      throw new WeightError(
        `${this.dir}: tensor '${name}' has shape [${t.shape}] but the config implies [${expected}]`,
      );
    const type = ONNX_TYPE[t.dtype];
    if (type === undefined)
      throw new WeightError(`${this.dir}: tensor '${name}' has dtype ${t.dtype}; weights must be F32, F16 or BF16`);
    if (mode === 'inputs') return this.remember(g, name, g.input(weightInput(name), DataType.FLOAT, t.shape));
    const init = g.initializer({
      name: `w:${name}`,
      dims: t.shape,
      dataType: type,
      external: { location, offset: t.offset, length: t.length },
    });
    return this.remember(g, name, type === DataType.FLOAT ? init : g.op('Cast', [init], { to: DataType.FLOAT }));
  }

  private remember(g: GraphBuilder, name: string, value: string): string {
    if (!this.emitted.has(g)) this.emitted.set(g, new Map());
    this.emitted.get(g)!.set(name, value);
    return value;
  }

  private emitted = new WeakMap<GraphBuilder, Map<string, string>>();
  private readonly loaded = new Map<string, Float32Array>();

  /** Tensor `name` as float32, read from disk on first use and kept (the one copy every session is fed). */
  float32(name: string): Float32Array {
    let a = this.loaded.get(name);
    if (!a) this.loaded.set(name, (a = readFloat32(this.entry(name).file.path, this.entry(name).t)));
    return a;
  }

  /** Bytes of the float32 copies held now. */
  get heldBytes(): number {
    let n = 0;
    for (const a of this.loaded.values()) n += a.byteLength;
    return n;
  }

  /** Drops the float32 copies (they are read again on next use). */
  releaseWeights(): void {
    this.loaded.clear();
  }
}
