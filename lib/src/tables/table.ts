/**
 * Results tables: the data live in an arquero ColumnTable; per-column presentation (header label,
 * fixed digits, alignment) is attached once and every writer renders the same formatted cells.
 */
import * as aq from 'arquero';

export type ColumnTable = aq.ColumnTable;
export type Align = 'left' | 'right' | 'center';

/** Presentation of one column; everything optional. */
export interface ColumnFormat {
  /** Header text (default: the column name). */
  label?: string;
  /** Numbers are printed with toFixed(digits) (default: String(x)). */
  digits?: number;
  /** Default: right for all-number columns, left otherwise. */
  align?: Align;
}

export interface ColumnSpec {
  name: string;
  label: string;
  digits?: number;
  align: Align;
}

export interface ResultsTable {
  readonly data: ColumnTable;
  readonly columns: readonly ColumnSpec[];
}

/** The formatted content of a table, as the writers consume it. */
export interface TableCells {
  header: string[];
  align: Align[];
  rows: string[][];
}

/**
 * Builds a results table from row objects (via `aq.from(rows)`) or from an existing arquero table.
 * Column order is the table's column order; `formats` is keyed by column name.
 */
export function resultsTable(source: readonly object[] | ColumnTable, formats: Record<string, ColumnFormat> = {}): ResultsTable {
  const data = source instanceof aq.ColumnTable ? source : aq.from([...source]);
  const names = data.columnNames();
  for (const key of Object.keys(formats))
    if (!names.includes(key)) throw new RangeError(`resultsTable: format given for unknown column "${key}"`);
  const columns = names.map((name): ColumnSpec => {
    const f = formats[name] ?? {};
    const numeric = data.numRows() > 0 && data.array(name).every((v: unknown) => typeof v === 'number');
    return { name, label: f.label ?? name, digits: f.digits, align: f.align ?? (numeric ? 'right' : 'left') };
  });
  return { data, columns };
}

/** Fixed-point text without a "-0.00" for values that round to zero. */
export function formatNumber(x: number, digits?: number): string {
  const s = digits === undefined ? String(x) : x.toFixed(digits);
  return /^-0(\.0*)?$/.test(s) ? s.slice(1) : s;
}

/** A "mean ± std" composite cell, both parts with the same number of digits. */
export function fmtMeanStd(mean: number, std: number, digits: number): string {
  return `${formatNumber(mean, digits)} ± ${formatNumber(std, digits)}`;
}

function formatCell(value: unknown, digits?: number): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number') return formatNumber(value, digits);
  return String(value);
}

/** Formats every cell of the table (numbers per column digits, null/undefined as empty). */
export function tableCells(table: ResultsTable): TableCells {
  const { data, columns } = table;
  const rows: string[][] = [];
  for (let r = 0; r < data.numRows(); r++) rows.push(columns.map((c) => formatCell(data.get(c.name, r), c.digits)));
  return { header: columns.map((c) => c.label), align: columns.map((c) => c.align), rows };
}
