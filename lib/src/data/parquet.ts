/** Read rows of a Parquet file (e.g. a Hugging Face dataset shard) with hyparquet. */
import * as fs from 'node:fs';

export type ParquetRow = Record<string, unknown>;

/** All rows of `file` as objects; `columns` restricts (and validates) the columns read. */
export async function readParquetRows(file: string, columns?: string[]): Promise<ParquetRow[]> {
  if (!fs.existsSync(file)) throw new Error(`parquet file not found: ${file}`);
  // hyparquet is ESM-only; Node >= 20.19 can require() it.
  const hp = require('hyparquet') as typeof import('hyparquet');
  const buf = fs.readFileSync(file);
  const ab = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer;
  let metadata;
  try {
    metadata = hp.parquetMetadata(ab);
  } catch (e) {
    throw new Error(`${file}: not a readable parquet file (${(e as Error).message})`);
  }
  if (columns) {
    const have = hp.parquetSchema(metadata).children.map((c) => c.element.name);
    const missing = columns.filter((c) => !have.includes(c));
    if (missing.length) throw new Error(`${file}: no column(s) ${missing.join(', ')} (has: ${have.join(', ')})`);
  }
  return (await hp.parquetReadObjects({ file: ab, metadata, columns })) as ParquetRow[];
}
