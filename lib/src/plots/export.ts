/** Writing figures to SVG / PDF / PNG files (one Chromium session per batch). */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { PlotlyFigure } from './common';
import { FigureRenderer, type ImageFormat, type RenderOptions } from './render';

export interface ExportOptions extends RenderOptions {
  /** Default ['svg', 'pdf', 'png']. */
  formats?: readonly ImageFormat[];
}

/** Exports each figure to `${basePath}.${format}`; returns the written paths. One browser for the whole batch. */
export async function exportFigures(
  jobs: readonly { figure: PlotlyFigure; basePath: string }[],
  options: ExportOptions = {},
): Promise<string[]> {
  const formats = options.formats ?? ['svg', 'pdf', 'png'];
  const renderer = await FigureRenderer.open();
  const written: string[] = [];
  try {
    for (const { figure, basePath } of jobs) {
      const images = await renderer.render(figure, formats, options);
      await mkdir(dirname(basePath), { recursive: true });
      for (const format of formats) {
        const path = `${basePath}.${format}`;
        await writeFile(path, images[format]!);
        written.push(path);
      }
    }
  } finally {
    await renderer.close();
  }
  return written;
}

/** Exports one figure (see exportFigures). */
export function exportFigure(figure: PlotlyFigure, basePath: string, options: ExportOptions = {}): Promise<string[]> {
  return exportFigures([{ figure, basePath }], options);
}
