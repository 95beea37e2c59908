/**
 * The one safetensors writer: the layout Hugging Face's writer uses (8-byte length, JSON header
 * padded with spaces to a multiple of 8, tensors sorted by element size then name, contiguous), the
 * data streamed to disk tensor by tensor, written to a temporary file and renamed into place. For
 * random checkpoints (benchmarks, memory measurements, tests); floats are rounded to nearest even.
 */
import * as fs from 'node:fs';

export type WriteDtype = 'F32' | 'F16' | 'BF16' | 'BOOL' | 'I64';

export interface WriteTensor {
  name: string;
  shape: number[];
  dtype: WriteDtype;
  /** the values, or a generator that fills `out` with the values from flat index `start` on */
  data: ArrayLike<number> | ((start: number, out: Float32Array) => void);
}

const SIZE: Record<WriteDtype, number> = { I64: 8, F32: 4, F16: 2, BF16: 2, BOOL: 1 };

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** float → bfloat16 bits, round to nearest even. */
export function toBf16(v: number): number {
  f32[0] = v;
  const x = u32[0];
  return ((x + 0x7fff + ((x >>> 16) & 1)) >>> 16) & 0xffff;
}

/** float → float16 bits, round to nearest even (normal and subnormal range; overflow → ±inf). */
export function toF16(v: number): number {
  const sign = v < 0 || Object.is(v, -0) ? 0x8000 : 0;
  const a = Math.abs(v);
  if (Number.isNaN(v)) return 0x7e00;
  if (a === 0) return sign;
  if (a >= 65520) return sign | 0x7c00;
  let e = Math.floor(Math.log2(a));
  if (2 ** e > a) e--;
  if (2 ** (e + 1) <= a) e++;
  if (e < -14) return sign | roundEven(a / 2 ** -24); // subnormal units (1024 = smallest normal encodes correctly)
  let m = roundEven((a / 2 ** e - 1) * 1024);
  if (m === 1024) {
    m = 0;
    e++;
  }
  return sign | ((e + 15) << 10) | m;
}

function roundEven(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  return d > 0.5 || (d === 0.5 && f % 2 === 1) ? f + 1 : f;
}

const CHUNK = 1 << 18;

export function writeSafetensors(
  file: string,
  tensors: WriteTensor[],
  metadata: Record<string, string> = { format: 'pt' },
): void {
  const sorted = [...tensors].sort((a, b) => SIZE[b.dtype] - SIZE[a.dtype] || (a.name < b.name ? -1 : 1));
  const header: Record<string, unknown> = { __metadata__: metadata };
  let off = 0;
  for (const t of sorted) {
    const n = t.shape.reduce((a, b) => a * b, 1);
    if (typeof t.data !== 'function' && t.data.length !== n)
      throw new Error(`writeSafetensors: ${t.name} has ${t.data.length} values for shape [${t.shape}]`);
    header[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [off, off + n * SIZE[t.dtype]] };
    off += n * SIZE[t.dtype];
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (Buffer.byteLength(json) % 8)) % 8);
  const tmp = `${file}.tmp-${process.pid}`;
  const fd = fs.openSync(tmp, 'w');
  try {
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(Buffer.byteLength(json)));
    fs.writeSync(fd, len);
    fs.writeSync(fd, Buffer.from(json, 'utf8'));
    const vals = new Float32Array(CHUNK);
    const buf = Buffer.alloc(CHUNK * 8);
    for (const t of sorted) {
      const n = t.shape.reduce((a, b) => a * b, 1);
      const size = SIZE[t.dtype];
      for (let start = 0; start < n; start += CHUNK) {
        const m = Math.min(CHUNK, n - start);
        const data = t.data;
        if (typeof data === 'function') data(start, vals.subarray(0, m));
        else for (let i = 0; i < m; i++) vals[i] = data[start + i];
        for (let i = 0; i < m; i++) {
          if (t.dtype === 'F32') buf.writeFloatLE(vals[i], 4 * i);
          else if (t.dtype === 'I64')
            buf.writeBigInt64LE(BigInt(Math.round(vals[i])), 8 * i); // integers < 2^24 (token ids, masks)
          else if (t.dtype === 'BOOL') buf[i] = vals[i] ? 1 : 0;
          else buf.writeUInt16LE(t.dtype === 'F16' ? toF16(vals[i]) : toBf16(vals[i]), 2 * i);
        }
        fs.writeSync(fd, buf, 0, m * size);
      }
    }
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
}
