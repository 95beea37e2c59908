/**
 * Philox4x32-10 and Box–Muller in WebAssembly, emitted at load time by wasm-asm.ts: the draws of
 * rng.ts at ~5× the rate of the same arithmetic in JavaScript, with the same numbers.
 *
 * Same numbers: Philox is integer arithmetic (exact in both). Box–Muller computes, per 4 words,
 * r = √(−2·log u₁), r·cos(2π·u₂), r·sin(2π·u₂) (and the same for u₃, u₄) in float64 and stores them
 * as float32. The fast path evaluates log, cos and sin by fdlibm's polynomials in the module, which
 * agree with Math.log/cos/sin to a few ulps of float64 but not always bit for bit. A float64 value
 * only matters through its float32 rounding, so each of the four values is checked: when every
 * number within a relative `tol` of it (2⁻⁴⁰, far above both computations' error of < 2⁻⁴⁸) rounds
 * to the same float32, that float32 is the one the JavaScript formula gives; otherwise (about 1 block
 * in 10⁴) the block is recomputed with the engine's own Math.log/cos/sin, imported, in the
 * JavaScript formula's order of operations.
 */
import { Fn, OP, encodeModule } from './wasm-asm';

const M0 = 0xd2511f53;
const M1 = 0xcd9e8d57;
const W0 = 0x9e3779b9;
const W1 = 0xbb67ae85;
const TWO_PI = 2 * Math.PI;
/** relative width of the float32 rounding check (see the header) */
export const ROUNDING_TOL = 2 ** -40;
/** float32 values of the scratch area (the module's memory holds exactly this plus 4 spare) */
export const SCRATCH = (1 << 20) - 4;
const PAGES = 64; // 4 MiB

const IMPORT = { log: 0, cos: 1, sin: 2 } as const;

// fdlibm (e_log.c, k_sin.c, k_cos.c, e_rem_pio2.c)
const LG = [
  6.66666666666673513e-1, 3.999999999940941908e-1, 2.857142874366239149e-1, 2.222219843214978396e-1,
  1.818357216161805012e-1, 1.531383769920937332e-1, 1.479819860511658591e-1,
];
const LN2_HI = 6.9314718036912381649e-1;
const LN2_LO = 1.90821492927058770002e-10;
const S = [
  -1.66666666666666324348e-1, 8.33333333332248946124e-3, -1.98412698298579493134e-4, 2.75573137070700676789e-6,
  -2.50507602534068634195e-8, 1.58969099521155010221e-10,
];
const C = [
  4.16666666666666019037e-2, -1.38888888888741095749e-3, 2.48015872894767294178e-5, -2.75573143513906633035e-7,
  2.0875723212981748279e-9, -1.13596475577881948265e-11,
];
const INV_PIO2 = 6.36619772367581382433e-1;
const PIO2_1 = 1.57079632673412561417; // first 33 bits of π/2: k·PIO2_1 is exact for small k
const PIO2_1T = 6.07710050650619224932e-11; // π/2 − PIO2_1

/** c[0] + z·(c[1] + z·(… + z·c[n−1])) on the stack. */
function horner(f: Fn, z: string, c: number[]): void {
  f.f64(c[c.length - 1]);
  for (let i = c.length - 2; i >= 0; i--) f.get(z).op(OP.f64mul).f64(c[i]).op(OP.f64add);
}

/** out = log(x) for a positive normal x (fdlibm's __ieee754_log, one formula for every exponent). */
function emitLog(f: Fn, x: string, out: string): void {
  f.get(x).op(OP.i64reinterpretF64).set('lb');
  f.get('lb').i64(32n).op(OP.i64shrU).op(OP.i32wrapI64).set('lhx');
  f.get('lhx').i32(20).op(OP.i32shrS).i32(1023).op(OP.i32sub).set('lk');
  f.get('lhx').i32(0xfffff).op(OP.i32and).set('lhx');
  f.get('lhx').i32(0x95f64).op(OP.i32add).i32(0x100000).op(OP.i32and).set('li');
  // x scaled into [√2/2, √2), minus 1
  f.get('lhx').get('li').i32(0x3ff00000).op(OP.i32xor).op(OP.i32or).op(OP.i64extendI32U).i64(32n).op(OP.i64shl);
  f.get('lb').i64(0xffffffffn).op(OP.i64and).op(OP.i64or).op(OP.f64reinterpretI64).f64(1).op(OP.f64sub).set('lf');
  f.get('lk').get('li').i32(20).op(OP.i32shrU).op(OP.i32add).op(OP.f64convertI32S).set('ldk');
  f.get('lf').f64(2).get('lf').op(OP.f64add).op(OP.f64div).set('ls');
  f.get('ls').get('ls').op(OP.f64mul).set('lz');
  f.get('lz').get('lz').op(OP.f64mul).set('lw');
  // R = z·(Lg1 + w·(Lg3 + w·(Lg5 + w·Lg7))) + w·(Lg2 + w·(Lg4 + w·Lg6))
  f.get('lz');
  horner(f, 'lw', [LG[0], LG[2], LG[4], LG[6]]);
  f.op(OP.f64mul).get('lw');
  horner(f, 'lw', [LG[1], LG[3], LG[5]]);
  f.op(OP.f64mul).op(OP.f64add).set('lr');
  f.f64(0.5).get('lf').op(OP.f64mul).get('lf').op(OP.f64mul).set('lh');
  // dk·ln2_hi − ((hfsq − (s·(hfsq + R) + dk·ln2_lo)) − f)
  f.get('ldk').f64(LN2_HI).op(OP.f64mul);
  f.get('lh').get('ls').get('lh').get('lr').op(OP.f64add).op(OP.f64mul);
  f.get('ldk').f64(LN2_LO).op(OP.f64mul).op(OP.f64add).op(OP.f64sub);
  f.get('lf').op(OP.f64sub).op(OP.f64sub).set(out);
}

/** cs, sn = cos(a), sin(a) for a in [0, 2π]: reduction by k·π/2 in two parts, fdlibm's kernels. */
function emitSinCos(f: Fn, a: string, cs: string, sn: string): void {
  f.get(a).f64(INV_PIO2).op(OP.f64mul).op(OP.f64nearest).tee('skf').op(OP.i32truncF64S).set('sq');
  f.get(a).get('skf').f64(PIO2_1).op(OP.f64mul).op(OP.f64sub);
  f.get('skf').f64(PIO2_1T).op(OP.f64mul).op(OP.f64sub).set('sr');
  f.get('sr').get('sr').op(OP.f64mul).set('sz');
  // sin r = r + r·z·(S1 + z·(…)); cos r = (1 − z/2) + z²·(C1 + z·(…))
  f.get('sr').get('sr').get('sz').op(OP.f64mul);
  horner(f, 'sz', S);
  f.op(OP.f64mul).op(OP.f64add).set('ss');
  f.f64(1).f64(0.5).get('sz').op(OP.f64mul).op(OP.f64sub).get('sz').get('sz').op(OP.f64mul);
  horner(f, 'sz', C);
  f.op(OP.f64mul).op(OP.f64add).set('sc');
  // quadrant k mod 4: sin = S, C, −S, −C; cos = C, −S, −C, S
  f.get('sc').get('ss').get('sq').i32(1).op(OP.i32and).op(OP.select).set(sn);
  f.get('ss').get('sc').get('sq').i32(1).op(OP.i32and).op(OP.select).set(cs);
  f.get(sn).op(OP.f64neg).get(sn).get('sq').i32(2).op(OP.i32and).op(OP.select).set(sn);
  f.get(cs).op(OP.f64neg).get(cs).get('sq').i32(1).op(OP.i32add).i32(2).op(OP.i32and).op(OP.select).set(cs);
}

/** x0..x3 = Philox4x32-10 of counter (x0..x3) under key (key0, key1). */
function emitPhilox(f: Fn): void {
  for (let r = 0; r < 10; r++) {
    f.get('x0').op(OP.i64extendI32U).i64(BigInt(M0)).op(OP.i64mul).set('p');
    f.get('p').i64(32n).op(OP.i64shrU).op(OP.i32wrapI64).set('h0');
    f.get('p').op(OP.i32wrapI64).set('l0');
    f.get('x2').op(OP.i64extendI32U).i64(BigInt(M1)).op(OP.i64mul).set('p');
    f.get('p').i64(32n).op(OP.i64shrU).op(OP.i32wrapI64).set('h1');
    f.get('p').op(OP.i32wrapI64).set('x2');
    f.get('h1').get('x1').op(OP.i32xor).get('key0').op(OP.i32xor).set('x0');
    f.get('x2').set('x1');
    f.get('h0').get('x3').op(OP.i32xor).get('key1').op(OP.i32xor).set('x2');
    f.get('l0').set('x3');
    f.get('key0').i32(W0).op(OP.i32add).set('key0');
    f.get('key1').i32(W1).op(OP.i32add).set('key1');
  }
}

const PHILOX_LOCALS = ['x0', 'x1', 'x2', 'x3', 'key0', 'key1', 'h0', 'h1', 'l0'];
const KEY: [string, 'i32'][] = [
  ['k0', 'i32'],
  ['k1', 'i32'],
  ['c1', 'i32'],
  ['c2', 'i32'],
  ['c3', 'i32'],
];

function startCounter(f: Fn, c0: () => void): void {
  c0();
  f.set('x0').get('c1').set('x1').get('c2').set('x2').get('c3').set('x3').get('k0').set('key0').get('k1').set('key1');
}

/** philox(k0, k1, c0, c1, c2, c3): the 4 words at memory[0..16). */
function philoxFn(): Fn {
  const f = new Fn([KEY[0], KEY[1], ['c0', 'i32'], KEY[2], KEY[3], KEY[4]], [])
    .locals('i32', ...PHILOX_LOCALS)
    .locals('i64', 'p');
  startCounter(f, () => f.get('c0'));
  emitPhilox(f);
  ['x0', 'x1', 'x2', 'x3'].forEach((x, i) =>
    f
      .i32(4 * i)
      .get(x)
      .i32store(),
  );
  return f;
}

/** signs(k0, k1, c1, c2, c3, t0, T): ±1 (float32) for positions t0..t0+T at memory[0..4T). */
function signsFn(): Fn {
  const f = new Fn([...KEY, ['t0', 'i32'], ['T', 'i32']], []).locals('i32', ...PHILOX_LOCALS, 't').locals('i64', 'p');
  f.i32(0).set('t');
  f.block().loop();
  f.get('t').get('T').op(OP.i32ltU, OP.i32eqz).brIf(1);
  startCounter(f, () => f.get('t0').get('t').op(OP.i32add).i32(4096).op(OP.i32mul));
  emitPhilox(f);
  f.get('t').i32(4).op(OP.i32mul);
  f.f64(1).f64(-1).get('x0').i32(31).op(OP.i32shrU).op(OP.select, OP.f32demoteF64).f32store();
  f.get('t').i32(1).op(OP.i32add).set('t').br(0);
  f.op(OP.end, OP.end);
  return f;
}

/**
 * normals(k0, k1, c1, c2, c3, t0, T, D, tol) → blocks recomputed exactly: standard normals for
 * positions t0..t0+T × dims 0..D at memory[0..4TD) row-major (up to 3 values past the end are
 * scratch). tol = 0 turns the check off (tests), tol ≥ 1 recomputes every block.
 */
function normalsFn(): Fn {
  const f = new Fn([...KEY, ['t0', 'i32'], ['T', 'i32'], ['D', 'i32'], ['tol', 'f64']], ['i32'])
    .locals('i32', ...PHILOX_LOCALS, 't', 'j', 'ptr', 'fb', 'lhx', 'lk', 'li', 'sq')
    .locals('i64', 'p', 'lb')
    .locals('f64', 'u1', 'u2', 'u3', 'u4', 'v0', 'v1', 'v2', 'v3', 'r', 'a', 'cs', 'sn', 'L', 'tlo', 'thi')
    .locals('f64', 'lf', 'ldk', 'ls', 'lz', 'lw', 'lr', 'lh', 'skf', 'sr', 'sz', 'ss', 'sc');
  const u = ['u1', 'u2', 'u3', 'u4'];
  const v = ['v0', 'v1', 'v2', 'v3'];
  f.f64(1).get('tol').op(OP.f64sub).set('tlo');
  f.f64(1).get('tol').op(OP.f64add).set('thi');
  f.i32(0).set('t').i32(0).set('ptr').i32(0).set('fb');
  f.block().loop(); // rows
  f.get('t').get('T').op(OP.i32ltU, OP.i32eqz).brIf(1);
  f.i32(0).set('j');
  f.block().loop(); // blocks of 4 dims
  f.get('j').get('D').op(OP.i32ltU, OP.i32eqz).brIf(1);
  startCounter(f, () =>
    f.get('t0').get('t').op(OP.i32add).i32(4096).op(OP.i32mul).get('j').i32(2).op(OP.i32shrU).op(OP.i32add),
  );
  emitPhilox(f);
  ['x0', 'x1', 'x2', 'x3'].forEach((x, i) =>
    f.get(x).op(OP.f64convertI32U).f64(0.5).op(OP.f64add).f64(4294967296).op(OP.f64div).set(u[i]),
  );
  // the fast path, then the float32 check of all four values
  for (const pair of [0, 1]) {
    emitLog(f, u[2 * pair], 'L');
    f.f64(-2).get('L').op(OP.f64mul, OP.f64sqrt).set('r');
    f.f64(TWO_PI)
      .get(u[2 * pair + 1])
      .op(OP.f64mul)
      .set('a');
    emitSinCos(f, 'a', 'cs', 'sn');
    f.get('r')
      .get('cs')
      .op(OP.f64mul)
      .set(v[2 * pair]);
    f.get('r')
      .get('sn')
      .op(OP.f64mul)
      .set(v[2 * pair + 1]);
  }
  v.forEach((x, i) => {
    f.get(x).get('tlo').op(OP.f64mul, OP.f32demoteF64).get(x).get('thi').op(OP.f64mul, OP.f32demoteF64, OP.f32eq);
    if (i) f.op(OP.i32and);
  });
  f.op(OP.i32eqz).if();
  for (const pair of [0, 1]) {
    f.f64(-2)
      .get(u[2 * pair])
      .call(IMPORT.log)
      .op(OP.f64mul, OP.f64sqrt)
      .set('r');
    f.f64(TWO_PI)
      .get(u[2 * pair + 1])
      .op(OP.f64mul)
      .set('a');
    f.get('r')
      .get('a')
      .call(IMPORT.cos)
      .op(OP.f64mul)
      .set(v[2 * pair]);
    f.get('r')
      .get('a')
      .call(IMPORT.sin)
      .op(OP.f64mul)
      .set(v[2 * pair + 1]);
  }
  f.get('fb').i32(1).op(OP.i32add).set('fb');
  f.op(OP.end);
  v.forEach((x, i) =>
    f
      .get('ptr')
      .i32(4 * i)
      .op(OP.i32add)
      .get(x)
      .op(OP.f32demoteF64)
      .f32store(),
  );
  // advance by the block's real values: min(4, D − j)
  f.get('ptr').get('D').get('j').op(OP.i32sub).i32(4).op(OP.i32mul).i32(16);
  f.get('D').get('j').op(OP.i32sub).i32(4).op(OP.i32ltU).op(OP.select, OP.i32add).set('ptr');
  f.get('j').i32(4).op(OP.i32add).set('j').br(0);
  f.op(OP.end, OP.end);
  f.get('t').i32(1).op(OP.i32add).set('t').br(0);
  f.op(OP.end, OP.end);
  f.get('fb');
  return f;
}

export interface PhiloxWasm {
  philox(k0: number, k1: number, c0: number, c1: number, c2: number, c3: number): void;
  signs(k0: number, k1: number, c1: number, c2: number, c3: number, t0: number, T: number): void;
  normals(
    k0: number,
    k1: number,
    c1: number,
    c2: number,
    c3: number,
    t0: number,
    T: number,
    D: number,
    tol: number,
  ): number;
  /** the module's memory as float32 and uint32 (the outputs start at 0) */
  f32: Float32Array;
  u32: Uint32Array;
}

function instantiate(): PhiloxWasm {
  const f64 = ['f64'] as const;
  const imports = (['log', 'cos', 'sin'] as const).map((name) => ({
    module: 'math',
    name,
    params: [...f64],
    results: [...f64],
  }));
  const bytes = encodeModule(
    imports,
    [
      { name: 'philox', fn: philoxFn() },
      { name: 'signs', fn: signsFn() },
      { name: 'normals', fn: normalsFn() },
    ],
    PAGES,
  );
  const inst = new WebAssembly.Instance(new WebAssembly.Module(bytes), {
    math: { log: Math.log, cos: Math.cos, sin: Math.sin },
  });
  const ex = inst.exports as unknown as Omit<PhiloxWasm, 'f32' | 'u32'> & { memory: WebAssembly.Memory };
  return {
    philox: ex.philox,
    signs: ex.signs,
    normals: ex.normals,
    f32: new Float32Array(ex.memory.buffer),
    u32: new Uint32Array(ex.memory.buffer),
  };
}

let instance: PhiloxWasm | null = null;

/** The module, compiled on first use (a few kB, synchronous). */
export function philoxWasm(): PhiloxWasm {
  return (instance ??= instantiate());
}
