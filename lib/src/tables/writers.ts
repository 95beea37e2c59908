/** Text renderings of a ResultsTable: Markdown (GFM), HTML, LaTeX (booktabs) and CSV (RFC 4180). */
import { tableCells, type Align, type ResultsTable } from './table';

/** GitHub-flavoured Markdown pipe table; `|` in cells is escaped as `\|`. */
export function toMarkdown(table: ResultsTable): string {
  const { header, align, rows } = tableCells(table);
  const line = (cells: string[]) => `| ${cells.map((c) => c.replace(/\|/g, '\\|')).join(' | ')} |`;
  const rule: Record<Align, string> = { left: ':---', right: '---:', center: ':---:' };
  return [line(header), `| ${align.map((a) => rule[a]).join(' | ')} |`, ...rows.map(line)].join('\n') + '\n';
}

function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** An HTML <table> with <thead>/<tbody>; cell text is HTML-escaped, alignment via inline style. */
export function toHTML(table: ResultsTable): string {
  const { header, align, rows } = tableCells(table);
  const cell = (tag: 'th' | 'td', text: string, i: number) => `<${tag} style="text-align: ${align[i]}">${escapeHtml(text)}</${tag}>`;
  const row = (tag: 'th' | 'td', cells: string[]) => `    <tr>${cells.map((c, i) => cell(tag, c, i)).join('')}</tr>`;
  return ['<table>', '  <thead>', row('th', header), '  </thead>', '  <tbody>', ...rows.map((r) => row('td', r)), '  </tbody>', '</table>'].join('\n') + '\n';
}

const LATEX_SPECIAL: Record<string, string> = {
  '\\': '\\textbackslash{}', '{': '\\{', '}': '\\}', _: '\\_', '%': '\\%', '&': '\\&', '#': '\\#', $: '\\$',
  '~': '\\textasciitilde{}', '^': '\\textasciicircum{}', '±': '$\\pm$',
};

/** Escapes LaTeX's special characters (\ { } _ % & # $ ~ ^) and writes ± as $\pm$. */
export function escapeLatex(s: string): string {
  return s.replace(/[\\{}_%&#$~^±]/g, (ch) => LATEX_SPECIAL[ch]);
}

/** A booktabs `tabular` (\toprule, \midrule, \bottomrule); needs \usepackage{booktabs}. */
export function toLatex(table: ResultsTable): string {
  const { header, align, rows } = tableCells(table);
  const line = (cells: string[]) => `${cells.map(escapeLatex).join(' & ')} \\\\`;
  return [
    `\\begin{tabular}{${align.map((a) => a[0]).join('')}}`,
    '\\toprule', line(header), '\\midrule', ...rows.map(line), '\\bottomrule', '\\end{tabular}',
  ].join('\n') + '\n';
}

/** RFC 4180 field: quoted (with doubled quotes) iff it contains a comma, quote, CR or LF. */
function csvField(s: string): string {
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** RFC 4180 CSV: header line then rows, CRLF line endings, the same formatted cells as the other writers. */
export function toCSV(table: ResultsTable): string {
  const { header, rows } = tableCells(table);
  return [header, ...rows].map((cells) => cells.map(csvField).join(',')).join('\r\n') + '\r\n';
}
