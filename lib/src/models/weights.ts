/**
 * The checkpoint's tensors as ONNX initializers with external data pointing into the
 * safetensors file(s) themselves. fp16/bf16 tensors are cast to float32 inside the graph.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { GraphBuilder } from '../onnx/builder';
import { DataType } from '../onnx/proto';
import { SafetensorsFile, StTensor, readSafetensorsHeader } from '../weights/safetensors';

const ONNX_TYPE: Record<string, DataType> = { F32: DataType.FLOAT, F16: DataType.FLOAT16, BF16: DataType.BFLOAT16 };

export class WeightError extends Error {}

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

  dtypes(): Set<string> {
    return new Set([...this.where.values()].map((e) => e.t.dtype));
  }

  private entry(name: string) {
    const e = this.where.get(name);
    if (!e) throw new WeightError(`${this.dir}: tensor '${name}' is missing from the checkpoint`);
    return e;
  }

  /** Emits (once) the initializer for `name`, checks its shape, and returns a float32 value name. */
  value(g: GraphBuilder, name: string, expected: number[]): string {
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
    const init = g.initializer({
      name: `w:${name}`,
      dims: t.shape,
      dataType: type,
      external: { location, offset: t.offset, length: t.length },
    });
    const out = type === DataType.FLOAT ? init : g.op('Cast', [init], { to: DataType.FLOAT });
    if (!this.emitted.has(g)) this.emitted.set(g, new Map());
    this.emitted.get(g)!.set(name, out);
    return out;
  }

  private emitted = new WeakMap<GraphBuilder, Map<string, string>>();
}
