/**
 * Philox4x32-10 and Box–Muller in WebAssembly (128-bit SIMD), emitted at load time by wasm-asm.ts:
 * the draws of rng.ts at ~4–5× the rate of the same arithmetic in JavaScript, with the same numbers.
 * Four Philox blocks (16 dims) at a time: the counters in int32x4 lanes, the 64-bit products of
 * each round by extmul, Box–Muller in float64x2 lanes.
 *
 * Same numbers: Philox is integer arithmetic (exact in both). Box–Muller computes, per 4 words,
 * r = √(−2·log u₁), r·cos(2π·u₂), r·sin(2π·u₂) (and the same for u₃, u₄) in float64 and stores them
 * as float32. The fast path evaluates log, cos and sin by fdlibm's polynomials in the module, which
 * agree with Math.log/cos/sin to a few ulps of float64 but not always bit for bit. A float64 value
 * only matters through its float32 rounding, so each value is checked: when every number within a
 * relative `tol` of it (2⁻⁴⁰, far above both computations' error of < 2⁻⁴⁸) rounds to the same
 * float32, that float32 is the one the JavaScript formula gives; otherwise (about 1 group of 16 in
 * 10⁴) the group is recomputed with the engine's own Math.log/cos/sin, imported, in the JavaScript
 * formula's order of operations.
 */
import { Fn, OP, V, encodeModule } from './wasm-asm';

const M0 = 0xd2511f53;
const M1 = 0xcd9e8d57;
const W0 = 0x9e3779b9;
const W1 = 0xbb67ae85;
const TWO_PI = 2 * Math.PI;
/** relative width of the float32 rounding check (see the header) */
export const ROUNDING_TOL = 2 ** -40;
/** float32 values of the scratch area (the module's memory holds exactly this plus 16 spare) */
export const SCRATCH = (1 << 20) - 16;
const PAGES = 64; // 4 MiB

const IMPORT = { log: 0, cos: 1, sin: 2 } as const;
const EXACT = 5; // function index of exactFn

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

/** c[0] + z·(c[1] + z·(… + z·c[n−1])) on the stack, f64x2. */
function horner(f: Fn, z: string, c: number[]): void {
  f.f64x2(c[c.length - 1]);
  for (let i = c.length - 2; i >= 0; i--) f.get(z).v(V.f64x2mul).f64x2(c[i]).v(V.f64x2add);
}

/** out = log(x) per lane for positive normal x (fdlibm's __ieee754_log, one formula for every exponent). */
function emitLog(f: Fn, x: string, out: string): void {
  const hi = () => f.get(x).i32(32).v(V.i64x2shrU); // high words in the 64-bit lanes
  // k = exponent − 1023; m = high mantissa bits; i = 0x100000 when the mantissa is ≥ √2
  hi().i32(20).v(V.i64x2shrU).i64(1023n).v(V.i64x2splat, V.i64x2sub).set('lk');
  hi().i64(0xfffffn).v(V.i64x2splat, V.v128and).set('lm');
  f.get('lm').i64(0x95f64n).v(V.i64x2splat, V.i64x2add).i64(0x100000n).v(V.i64x2splat, V.v128and).set('li');
  // x scaled into [√2/2, √2), minus 1
  f.get('lm').get('li').i64(0x3ff00000n).v(V.i64x2splat, V.v128xor).v(V.v128or).i32(32).v(V.i64x2shl);
  f.get(x).i64(0xffffffffn).v(V.i64x2splat, V.v128and).v(V.v128or).f64x2(1).v(V.f64x2sub).set('lf');
  // dk = k + i/2^20 as float64 (the low 32 bits of each lane into int32 lanes 0, 1)
  f.get('lk').get('li').i32(20).v(V.i64x2shrU, V.i64x2add).get('lk').shuffle32([0, 2, 0, 2]);
  f.v(V.f64x2convertLowI32x4S).set('ldk');
  f.get('lf').f64x2(2).get('lf').v(V.f64x2add, V.f64x2div).set('ls');
  f.get('ls').get('ls').v(V.f64x2mul).set('lz');
  f.get('lz').get('lz').v(V.f64x2mul).set('lw');
  // R = z·(Lg1 + w·(Lg3 + w·(Lg5 + w·Lg7))) + w·(Lg2 + w·(Lg4 + w·Lg6))
  f.get('lz');
  horner(f, 'lw', [LG[0], LG[2], LG[4], LG[6]]);
  f.v(V.f64x2mul).get('lw');
  horner(f, 'lw', [LG[1], LG[3], LG[5]]);
  f.v(V.f64x2mul, V.f64x2add).set('lr');
  f.f64x2(0.5).get('lf').v(V.f64x2mul).get('lf').v(V.f64x2mul).set('lh');
  // dk·ln2_hi − ((hfsq − (s·(hfsq + R) + dk·ln2_lo)) − f)
  f.get('ldk').f64x2(LN2_HI).v(V.f64x2mul);
  f.get('lh').get('ls').get('lh').get('lr').v(V.f64x2add, V.f64x2mul);
  f.get('ldk').f64x2(LN2_LO).v(V.f64x2mul, V.f64x2add, V.f64x2sub);
  f.get('lf').v(V.f64x2sub, V.f64x2sub).set(out);
}

/** cs, sn = cos(a), sin(a) per lane for a in [0, 2π]: reduction by k·π/2 in two parts, fdlibm's kernels. */
function emitSinCos(f: Fn, a: string, cs: string, sn: string): void {
  f.get(a).f64x2(INV_PIO2).v(V.f64x2mul, V.f64x2nearest).set('skf');
  f.get(a).get('skf').f64x2(PIO2_1).v(V.f64x2mul, V.f64x2sub);
  f.get('skf').f64x2(PIO2_1T).v(V.f64x2mul, V.f64x2sub).set('sr');
  f.get('sr').get('sr').v(V.f64x2mul).set('sz');
  // sin r = r + r·z·(S1 + z·(…)); cos r = (1 − z/2) + z²·(C1 + z·(…))
  f.get('sr').get('sr').get('sz').v(V.f64x2mul);
  horner(f, 'sz', S);
  f.v(V.f64x2mul, V.f64x2add).set('ss');
  f.f64x2(1).f64x2(0.5).get('sz').v(V.f64x2mul, V.f64x2sub).get('sz').get('sz').v(V.f64x2mul);
  horner(f, 'sz', C);
  f.v(V.f64x2mul, V.f64x2add).set('sc');
  // quadrant k mod 4 (k = 0..4): sin = S, C, −S, −C; cos = C, −S, −C, S
  const odd = (v: () => void) => {
    // lanes where the integer v is odd: v − 2·floor(v/2) = 1
    v();
    v();
    f.f64x2(0.5).v(V.f64x2mul, V.f64x2floor).f64x2(2).v(V.f64x2mul, V.f64x2sub).f64x2(1).v(V.f64x2eq);
  };
  const half = (plus: number) => () => f.get('skf').f64x2(plus).v(V.f64x2add).f64x2(0.5).v(V.f64x2mul, V.f64x2floor);
  odd(() => f.get('skf'));
  f.set('sq');
  f.get('sc').get('ss').get('sq').v(V.v128bitselect).set(sn);
  f.get('ss').get('sc').get('sq').v(V.v128bitselect).set(cs);
  odd(half(0));
  f.set('sq');
  f.get(sn).v(V.f64x2neg).get(sn).get('sq').v(V.v128bitselect).set(sn);
  odd(half(1));
  f.set('sq');
  f.get(cs).v(V.f64x2neg).get(cs).get('sq').v(V.v128bitselect).set(cs);
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

/** x0..x3 (int32x4: four counters) = Philox4x32-10 under key (vk0, vk1), one block per lane. */
function emitPhiloxX4(f: Fn): void {
  // the 32×32 → 64-bit products of lanes 0, 1 and 2, 3; then their high and low words as int32x4
  const mul = (x: string, m: number, hi: string, lo: string) => {
    f.get(x).i32(m).v(V.i32x4splat, V.i64x2extmulLowI32x4U).set('vpl');
    f.get(x).i32(m).v(V.i32x4splat, V.i64x2extmulHighI32x4U).set('vph');
    f.get('vpl').get('vph').shuffle32([1, 3, 5, 7]).set(hi);
    f.get('vpl').get('vph').shuffle32([0, 2, 4, 6]).set(lo);
  };
  for (let r = 0; r < 10; r++) {
    mul('vx0', M0, 'vh0', 'vl0');
    mul('vx2', M1, 'vh1', 'vx2');
    f.get('vh1').get('vx1').v(V.v128xor).get('vk0').v(V.v128xor).set('vx0');
    f.get('vx2').set('vx1');
    f.get('vh0').get('vx3').v(V.v128xor).get('vk1').v(V.v128xor).set('vx2');
    f.get('vl0').set('vx3');
    f.get('vk0').i32(W0).v(V.i32x4splat, V.i32x4add).set('vk0');
    f.get('vk1').i32(W1).v(V.i32x4splat, V.i32x4add).set('vk1');
  }
}

/** exact(w0, w1, w2, w3, ptr): one block's 4 normals at ptr by Math.log/cos/sin, in the JavaScript order. */
function exactFn(): Fn {
  const f = new Fn(
    [
      ['w0', 'i32'],
      ['w1', 'i32'],
      ['w2', 'i32'],
      ['w3', 'i32'],
      ['ptr', 'i32'],
    ],
    [],
  ).locals('f64', 'r', 'a');
  const u = (w: string) => f.get(w).op(OP.f64convertI32U).f64(0.5).op(OP.f64add).f64(4294967296).op(OP.f64div);
  for (const pair of [0, 1]) {
    f.f64(-2);
    u(`w${2 * pair}`);
    f.call(IMPORT.log).op(OP.f64mul, OP.f64sqrt).set('r');
    f.f64(TWO_PI);
    u(`w${2 * pair + 1}`);
    f.op(OP.f64mul).set('a');
    f.get('ptr')
      .i32(8 * pair)
      .op(OP.i32add)
      .get('r')
      .get('a')
      .call(IMPORT.cos)
      .op(OP.f64mul, OP.f32demoteF64)
      .f32store();
    f.get('ptr')
      .i32(8 * pair + 4)
      .op(OP.i32add)
      .get('r')
      .get('a')
      .call(IMPORT.sin)
      .op(OP.f64mul, OP.f32demoteF64);
    f.f32store();
  }
  return f;
}

/**
 * normals(k0, k1, c1, c2, c3, t0, T, D, tol) → blocks recomputed exactly: standard normals for
 * positions t0..t0+T × dims 0..D at memory[0..4TD) row-major (up to 15 values past the end are
 * scratch). Four blocks (16 dims) at a time: Philox in int32x4 lanes, Box–Muller in float64x2 lanes.
 * tol = 0 turns the check off (tests), tol ≥ 1 recomputes every block.
 */
function normalsFn(): Fn {
  const halves = ['a', 'b'];
  const words = ['u1', 'u2', 'u3', 'u4'];
  const outs = ['A', 'B', 'C', 'D'];
  const f = new Fn([...KEY, ['t0', 'i32'], ['T', 'i32'], ['D', 'i32'], ['tol', 'f64']], ['i32'])
    .locals('i32', 't', 'j', 'ptr', 'fb')
    .locals('v128', 'vx0', 'vx1', 'vx2', 'vx3', 'vk0', 'vk1', 'vpl', 'vph', 'vh0', 'vl0', 'vh1', 'AB', 'CD')
    .locals('v128', ...halves.flatMap((h) => [...words, ...outs].map((w) => w + h)))
    .locals('v128', 'r', 'a', 'cs', 'sn', 'L', 'tlo', 'thi', 'lk', 'lm', 'li', 'lf', 'ldk', 'ls', 'lz', 'lw', 'lr')
    .locals('v128', 'lh', 'skf', 'sr', 'sz', 'ss', 'sc', 'sq');
  f.f64(1).get('tol').op(OP.f64sub).v(V.f64x2splat).set('tlo');
  f.f64(1).get('tol').op(OP.f64add).v(V.f64x2splat).set('thi');
  f.i32(0).set('t').i32(0).set('ptr').i32(0).set('fb');
  f.block().loop(); // rows
  f.get('t').get('T').op(OP.i32ltU, OP.i32eqz).brIf(1);
  f.i32(0).set('j');
  f.block().loop(); // groups of 4 blocks
  f.get('j').get('D').op(OP.i32ltU, OP.i32eqz).brIf(1);
  f.get('t0').get('t').op(OP.i32add).i32(4096).op(OP.i32mul).get('j').i32(2).op(OP.i32shrU).op(OP.i32add);
  f.v(V.i32x4splat).v128i32([0, 1, 2, 3]).v(V.i32x4add).set('vx0');
  (['c1', 'c2', 'c3', 'k0', 'k1'] as const).forEach((c, i) =>
    f.get(c).v(V.i32x4splat).set(['vx1', 'vx2', 'vx3', 'vk0', 'vk1'][i]),
  );
  emitPhiloxX4(f);
  // uniforms (w + 0.5)/2³²: lanes 0, 1 → half a, lanes 2, 3 → half b
  ['vx0', 'vx1', 'vx2', 'vx3'].forEach((x, i) => {
    for (const h of halves) {
      f.get(x);
      if (h === 'b') f.get(x).shuffle32([2, 3, 0, 1]);
      f.v(V.f64x2convertLowI32x4U)
        .f64x2(0.5)
        .v(V.f64x2add)
        .f64x2(2 ** -32)
        .v(V.f64x2mul)
        .set(words[i] + h);
    }
  });
  for (const h of halves)
    for (const pair of [0, 1]) {
      emitLog(f, words[2 * pair] + h, 'L');
      f.f64x2(-2).get('L').v(V.f64x2mul, V.f64x2sqrt).set('r');
      f.f64x2(TWO_PI)
        .get(words[2 * pair + 1] + h)
        .v(V.f64x2mul)
        .set('a');
      emitSinCos(f, 'a', 'cs', 'sn');
      f.get('r')
        .get('cs')
        .v(V.f64x2mul)
        .set(outs[2 * pair] + h);
      f.get('r')
        .get('sn')
        .v(V.f64x2mul)
        .set(outs[2 * pair + 1] + h);
    }
  // the float32 check of all 16 values
  const demoted = (x: string, t: string) => f.get(x).get(t).v(V.f64x2mul, V.f32x4demoteF64x2Zero);
  halves
    .flatMap((h) => outs.map((o) => o + h))
    .forEach((x, i) => {
      demoted(x, 'tlo');
      demoted(x, 'thi');
      f.v(V.f32x4eq);
      if (i) f.v(V.v128and);
    });
  f.v(V.i32x4allTrue).op(OP.i32eqz).if();
  for (let b = 0; b < 4; b++) {
    ['vx0', 'vx1', 'vx2', 'vx3'].forEach((x) => f.get(x).extractLane(V.i32x4extractLane, b));
    f.get('ptr')
      .i32(16 * b)
      .op(OP.i32add)
      .call(EXACT);
  }
  f.get('fb').i32(1).op(OP.i32add).set('fb');
  f.op(OP.else);
  // [A B C D] per block from the lanes: lanes 0, 1 → blocks 0, 1; lanes 2, 3 → blocks 2, 3
  halves.forEach((h, hi) => {
    const d = (o: string) => f.get(o + h).v(V.f32x4demoteF64x2Zero);
    d('A');
    d('B');
    f.shuffle32([0, 4, 1, 5]).set('AB');
    d('C');
    d('D');
    f.shuffle32([0, 4, 1, 5]).set('CD');
    f.get('ptr')
      .get('AB')
      .get('CD')
      .shuffle32([0, 1, 4, 5])
      .v128store(32 * hi);
    f.get('ptr')
      .get('AB')
      .get('CD')
      .shuffle32([2, 3, 6, 7])
      .v128store(32 * hi + 16);
  });
  f.op(OP.end);
  // advance by the group's real values: min(16, D − j)
  f.get('ptr').get('D').get('j').op(OP.i32sub).i32(4).op(OP.i32mul).i32(64);
  f.get('D').get('j').op(OP.i32sub).i32(16).op(OP.i32ltU).op(OP.select, OP.i32add).set('ptr');
  f.get('j').i32(16).op(OP.i32add).set('j').br(0);
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

/** The engine's WebAssembly API (the project's TypeScript libs do not declare it). */
const wasm = (
  globalThis as unknown as {
    WebAssembly: {
      Module: new (bytes: Uint8Array<ArrayBuffer>) => object;
      Instance: new (module: object, imports: object) => { exports: object };
    };
  }
).WebAssembly;

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
      { name: 'exact', fn: exactFn() },
      { name: 'normals', fn: normalsFn() },
    ],
    PAGES,
  );
  const inst = new wasm.Instance(new wasm.Module(bytes), {
    math: { log: Math.log, cos: Math.cos, sin: Math.sin },
  });
  const ex = inst.exports as unknown as Omit<PhiloxWasm, 'f32' | 'u32'> & { memory: { buffer: ArrayBuffer } };
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
