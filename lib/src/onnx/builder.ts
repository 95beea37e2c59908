/**
 * GraphBuilder: emits ONNX nodes with fresh value names. Architecture code reads like a forward
 * pass: `const y = g.op('MatMul', [x, w])`.
 */
import { AttrValue, DataType, GraphProto, ModelProto, NodeProto, TensorProto, ValueInfo, encodeModel } from './proto';

export const OPSET = 17;

/** Attribute shorthand: integers → INT, other numbers → FLOAT, number[] → INTS; use f()/fs() to force floats. */
export type Attr = number | number[] | string | AttrValue;
export const f = (v: number): AttrValue => ({ type: 'float', v });
export const fs = (v: number[]): AttrValue => ({ type: 'floats', v });

function toAttr(a: Attr): AttrValue {
  if (typeof a === 'string') return { type: 'string', v: a };
  if (typeof a === 'number') return Number.isInteger(a) ? { type: 'int', v: a } : { type: 'float', v: a };
  if (Array.isArray(a)) return { type: 'ints', v: a };
  return a;
}

export class GraphBuilder {
  readonly nodes: NodeProto[] = [];
  readonly initializers: TensorProto[] = [];
  readonly inputs: ValueInfo[] = [];
  readonly outputs: ValueInfo[] = [];
  readonly valueInfo: ValueInfo[] = [];
  private counter = 0;
  private consts = new Map<string, string>();
  /** prefix for node and value names, e.g. "blocks.3.attn" while building that module */
  scope = '';

  fresh(hint: string): string {
    return `${this.scope ? this.scope + '/' : ''}${hint}_${this.counter++}`;
  }

  /** Adds a node with one output and returns the output's name. */
  op(opType: string, inputs: string[], attrs: Record<string, Attr> = {}, domain?: string): string {
    return this.opN(opType, inputs, 1, attrs, domain)[0];
  }

  /** Adds a node with n outputs. */
  opN(opType: string, inputs: string[], n: number, attrs: Record<string, Attr> = {}, domain?: string): string[] {
    const outputs = Array.from({ length: n }, () => this.fresh(opType));
    const conv: Record<string, AttrValue> = {};
    for (const [k, v] of Object.entries(attrs)) conv[k] = toAttr(v);
    this.nodes.push({ opType, inputs, outputs, name: this.fresh(`n_${opType}`), attrs: conv, domain });
    return outputs;
  }

  input(name: string, elemType: DataType, dims: (number | string)[]): string {
    this.inputs.push({ name, elemType, dims });
    return name;
  }

  /** Exposes `value` as graph output `name` (through an Identity so names stay stable). */
  output(name: string, value: string, elemType: DataType = DataType.FLOAT): void {
    this.nodes.push({ opType: 'Identity', inputs: [value], outputs: [name], name: this.fresh('n_out'), attrs: {} });
    this.outputs.push({ name, elemType });
  }

  /**
   * Reshape `x` to the run-time shape `shape` (an int64 tensor), declaring the result's `dims`
   * (numbers fixed, strings symbolic): ONNX shape inference cannot see through a run-time shape, and
   * ONNX Runtime's memory planner reuses a freed buffer only for a value of known shape, so a long
   * stretch of unknown shapes makes session creation quadratic in its length.
   */
  reshape(x: string, shape: string, dims: (number | string)[]): string {
    const out = this.op('Reshape', [x, shape]);
    this.valueInfo.push({ name: out, elemType: DataType.FLOAT, dims });
    return out;
  }

  initializer(t: TensorProto): string {
    this.initializers.push(t);
    return t.name;
  }

  /** A float32 constant (deduplicated by value). */
  constF(values: number[] | Float32Array, dims: number[] = []): string {
    const data = values instanceof Float32Array ? values : Float32Array.from(values);
    return this.constRaw(DataType.FLOAT, dims, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  }

  /** An int64 constant (deduplicated by value). */
  constI(values: number[], dims: number[] = [values.length]): string {
    const data = BigInt64Array.from(values.map((v) => BigInt(v)));
    return this.constRaw(DataType.INT64, dims, new Uint8Array(data.buffer));
  }

  private constRaw(dataType: DataType, dims: number[], raw: Uint8Array): string {
    const key = `${dataType}|${dims.join(',')}|${Buffer.from(raw).toString('base64')}`;
    const hit = this.consts.get(key);
    if (hit) return hit;
    const name = `const_${this.counter++}`;
    this.initializers.push({ name, dims, dataType, raw: Uint8Array.from(raw) });
    this.consts.set(key, name);
    return name;
  }

  /**
   * The model with only what the outputs depend on: nodes, inputs and initializers that no output
   * reaches are dropped (a patch at blocks.k.hook_resid_pre makes blocks 0..k-1 dead, say).
   */
  toModel(name: string): ModelProto {
    const live = new Set(this.outputs.map((o) => o.name));
    const nodes: NodeProto[] = [];
    // nodes are in topological order (each was added after its inputs), so one backward sweep suffices
    for (let i = this.nodes.length - 1; i >= 0; i--) {
      const n = this.nodes[i];
      if (!n.outputs.some((o) => live.has(o))) continue;
      nodes.push(n);
      for (const x of n.inputs) if (x) live.add(x);
    }
    const graph: GraphProto = {
      name,
      nodes: nodes.reverse(),
      initializers: this.initializers.filter((t) => live.has(t.name)),
      inputs: this.inputs.filter((v) => live.has(v.name)),
      outputs: this.outputs,
      valueInfo: this.valueInfo.filter((v) => live.has(v.name)),
    };
    return { irVersion: 8, opsets: [{ domain: '', version: OPSET }], producer: 'dirmag', graph };
  }

  encode(name: string): Uint8Array {
    return encodeModel(this.toModel(name));
  }
}
