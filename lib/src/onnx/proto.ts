/**
 * A minimal protobuf writer for the subset of onnx.proto the engine emits (ModelProto, GraphProto,
 * NodeProto, TensorProto with raw or external data, ValueInfoProto, AttributeProto).
 * Field numbers follow onnx/onnx.proto3.
 */

export enum DataType {
  FLOAT = 1,
  UINT8 = 2,
  INT8 = 3,
  INT32 = 6,
  INT64 = 7,
  BOOL = 9,
  FLOAT16 = 10,
  DOUBLE = 11,
  BFLOAT16 = 16,
}

export interface TensorProto {
  name: string;
  dims: number[];
  dataType: DataType;
  raw?: Uint8Array;
  /** external data: file relative to the model's folder, byte offset and length */
  external?: { location: string; offset: number; length: number };
}

export type AttrValue =
  | { type: 'int'; v: number }
  | { type: 'float'; v: number }
  | { type: 'ints'; v: number[] }
  | { type: 'floats'; v: number[] }
  | { type: 'string'; v: string }
  | { type: 'tensor'; v: TensorProto };

export interface NodeProto {
  opType: string;
  inputs: string[];
  outputs: string[];
  name: string;
  domain?: string;
  attrs: Record<string, AttrValue>;
}

export interface ValueInfo {
  name: string;
  elemType: DataType;
  /** numbers are fixed sizes, strings are symbolic dims; undefined = unknown rank */
  dims?: (number | string)[];
}

export interface GraphProto {
  name: string;
  nodes: NodeProto[];
  initializers: TensorProto[];
  inputs: ValueInfo[];
  outputs: ValueInfo[];
  /** shapes of intermediate values that shape inference cannot derive (ONNX value_info) */
  valueInfo?: ValueInfo[];
}

export interface ModelProto {
  irVersion: number;
  opsets: { domain: string; version: number }[];
  producer: string;
  graph: GraphProto;
}

class Writer {
  private chunks: Uint8Array[] = [];
  private size = 0;

  private push(b: Uint8Array): void {
    this.chunks.push(b);
    this.size += b.length;
  }

  varint(value: number | bigint): void {
    let v = BigInt.asUintN(64, BigInt(value));
    const out: number[] = [];
    while (v >= 0x80n) {
      out.push(Number(v & 0x7fn) | 0x80);
      v >>= 7n;
    }
    out.push(Number(v));
    this.push(Uint8Array.from(out));
  }

  tag(field: number, wire: number): void {
    this.varint((field << 3) | wire);
  }

  int(field: number, v: number): void {
    this.tag(field, 0);
    this.varint(v);
  }

  float(field: number, v: number): void {
    this.tag(field, 5);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, v, true);
    this.push(b);
  }

  bytes(field: number, b: Uint8Array): void {
    this.tag(field, 2);
    this.varint(b.length);
    this.push(b);
  }

  string(field: number, s: string): void {
    this.bytes(field, Buffer.from(s, 'utf8'));
  }

  message(field: number, build: (w: Writer) => void): void {
    const w = new Writer();
    build(w);
    this.bytes(field, w.finish());
  }

  packedInts(field: number, vs: number[]): void {
    const w = new Writer();
    for (const v of vs) w.varint(v);
    this.bytes(field, w.finish());
  }

  packedFloats(field: number, vs: number[]): void {
    const b = new Uint8Array(4 * vs.length);
    const dv = new DataView(b.buffer);
    vs.forEach((v, i) => dv.setFloat32(4 * i, v, true));
    this.bytes(field, b);
  }

  finish(): Uint8Array {
    return Buffer.concat(this.chunks, this.size);
  }
}

function writeTensor(w: Writer, t: TensorProto): void {
  if (t.dims.length) w.packedInts(1, t.dims);
  w.int(2, t.dataType);
  w.string(8, t.name);
  if (t.raw) w.bytes(9, t.raw);
  if (t.external) {
    const entries: [string, string][] = [
      ['location', t.external.location],
      ['offset', String(t.external.offset)],
      ['length', String(t.external.length)],
    ];
    for (const [k, v] of entries) w.message(13, (e) => (e.string(1, k), e.string(2, v)));
    w.int(14, 1);
  }
}

function writeAttr(w: Writer, name: string, a: AttrValue): void {
  w.string(1, name);
  switch (a.type) {
    case 'float':
      w.float(2, a.v);
      w.int(20, 1);
      break;
    case 'int':
      w.int(3, a.v);
      w.int(20, 2);
      break;
    case 'string':
      w.string(4, a.v);
      w.int(20, 3);
      break;
    case 'tensor':
      w.message(5, (t) => writeTensor(t, a.v));
      w.int(20, 4);
      break;
    case 'floats':
      w.packedFloats(7, a.v);
      w.int(20, 6);
      break;
    case 'ints':
      w.packedInts(8, a.v);
      w.int(20, 7);
      break;
  }
}

function writeValueInfo(w: Writer, v: ValueInfo): void {
  w.string(1, v.name);
  w.message(2, (type) =>
    type.message(1, (tt) => {
      tt.int(1, v.elemType);
      if (v.dims)
        tt.message(2, (shape) => {
          for (const d of v.dims!)
            shape.message(1, (dim) => (typeof d === 'number' ? dim.int(1, d) : dim.string(2, d)));
        });
    }),
  );
}

function writeNode(w: Writer, n: NodeProto): void {
  for (const i of n.inputs) w.string(1, i);
  for (const o of n.outputs) w.string(2, o);
  w.string(3, n.name);
  w.string(4, n.opType);
  for (const [k, a] of Object.entries(n.attrs)) w.message(5, (aw) => writeAttr(aw, k, a));
  if (n.domain) w.string(7, n.domain);
}

export function encodeModel(m: ModelProto): Uint8Array {
  const w = new Writer();
  w.int(1, m.irVersion);
  w.string(2, m.producer);
  w.message(7, (g) => {
    for (const n of m.graph.nodes) g.message(1, (nw) => writeNode(nw, n));
    g.string(2, m.graph.name);
    for (const t of m.graph.initializers) g.message(5, (tw) => writeTensor(tw, t));
    for (const i of m.graph.inputs) g.message(11, (vw) => writeValueInfo(vw, i));
    for (const o of m.graph.outputs) g.message(12, (vw) => writeValueInfo(vw, o));
    for (const v of m.graph.valueInfo ?? []) g.message(13, (vw) => writeValueInfo(vw, v));
  });
  for (const o of m.opsets) w.message(8, (ow) => (ow.string(1, o.domain), ow.int(2, o.version)));
  return w.finish();
}
