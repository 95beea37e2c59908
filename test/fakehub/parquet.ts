/**
 * A minimal Parquet writer for the fake hub's datasets: one row group, one uncompressed PLAIN data
 * page (v1) per column, OPTIONAL columns (as pyarrow writes a Hugging Face dataset) with RLE
 * definition levels, metadata in Thrift's compact protocol. Columns: string, int32 or boolean.
 */
export type ParquetColumn =
  | { name: string; type: 'string'; values: string[] }
  | { name: string; type: 'int32'; values: number[] }
  | { name: string; type: 'boolean'; values: boolean[] };

const T = { BOOLEAN: 0, INT32: 1, BYTE_ARRAY: 6 } as const;
// compact-protocol field types
const C = { TRUE: 1, FALSE: 2, I32: 5, I64: 6, BINARY: 8, LIST: 9, STRUCT: 12 } as const;

type Field = [
  id: number,
  kind: 'i32' | 'i64' | 'bin' | 'struct' | 'list-i32' | 'list-bin' | 'list-struct',
  value: unknown,
];

function varint(n: number, out: number[]): void {
  let v = BigInt(n);
  while (v >= 0x80n) {
    out.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  out.push(Number(v));
}
const zigzag = (n: number): number => (n >= 0 ? 2 * n : -2 * n - 1);

function struct(fields: Field[], out: number[]): void {
  let last = 0;
  for (const [id, kind, value] of fields) {
    const type = { i32: C.I32, i64: C.I64, bin: C.BINARY, struct: C.STRUCT }[kind as string] ?? C.LIST;
    if (id - last > 0 && id - last <= 15) out.push(((id - last) << 4) | type);
    else throw new Error('parquet writer: field ids must increase by 1..15');
    last = id;
    if (kind === 'i32' || kind === 'i64') varint(zigzag(value as number), out);
    else if (kind === 'bin') binary(Buffer.from(value as string), out);
    else if (kind === 'struct') struct(value as Field[], out);
    else {
      const items = value as unknown[];
      const elem = kind === 'list-i32' ? C.I32 : kind === 'list-bin' ? C.BINARY : C.STRUCT;
      if (items.length < 15) out.push((items.length << 4) | elem);
      else {
        out.push(0xf0 | elem);
        varint(items.length, out);
      }
      for (const it of items) {
        if (kind === 'list-i32') varint(zigzag(it as number), out);
        else if (kind === 'list-bin') binary(Buffer.from(it as string), out);
        else struct(it as Field[], out);
      }
    }
  }
  out.push(0);
}

function binary(b: Buffer, out: number[]): void {
  varint(b.length, out);
  for (const x of b) out.push(x);
}

function plainValues(col: ParquetColumn): Buffer {
  if (col.type === 'int32') {
    const b = Buffer.alloc(4 * col.values.length);
    col.values.forEach((v, i) => b.writeInt32LE(v, 4 * i));
    return b;
  }
  if (col.type === 'boolean') {
    const b = Buffer.alloc(Math.ceil(col.values.length / 8));
    col.values.forEach((v, i) => (b[i >> 3] |= v ? 1 << (i & 7) : 0));
    return b;
  }
  return Buffer.concat(
    col.values.map((s) => {
      const body = Buffer.from(s, 'utf8');
      const len = Buffer.alloc(4);
      len.writeUInt32LE(body.length);
      return Buffer.concat([len, body]);
    }),
  );
}

/** Every value present: one RLE run of 1s (bit width 1), with the 4-byte length prefix of data page v1. */
function definitionLevels(n: number): Buffer {
  const run: number[] = [];
  varint(n << 1, run);
  run.push(1);
  const len = Buffer.alloc(4);
  len.writeUInt32LE(run.length);
  return Buffer.concat([len, Buffer.from(run)]);
}

export function writeParquet(columns: ParquetColumn[]): Buffer {
  const n = columns[0]?.values.length ?? 0;
  if (columns.some((c) => c.values.length !== n)) throw new Error('parquet writer: columns differ in length');
  const parts: Buffer[] = [Buffer.from('PAR1')];
  let offset = 4;
  const chunks: Field[][] = [];
  for (const col of columns) {
    const page = Buffer.concat([definitionLevels(n), plainValues(col)]);
    const header: number[] = [];
    struct(
      [
        [1, 'i32', 0], // DATA_PAGE
        [2, 'i32', page.length],
        [3, 'i32', page.length],
        [
          5,
          'struct',
          [
            [1, 'i32', n],
            [2, 'i32', 0], // PLAIN
            [3, 'i32', 3], // RLE
            [4, 'i32', 3],
          ],
        ],
      ],
      header,
    );
    const size = header.length + page.length;
    const type = col.type === 'string' ? T.BYTE_ARRAY : col.type === 'int32' ? T.INT32 : T.BOOLEAN;
    chunks.push([
      [2, 'i64', offset],
      [
        3,
        'struct',
        [
          [1, 'i32', type],
          [2, 'list-i32', [0, 3]],
          [3, 'list-bin', [col.name]],
          [4, 'i32', 0], // UNCOMPRESSED
          [5, 'i64', n],
          [6, 'i64', size],
          [7, 'i64', size],
          [9, 'i64', offset],
        ],
      ],
    ]);
    parts.push(Buffer.from(header), page);
    offset += size;
  }
  const schema: Field[][] = [
    [
      [4, 'bin', 'schema'],
      [5, 'i32', columns.length],
    ],
    ...columns.map((c): Field[] => {
      const f: Field[] = [
        [1, 'i32', c.type === 'string' ? T.BYTE_ARRAY : c.type === 'int32' ? T.INT32 : T.BOOLEAN],
        [3, 'i32', 1], // OPTIONAL
        [4, 'bin', c.name],
      ];
      if (c.type === 'string') f.push([6, 'i32', 0]); // UTF8
      return f;
    }),
  ];
  const meta: number[] = [];
  struct(
    [
      [1, 'i32', 1],
      [2, 'list-struct', schema],
      [3, 'i64', n],
      [
        4,
        'list-struct',
        [
          [
            [1, 'list-struct', chunks],
            [2, 'i64', offset - 4],
            [3, 'i64', n],
          ],
        ],
      ],
    ],
    meta,
  );
  const len = Buffer.alloc(4);
  len.writeUInt32LE(meta.length);
  parts.push(Buffer.from(meta), len, Buffer.from('PAR1'));
  return Buffer.concat(parts);
}
