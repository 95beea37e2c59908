/** Results tables (arquero-backed) and their Markdown / HTML / LaTeX / CSV writers. */
export {
  resultsTable, tableCells, fmtMeanStd, formatNumber,
  type ResultsTable, type ColumnFormat, type ColumnSpec, type TableCells, type Align, type ColumnTable,
} from './table';
export { toMarkdown, toHTML, toLatex, toCSV, escapeLatex } from './writers';
