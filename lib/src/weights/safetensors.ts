/**
 * safetensors header reader with full validation. Weights are never loaded here: the engine points
 * ONNX external data at the byte ranges this returns. `readTensor` exists for small files (golden
 * fixtures, tests).
 */
import * as fs from 'node:fs';

export type StDtype = 'F32' | 'F16' | 'BF16' | 'F64' | 'I64' | 'I32' | 'I8' | 'U8' | 'BOOL';
const DTYPE_BYTES: Record<StDtype, number> = { F64: 8, I64: 8, F32: 4, I32: 4, F16: 2, BF16: 2, I8: 1, U8: 1, BOOL: 1 };

export interface StTensor {
  name: string;
  dtype: StDtype;
  shape: number[];
  /** absolute byte offset of the tensor's data in the file */
  offset: number;
  length: number;
}

export interface SafetensorsFile {
  path: string;
  tensors: Map<string, StTensor>;
  metadata: Record<string, string>;
}

export class SafetensorsError extends Error {}

export function readSafetensorsHeader(path: string): SafetensorsFile {
  let fd: number;
  try {
    fd = fs.openSync(path, 'r');
  } catch (e) {
    throw new SafetensorsError(`${path}: cannot open (${(e as NodeJS.ErrnoException).code ?? e})`);
  }
  try {
    const size = fs.fstatSync(fd).size;
    const bad = (why: string) => new SafetensorsError(`${path}: corrupt safetensors file: ${why}`);
    if (size < 8) throw bad(`file is ${size} bytes, shorter than the 8-byte header length`);
    const lenBuf = Buffer.alloc(8);
    fs.readSync(fd, lenBuf, 0, 8, 0);
    const headerLen = Number(lenBuf.readBigUInt64LE(0));
    if (headerLen > size - 8) throw bad(`header length ${headerLen} runs past the end of the file (${size} bytes)`);
    const hbuf = Buffer.alloc(headerLen);
    fs.readSync(fd, hbuf, 0, headerLen, 8);
    let header: Record<string, unknown>;
    try {
      header = JSON.parse(hbuf.toString('utf8'));
    } catch {
      throw bad('header is not valid JSON');
    }
    const dataStart = 8 + headerLen;
    const dataLen = size - dataStart;
    const tensors = new Map<string, StTensor>();
    let metadata: Record<string, string> = {};
    for (const [name, raw] of Object.entries(header)) {
      if (name === '__metadata__') {
        metadata = raw as Record<string, string>;
        continue;
      }
      const t = raw as { dtype: string; shape: number[]; data_offsets: [number, number] };
      if (!(t.dtype in DTYPE_BYTES))
        throw bad(`tensor '${name}' has unknown dtype '${t.dtype}' (known: ${Object.keys(DTYPE_BYTES).join(', ')})`);
      const dtype = t.dtype as StDtype;
      const [begin, end] = t.data_offsets ?? [];
      if (!Number.isInteger(begin) || !Number.isInteger(end) || begin < 0 || end < begin)
        throw bad(`tensor '${name}' has invalid data_offsets ${JSON.stringify(t.data_offsets)}`);
      if (end > dataLen)
        throw bad(`tensor '${name}' data [${begin}, ${end}) is out of range (data section is ${dataLen} bytes)`);
      const elems = t.shape.reduce((a, b) => a * b, 1);
      if (elems * DTYPE_BYTES[dtype] !== end - begin)
        throw bad(
          `tensor '${name}' shape [${t.shape}] × ${dtype} needs ${elems * DTYPE_BYTES[dtype]} bytes but has ${end - begin}`,
        );
      tensors.set(name, { name, dtype, shape: t.shape, offset: dataStart + begin, length: end - begin });
    }
    const sorted = [...tensors.values()].sort((a, b) => a.offset - b.offset);
    for (let i = 1; i < sorted.length; i++) {
      const prev = sorted[i - 1];
      if (sorted[i].offset < prev.offset + prev.length && sorted[i].length > 0 && prev.length > 0)
        throw bad(`tensors '${prev.name}' and '${sorted[i].name}' overlap`);
    }
    return { path, tensors, metadata };
  } finally {
    fs.closeSync(fd);
  }
}

function f16ToF32(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

/** Reads one tensor as float32 (or as-is for integer types, converted to numbers in a Float64Array). */
export function readTensor(file: SafetensorsFile, name: string): { shape: number[]; data: Float32Array } {
  const t = file.tensors.get(name);
  if (!t) throw new SafetensorsError(`${file.path}: no tensor '${name}'`);
  const buf = Buffer.alloc(t.length);
  const fd = fs.openSync(file.path, 'r');
  try {
    fs.readSync(fd, buf, 0, t.length, t.offset);
  } finally {
    fs.closeSync(fd);
  }
  const n = t.shape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    switch (t.dtype) {
      case 'F32':
        out[i] = buf.readFloatLE(4 * i);
        break;
      case 'F64':
        out[i] = buf.readDoubleLE(8 * i);
        break;
      case 'F16':
        out[i] = f16ToF32(buf.readUInt16LE(2 * i));
        break;
      case 'BF16':
        out[i] = new Float32Array(new Uint32Array([buf.readUInt16LE(2 * i) << 16]).buffer)[0];
        break;
      case 'I64':
        out[i] = Number(buf.readBigInt64LE(8 * i));
        break;
      case 'I32':
        out[i] = buf.readInt32LE(4 * i);
        break;
      case 'I8':
        out[i] = buf.readInt8(i);
        break;
      case 'U8':
      case 'BOOL':
        out[i] = buf.readUInt8(i);
        break;
    }
  }
  return { shape: t.shape, data: out };
}
