/**
 * Showing a figure in a tslab (TypeScript Jupyter) notebook as ONE output with several representations
 * (a MIME bundle), so every viewer picks the one it can show:
 * - `application/vnd.plotly.v1+json`: the figure itself, for front ends with a plotly renderer
 *   (JupyterLab with the jupyterlab-plotly extension);
 * - `text/html`: a div holding the static PNG and a script that replaces it with the interactive plot.
 *   Trusted notebooks run the script; untrusted ones (reopened, shared) and GitHub strip it, and the PNG
 *   inside the div stays. Plotly's code (from node_modules, no network) is shipped with the first figure
 *   of a kernel session only; later figures wait for it;
 * - `image/png`: the static image (headless Chromium, see render.ts) for viewers that skip HTML;
 * - `text/plain`: one line naming the figure.
 * Nothing is returned, so tslab has no cell value to print.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import type { PlotlyFigure } from './common';
import { chromiumPath, FigureRenderer } from './render';

export const PLOTLY_MIME = 'application/vnd.plotly.v1+json';

/** One notebook output: MIME type → content (strings; JSON types as objects; images base64). */
export type MimeBundle = Record<string, string | object>;

/** Sends one display_data output. */
export type BundleWriter = (bundle: MimeBundle) => void;

let plotlyBundle: string | undefined;

/** plotly.js (minified) from node_modules, read once. */
export function plotlySource(): string {
  plotlyBundle ??= readFileSync(require.resolve('plotly.js-dist-min'), 'utf8');
  return plotlyBundle;
}

export interface FigureHtmlOptions {
  /** include plotly's code (default false: the page must already have it, or get it from another output) */
  withPlotly?: boolean;
  /** static PNG shown until (and unless) the interactive plot replaces it */
  png?: Uint8Array;
  /** element id (default: random, so re-executed outputs never collide with saved ones) */
  id?: string;
}

/** A figure's one-line description (its title when it has one). */
export function figureLabel(fig: PlotlyFigure): string {
  const t = fig.layout.title as string | { text?: string } | undefined;
  const title = typeof t === 'string' ? t : t?.text;
  const clean = (title ?? '')
    .replace(/<[^>]*>/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  return `Figure${clean ? `: ${clean}` : ''} (interactive in a trusted notebook, a static image otherwise)`;
}

const json = (x: unknown) => JSON.stringify(x).replace(/</g, '\\u003c');

/**
 * The HTML representation: a div (holding the PNG when given), optionally plotly's code, and a script that
 * draws the interactive figure into the div once both the div is in the page and `window.Plotly` exists.
 */
export function figureHtml(fig: PlotlyFigure, options: FigureHtmlOptions = {}): string {
  const id = options.id ?? `dirmag-figure-${randomBytes(6).toString('hex')}`;
  const img = options.png
    ? `<img alt="figure" style="max-width:100%" src="data:image/png;base64,${Buffer.from(options.png).toString('base64')}">`
    : '';
  const parts = [`<div id="${id}" class="dirmag-figure">${img}</div>`];
  if (options.withPlotly) parts.push(`<script>${plotlySource().replace(/<\/script/gi, '<\\/script')}</script>`);
  parts.push(
    `<script>(function () { var tries = 0; (function draw() { var gd = document.getElementById(${json(id)});` +
      ` if (!gd || !window.Plotly) { if (++tries < 600) setTimeout(draw, 100); return; }` +
      ` gd.innerHTML = ''; window.Plotly.newPlot(gd, ${json(fig.data)}, ${json(fig.layout)}, {responsive: true}); })(); })();</script>`,
  );
  return parts.join('\n');
}

/** The whole MIME bundle of one figure (see the file comment). */
export function figureBundle(fig: PlotlyFigure, options: FigureHtmlOptions = {}): MimeBundle {
  const bundle: MimeBundle = {
    [PLOTLY_MIME]: { data: fig.data, layout: fig.layout },
    'text/html': figureHtml(fig, options),
    'text/plain': figureLabel(fig),
  };
  if (options.png) bundle['image/png'] = Buffer.from(options.png).toString('base64');
  return bundle;
}

/** tslab's display channel for the running cell, or undefined outside a tslab kernel. */
export function tslabWriter(): BundleWriter | undefined {
  let jupyter: { lastWriteDisplayData: ((d: object, update: boolean) => void) | null };
  try {
    // tslab's public `display` sends one MIME type per output; its kernel module sends a whole bundle
    jupyter = require('tslab/dist/jupyter');
  } catch {
    return undefined;
  }
  const write = jupyter.lastWriteDisplayData;
  if (!write) return undefined;
  return (bundle) => write({ data: bundle, metadata: {}, transient: {} }, false);
}

let plotlyShipped = false;

/** Renders the static PNG of a figure (undefined when Chromium is missing). */
async function staticPng(fig: PlotlyFigure): Promise<Uint8Array | undefined> {
  if (!existsSync(chromiumPath())) return undefined;
  const renderer = await FigureRenderer.open();
  try {
    return (await renderer.render(fig, ['png'])).png;
  } finally {
    await renderer.close();
  }
}

export interface DisplayFigureOptions {
  /** also render the static PNG (default: when Chromium is available) */
  png?: boolean;
  /** where the output goes (default: the running tslab cell; nothing happens outside a kernel) */
  write?: BundleWriter;
}

/**
 * Displays a figure as one output (see the file comment). Plotly's code goes out with the first figure
 * a kernel session displays. Outside a tslab kernel it does nothing.
 */
export async function displayFigure(fig: PlotlyFigure, options: DisplayFigureOptions = {}): Promise<void> {
  const write = options.write ?? tslabWriter();
  if (!write) return;
  const png = options.png === false ? undefined : await staticPng(fig);
  const withPlotly = !plotlyShipped;
  write(figureBundle(fig, { png, withPlotly }));
  plotlyShipped = true;
}
