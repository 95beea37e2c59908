/**
 * Prettier on the code cells of notebooks/*.ipynb (the repo's .prettierrc.json: width 120).
 * `--check` lists unformatted notebooks and exits 1; without it the cells are rewritten in place.
 * Both fail on a code line longer than the width that Prettier cannot break (a long template
 * literal, a comment): those are split by hand.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as prettier from 'prettier';

const ROOT = path.resolve(__dirname, '..');
const DIR = path.join(ROOT, 'notebooks');
const check = process.argv.includes('--check');

interface Cell {
  cell_type: string;
  source: string | string[];
}

function toLines(text: string): string[] {
  const lines = text.split('\n');
  return [...lines.slice(0, -1).map((l) => `${l}\n`), ...(lines[lines.length - 1] ? [lines[lines.length - 1]] : [])];
}

async function main(): Promise<void> {
  const options = { ...(await prettier.resolveConfig(path.join(DIR, 'x.ts'))), parser: 'typescript' as const };
  const width = options.printWidth ?? 80;
  const bad: string[] = [];
  const long: string[] = [];
  for (const name of fs
    .readdirSync(DIR)
    .filter((n) => n.endsWith('.ipynb'))
    .sort()) {
    const file = path.join(DIR, name);
    const text = fs.readFileSync(file, 'utf8');
    const nb = JSON.parse(text) as { cells: Cell[] };
    let changed = false;
    for (const [i, cell] of nb.cells.entries()) {
      if (cell.cell_type !== 'code') continue;
      const src = Array.isArray(cell.source) ? cell.source.join('') : cell.source;
      let out: string;
      try {
        out = (await prettier.format(src, options)).replace(/\n+$/, '');
      } catch (e) {
        throw new Error(`${name} cell ${i}: ${(e as Error).message.split('\n')[0]}`);
      }
      if (out !== src) {
        changed = true;
        cell.source = toLines(out);
      }
      out.split('\n').forEach((line, j) => {
        if (line.length > width) long.push(`${name} cell ${i} line ${j + 1}: ${line.length} characters`);
      });
    }
    if (!changed) continue;
    bad.push(name);
    if (!check) fs.writeFileSync(file, `${JSON.stringify(nb, null, 1)}\n`);
  }
  if (long.length) {
    console.error(`notebook code lines over ${width} characters (split them by hand):\n  ${long.join('\n  ')}`);
    process.exit(1);
  }
  if (check && bad.length) {
    console.error(`notebook code cells not formatted (run npm run format): ${bad.join(', ')}`);
    process.exit(1);
  }
  console.log(check ? 'notebook code cells are formatted' : `formatted ${bad.length} notebook(s)`);
}

main().catch((e: Error) => {
  console.error(e.message);
  process.exit(1);
});
