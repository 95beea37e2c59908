/** Publication figures as plotly specs, static export (SVG/PDF/PNG) and notebook display. */
export {
  MODE_COLORS,
  MODE_LABELS,
  significanceStars,
  formatRatio,
  formatP,
  modeRatio,
  type PlotlyFigure,
  type MeanStd,
  type DeltaPoint,
  type ModeSeries,
  type Mode,
} from './common';
export { figure1, type Figure1Input } from './figure1';
export { figure2, recoveryLabel, type Figure2Input } from './figure2';
export { figure3, type Figure3Input, type Figure3Model } from './figure3';
export {
  CHROMIUM_ARGS,
  chromiumPath,
  chromiumMissing,
  launchChromium,
  normalisePdfDates,
  FigureRenderer,
  type ImageFormat,
  type RenderOptions,
} from './render';
export { exportFigure, exportFigures, type ExportOptions } from './export';
export {
  displayFigure,
  figureBundle,
  figureHtml,
  figureLabel,
  plotlySource,
  tslabWriter,
  PLOTLY_MIME,
  type BundleWriter,
  type DisplayFigureOptions,
  type FigureHtmlOptions,
  type MimeBundle,
} from './display';
