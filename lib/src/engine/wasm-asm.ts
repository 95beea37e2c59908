/**
 * A tiny WebAssembly assembler: the opcodes philox-wasm.ts uses (core and 128-bit SIMD), function
 * bodies with named locals,
 * and the module sections (types, imports, functions, memory, exports, code). No toolchain: the
 * module is emitted as bytes when the library loads.
 */

export type ValType = 'i32' | 'i64' | 'f64' | 'v128';
const TYPE: Record<ValType, number> = { i32: 0x7f, i64: 0x7e, f64: 0x7c, v128: 0x7b };

/** Unsigned LEB128. */
function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n = Math.floor(n / 128);
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return out;
}

/** Signed LEB128 of a bigint (i32/i64 constants). */
function sleb(v: bigint): number[] {
  const out: number[] = [];
  for (;;) {
    const b = Number(v & 0x7fn);
    v >>= 7n;
    if ((v === 0n && !(b & 0x40)) || (v === -1n && b & 0x40)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}

const bytesOf = (s: string) => [...new TextEncoder().encode(s)];
const vec = (items: number[][]) => [...uleb(items.length), ...items.flat()];
const named = (s: string) => [...uleb(bytesOf(s).length), ...bytesOf(s)];

/** Instruction opcodes (single byte, no immediates). */
export const OP = {
  select: 0x1b,
  end: 0x0b,
  else: 0x05,
  i32eqz: 0x45,
  i32eq: 0x46,
  i32ne: 0x47,
  i32ltU: 0x49,
  f32eq: 0x5b,
  i32add: 0x6a,
  i32sub: 0x6b,
  i32mul: 0x6c,
  i32and: 0x71,
  i32or: 0x72,
  i32xor: 0x73,
  i32shl: 0x74,
  i32shrS: 0x75,
  i32shrU: 0x76,
  i64mul: 0x7e,
  i64and: 0x83,
  i64or: 0x84,
  i64shl: 0x86,
  i64shrU: 0x88,
  f64neg: 0x9a,
  f64nearest: 0x9e,
  f64sqrt: 0x9f,
  f64add: 0xa0,
  f64sub: 0xa1,
  f64mul: 0xa2,
  f64div: 0xa3,
  i32wrapI64: 0xa7,
  i32truncF64S: 0xaa,
  i64extendI32U: 0xad,
  f32demoteF64: 0xb6,
  f64convertI32S: 0xb7,
  f64convertI32U: 0xb8,
  i64reinterpretF64: 0xbd,
  f64reinterpretI64: 0xbf,
} as const;

/** 128-bit SIMD opcodes (after the 0xfd prefix). */
export const V = {
  i32x4splat: 0x11,
  i64x2splat: 0x12,
  f64x2splat: 0x14,
  i32x4extractLane: 0x1b,
  f32x4eq: 0x41,
  f64x2eq: 0x47,
  v128and: 0x4e,
  v128or: 0x50,
  v128xor: 0x51,
  v128bitselect: 0x52,
  f32x4demoteF64x2Zero: 0x5e,
  f64x2floor: 0x75,
  f64x2nearest: 0x94,
  i32x4allTrue: 0xa3,
  i32x4add: 0xae,
  i64x2shl: 0xcb,
  i64x2shrU: 0xcd,
  i64x2add: 0xce,
  i64x2sub: 0xd1,
  i64x2extmulLowI32x4U: 0xde,
  i64x2extmulHighI32x4U: 0xdf,
  f64x2neg: 0xed,
  f64x2sqrt: 0xef,
  f64x2add: 0xf0,
  f64x2sub: 0xf1,
  f64x2mul: 0xf2,
  f64x2div: 0xf3,
  f64x2convertLowI32x4S: 0xfe,
  f64x2convertLowI32x4U: 0xff,
} as const;

/** A function body under construction: named locals (parameters first) and its code. */
export class Fn {
  readonly code: number[] = [];
  private readonly index = new Map<string, number>();
  private readonly extra: ValType[] = [];

  constructor(
    readonly params: [string, ValType][],
    readonly results: ValType[],
  ) {
    params.forEach(([n], i) => this.index.set(n, i));
  }

  /** Declares locals (each name once). */
  locals(type: ValType, ...names: string[]): this {
    for (const n of names) {
      if (this.index.has(n)) throw new Error(`wasm-asm: local '${n}' declared twice`);
      this.index.set(n, this.params.length + this.extra.length);
      this.extra.push(type);
    }
    return this;
  }

  private at(n: string): number {
    const i = this.index.get(n);
    if (i === undefined) throw new Error(`wasm-asm: unknown local '${n}'`);
    return i;
  }

  /** Raw opcodes. */
  op(...ops: number[]): this {
    this.code.push(...ops);
    return this;
  }
  get(n: string): this {
    return this.op(0x20, ...uleb(this.at(n)));
  }
  set(n: string): this {
    return this.op(0x21, ...uleb(this.at(n)));
  }
  tee(n: string): this {
    return this.op(0x22, ...uleb(this.at(n)));
  }
  i32(v: number): this {
    return this.op(0x41, ...sleb(BigInt(v | 0)));
  }
  i64(v: bigint): this {
    return this.op(0x42, ...sleb(BigInt.asIntN(64, v)));
  }
  f64(v: number): this {
    return this.op(0x44, ...new Uint8Array(Float64Array.of(v).buffer));
  }
  call(fn: number): this {
    return this.op(0x10, ...uleb(fn));
  }
  /** f32.store / i32.store at the address on the stack (natural alignment, offset 0). */
  f32store(): this {
    return this.op(0x38, 2, 0);
  }
  i32store(): this {
    return this.op(0x36, 2, 0);
  }
  /** SIMD instructions without immediates. */
  v(...ops: number[]): this {
    for (const o of ops) this.op(0xfd, ...uleb(o));
    return this;
  }
  /** v128.const of 4 int32 lanes. */
  v128i32(lanes: [number, number, number, number]): this {
    return this.op(0xfd, 0x0c, ...new Uint8Array(Int32Array.from(lanes).buffer));
  }
  /** f64x2.splat of a constant. */
  f64x2(v: number): this {
    return this.f64(v).v(V.f64x2splat);
  }
  /** i8x16.shuffle of the two vectors on the stack by 32-bit lane (0–3 first, 4–7 second). */
  shuffle32(lanes: [number, number, number, number]): this {
    return this.op(0xfd, 0x0d, ...lanes.flatMap((l) => [4 * l, 4 * l + 1, 4 * l + 2, 4 * l + 3]));
  }
  extractLane(op: number, lane: number): this {
    return this.op(0xfd, ...uleb(op), lane);
  }
  /** v128.store at the address on the stack (offset in bytes). */
  v128store(offset = 0): this {
    return this.op(0xfd, 0x0b, 4, ...uleb(offset));
  }

  /** block / loop / if without results; br / br_if by depth. */
  block(): this {
    return this.op(0x02, 0x40);
  }
  loop(): this {
    return this.op(0x03, 0x40);
  }
  if(): this {
    return this.op(0x04, 0x40);
  }
  br(depth: number): this {
    return this.op(0x0c, ...uleb(depth));
  }
  brIf(depth: number): this {
    return this.op(0x0d, ...uleb(depth));
  }

  body(): number[] {
    const groups: [number, ValType][] = [];
    for (const t of this.extra) {
      const last = groups[groups.length - 1];
      if (last && last[1] === t) last[0]++;
      else groups.push([1, t]);
    }
    const b = [...vec(groups.map(([n, t]) => [...uleb(n), TYPE[t]])), ...this.code, OP.end];
    return [...uleb(b.length), ...b];
  }
}

export interface WasmImport {
  module: string;
  name: string;
  params: ValType[];
  results: ValType[];
}

/** A module of imported functions (indices 0..) then defined functions, one exported memory. */
export function encodeModule(
  imports: WasmImport[],
  fns: { name: string; fn: Fn }[],
  memoryPages: number,
): Uint8Array<ArrayBuffer> {
  const sig = (p: ValType[], r: ValType[]) => [0x60, ...vec(p.map((t) => [TYPE[t]])), ...vec(r.map((t) => [TYPE[t]]))];
  const types = [
    ...imports.map((i) => sig(i.params, i.results)),
    ...fns.map(({ fn }) =>
      sig(
        fn.params.map(([, t]) => t),
        fn.results,
      ),
    ),
  ];
  const section = (id: number, content: number[]) => [id, ...uleb(content.length), ...content];
  const bytes = [
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...section(1, vec(types)),
    ...section(2, vec(imports.map((im, i) => [...named(im.module), ...named(im.name), 0x00, ...uleb(i)]))),
    ...section(3, vec(fns.map((_, i) => uleb(imports.length + i)))),
    ...section(5, vec([[0x00, ...uleb(memoryPages)]])),
    ...section(
      7,
      vec([
        [...named('memory'), 0x02, 0x00],
        ...fns.map(({ name }, i) => [...named(name), 0x00, ...uleb(imports.length + i)]),
      ]),
    ),
    ...section(10, vec(fns.map(({ fn }) => fn.body()))),
  ];
  return new Uint8Array(bytes);
}
