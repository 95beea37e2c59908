/**
 * Static rendering of plotly figures in headless Chromium (playwright-core), offline: the plotly
 * bundle is injected from node_modules. Output is reproducible: Math.random (plotly's id source) is
 * re-seeded before every plot, and PDF dates are normalised.
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { PlotlyFigure } from './common';

export type ImageFormat = 'svg' | 'pdf' | 'png';

export interface RenderOptions {
  /** Pixel size (default: the figure's layout.width/height, else 900×450). */
  width?: number;
  height?: number;
  /** PNG pixel ratio (default 2). */
  scale?: number;
}

/** Headless flags for this machine's closed network (no background connections, fresh profile given by the caller). */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** The Chromium executable: $CHROMIUM_PATH or Debian's /usr/bin/chromium. */
export function chromiumPath(): string {
  return process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
}

/** Why figures cannot be exported here (one line with the install hint), or null when Chromium is there. */
export function chromiumMissing(): string | null {
  const executablePath = chromiumPath();
  if (existsSync(executablePath)) return null;
  return `Chromium not found at ${executablePath}: install it with \`apt-get install -y chromium\` or set CHROMIUM_PATH to a Chromium/Chrome executable`;
}

/** Launches headless Chromium; throws one clear line if the executable is missing. */
export async function launchChromium(): Promise<Browser> {
  const missing = chromiumMissing();
  if (missing) throw new Error(missing);
  return chromium.launch({ executablePath: chromiumPath(), args: CHROMIUM_ARGS });
}

/** In-page code (a plain string, so no transpiler helper leaks into page.evaluate). */
const PAGE_RENDER = `async ({ data, layout, width, height, scale, formats }) => {
  let a = 20240601;
  Math.random = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const gd = document.getElementById('figure');
  Plotly.purge(gd);
  await Plotly.newPlot(gd, data, { ...layout, width, height }, { staticPlot: true });
  const out = {};
  if (formats.includes('svg')) out.svg = await Plotly.toImage(gd, { format: 'svg', width, height });
  if (formats.includes('png')) out.png = await Plotly.toImage(gd, { format: 'png', width, height, scale });
  return out;
}`;

const PAGE_HTML =
  '<!DOCTYPE html><html><head><meta charset="utf-8"><style>html,body{margin:0;padding:0;overflow:hidden;background:#fff}</style></head><body><div id="figure"></div></body></html>';

/** Replaces the digits of /CreationDate and /ModDate with a fixed date of the same length (xref offsets stay valid). */
export function normalisePdfDates(pdf: Buffer): Buffer {
  const text = pdf
    .toString('latin1')
    .replace(/(\/(?:CreationDate|ModDate)\s*\(D:)(\d{14})/g, (_m, head: string) => `${head}20000101000000`);
  return Buffer.from(text, 'latin1');
}

/** A Chromium page with plotly loaded; render many figures with one session, then close(). */
export class FigureRenderer {
  private constructor(
    private readonly browser: Browser,
    private readonly page: Page,
  ) {}

  static async open(): Promise<FigureRenderer> {
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      await page.setContent(PAGE_HTML);
      await page.addScriptTag({ path: require.resolve('plotly.js-dist-min') });
      return new FigureRenderer(browser, page);
    } catch (err) {
      await browser.close();
      throw err;
    }
  }

  async render(
    fig: PlotlyFigure,
    formats: readonly ImageFormat[],
    options: RenderOptions = {},
  ): Promise<Partial<Record<ImageFormat, Buffer>>> {
    const width = options.width ?? (fig.layout.width as number | undefined) ?? 900;
    const height = options.height ?? (fig.layout.height as number | undefined) ?? 450;
    await this.page.setViewportSize({ width, height });
    const args = { data: fig.data, layout: fig.layout, width, height, scale: options.scale ?? 2, formats };
    const images = (await this.page.evaluate(`(${PAGE_RENDER})(${JSON.stringify(args)})`)) as {
      svg?: string;
      png?: string;
    };
    const out: Partial<Record<ImageFormat, Buffer>> = {};
    if (images.svg) out.svg = Buffer.from(decodeURIComponent(images.svg.slice(images.svg.indexOf(',') + 1)), 'utf8');
    if (images.png) out.png = Buffer.from(images.png.slice(images.png.indexOf(',') + 1), 'base64');
    if (formats.includes('pdf')) {
      const pdf = await this.page.pdf({
        width: `${width}px`,
        height: `${height}px`,
        printBackground: true,
        pageRanges: '1',
        margin: { top: '0', right: '0', bottom: '0', left: '0' },
      });
      out.pdf = normalisePdfDates(pdf);
    }
    return out;
  }

  async close(): Promise<void> {
    await this.browser.close();
  }
}
