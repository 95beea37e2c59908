/** Showing a figure in a tslab (TypeScript Jupyter) notebook. */
import { existsSync, readFileSync } from 'node:fs';
import type { PlotlyFigure } from './common';
import { chromiumPath, FigureRenderer } from './render';

/** The part of tslab's `display` used here. */
export interface NotebookDisplay {
  html(s: string): void;
  png(b: Uint8Array): void;
}

let plotlyBundle: string | undefined;
let counter = 0;

/** Self-contained HTML: a div, the inline plotly bundle and the newPlot call (no network needed). */
export function figureHtml(fig: PlotlyFigure): string {
  plotlyBundle ??= readFileSync(require.resolve('plotly.js-dist-min'), 'utf8');
  const id = `dirmag-figure-${++counter}`;
  const json = (x: unknown) => JSON.stringify(x).replace(/</g, '\\u003c');
  return [
    `<div id="${id}"></div>`,
    `<script>${plotlyBundle.replace(/<\/script/gi, '<\\/script')}</script>`,
    `<script>Plotly.newPlot(${json(id)}, ${json(fig.data)}, ${json(fig.layout)});</script>`,
  ].join('\n');
}

function tslabDisplay(): NotebookDisplay | undefined {
  try {
    return (require('tslab') as { display: NotebookDisplay }).display;
  } catch {
    return undefined;
  }
}

/**
 * Displays an interactive figure (text/html) and, when Chromium is available, a static PNG so that
 * the notebook also reads on GitHub. Outside tslab (display not ready or tslab absent) it is a
 * no-op. Returns the HTML either way. Pass `display` to use a specific tslab display instance.
 */
export async function displayFigure(
  fig: PlotlyFigure,
  options: { display?: NotebookDisplay; png?: boolean } = {},
): Promise<string> {
  const html = figureHtml(fig);
  const display = options.display ?? tslabDisplay();
  if (!display) return html;
  try {
    display.html(html);
  } catch {
    return html; // tslab's display throws "Not ready" outside a kernel
  }
  if ((options.png ?? true) && existsSync(chromiumPath())) {
    const renderer = await FigureRenderer.open();
    try {
      display.png((await renderer.render(fig, ['png'])).png!);
    } finally {
      await renderer.close();
    }
  }
  return html;
}
