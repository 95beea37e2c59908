/** Shared types and helpers of the publication figures (plotly specs as plain data). */

/** A plotly figure as plain JSON-able data. */
export interface PlotlyFigure {
  data: Record<string, unknown>[];
  layout: Record<string, unknown>;
}

/** A seed-level mean with optional spread (population std across seeds; no error bar when absent). */
export interface MeanStd {
  mean: number;
  std?: number;
}

export interface DeltaPoint extends MeanStd {
  delta: number;
}

/** One value series per perturbation mode, indexed by δ. */
export interface ModeSeries {
  angular: readonly DeltaPoint[];
  magnitude: readonly DeltaPoint[];
}

export type Mode = 'angular' | 'magnitude';
export const MODE_COLORS: Readonly<Record<Mode, string>> = { angular: '#E74C3C', magnitude: '#3498DB' };
export const MODE_LABELS: Readonly<Record<Mode, string>> = { angular: 'Angular', magnitude: 'Magnitude' };
export const MODE_SYMBOLS: Readonly<Record<Mode, string>> = { angular: 'circle', magnitude: 'square' };
export const LABEL_GREY = '#7F8C8D';
export const FONT = { family: 'Liberation Sans, Arial, Helvetica, sans-serif', size: 12, color: '#222222' };

/** The point at `delta`; throws if the series lacks it. */
export function pointAt(points: readonly DeltaPoint[], delta: number): DeltaPoint {
  const p = points.find((q) => q.delta === delta);
  if (!p) throw new RangeError(`no data point at δ = ${delta}`);
  return p;
}

/** Notebook ratio: mean_ang/(mean_mag + 1e-8) at δ. */
export function modeRatio(series: ModeSeries, delta: number): number {
  return pointAt(series.angular, delta).mean / (pointAt(series.magnitude, delta).mean + 1e-8);
}

/** "***" p < .001, "**" p < .01, "*" p < .05, else "n.s." */
export function significanceStars(p: number): string {
  return p < 0.001 ? '***' : p < 0.01 ? '**' : p < 0.05 ? '*' : 'n.s.';
}

/** "43×" for ratios ≥ 10, "5.4×" below (one decimal keeps small ratios such as 0.2× readable). */
export function formatRatio(r: number): string {
  return `${r >= 10 ? Math.round(r) : r.toFixed(1)}×`;
}

/** "p < 0.0001" or "p = 0.0035" (two significant digits). */
export function formatP(p: number): string {
  return p < 1e-4 ? 'p < 0.0001' : `p = ${p.toPrecision(2)}`;
}

/** Upper axis limit: the largest value times `headroom`, rounded up to an integer (1 if nothing is positive). */
export function axisMax(values: readonly number[], headroom = 1.15): number {
  const top = Math.max(0, ...values);
  return top > 0 ? Math.ceil(top * headroom) : 1;
}

/** Top of a bar or marker including its error bar. */
export function top(p: MeanStd): number {
  return p.mean + (p.std ?? 0);
}

/** plotly error_y for the given points (hidden when no point has a std). */
export function errorY(points: readonly MeanStd[], color: string): Record<string, unknown> {
  return {
    type: 'data',
    array: points.map((p) => p.std ?? 0),
    visible: points.some((p) => p.std !== undefined),
    color,
    thickness: 1.5,
    width: 4,
  };
}

/** Sorted δ values present in both modes. */
export function sharedDeltas(series: ModeSeries): number[] {
  const mag = new Set(series.magnitude.map((p) => p.delta));
  return series.angular
    .map((p) => p.delta)
    .filter((d) => mag.has(d))
    .sort((a, b) => a - b);
}

/** Panel letter annotation ("A", "B") at the top-left of a subplot starting at paper x. */
export function panelLabel(text: string, x: number): Record<string, unknown> {
  return {
    text: `<b>${text}</b>`,
    xref: 'paper',
    yref: 'paper',
    x,
    y: 1.12,
    xanchor: 'left',
    yanchor: 'bottom',
    showarrow: false,
    font: { size: 16 },
  };
}

/** Base layout of a two-panel figure: x/y on the left, x2/y2 on the right. */
export function twoPanelLayout(width: number, height: number): Record<string, unknown> {
  return {
    width,
    height,
    font: FONT,
    paper_bgcolor: 'white',
    plot_bgcolor: 'white',
    showlegend: true,
    margin: { l: 60, r: 20, t: 50, b: 60 },
    legend: { orientation: 'h', x: 0, y: -0.2 },
    xaxis: { domain: [0, 0.44], anchor: 'y', showline: true, linecolor: '#444', ticks: 'outside' },
    yaxis: { anchor: 'x', showline: true, linecolor: '#444', ticks: 'outside', gridcolor: '#EEEEEE' },
    xaxis2: { domain: [0.56, 1], anchor: 'y2', showline: true, linecolor: '#444', ticks: 'outside' },
    yaxis2: { anchor: 'x2', showline: true, linecolor: '#444', ticks: 'outside', gridcolor: '#EEEEEE' },
  };
}
