/** Figure 3 (EXPERIMENTS.md §3): cross-model angular/magnitude ratio and attention-repair recovery. */
import {
  axisMax,
  errorY,
  formatRatio,
  MODE_COLORS,
  MODE_LABELS,
  modeRatio,
  panelLabel,
  twoPanelLayout,
  type MeanStd,
  type Mode,
  type ModeSeries,
  type PlotlyFigure,
} from './common';

export interface Figure3Model {
  name: string;
  /** Loss damage per δ and mode; ratios are computed as mean_ang/(mean_mag + 1e-8). */
  damage: ModeSeries;
  /** Attention-repair recovery % per mode (omit for models where it was not measured). */
  recovery?: Readonly<Record<Mode, MeanStd>>;
}

export interface Figure3Input {
  models: readonly Figure3Model[];
  /** δ values of panel A (notebook: 2, 5, 10). */
  ratioDeltas: readonly number[];
}

/** Model colours of panel A (greys from dark to light: panel A is not about modes). */
const MODEL_SHADES = ['#2C3E50', '#7F8C8D', '#BDC3C7', '#95A5A6', '#34495E'];

export function figure3(input: Figure3Input, size = { width: 1000, height: 420 }): PlotlyFigure {
  const categories = input.ratioDeltas.map((d) => `δ=${d}`);
  const ratios = input.models.map((m) => input.ratioDeltas.map((d) => modeRatio(m.damage, d)));
  // a log axis cannot show ratios ≤ 0 (magnitude or angle *lowered* the loss): no bar, labelled "≤ 0"
  const shown = ratios.map((rs) => rs.map((r) => (r > 0 ? r : null)));
  const ratioTraces = input.models.map((m, i) => ({
    type: 'bar',
    name: m.name,
    xaxis: 'x',
    yaxis: 'y',
    x: categories,
    y: shown[i],
    marker: { color: MODEL_SHADES[i % MODEL_SHADES.length] },
    text: ratios[i].map((r) => (r > 0 ? formatRatio(r) : 'ratio ≤ 0')),
    textposition: 'outside',
    cliponaxis: false,
  }));
  const all = ratios.flat().filter((r) => r > 0);
  if (!all.length) all.push(1);
  const logRange = [
    Math.min(0, Math.floor(Math.log10(Math.min(...all)))),
    Math.ceil(Math.log10(Math.max(...all) * 1.5)),
  ];

  const withRecovery = input.models.filter((m) => m.recovery);
  const recoveryTraces = (['angular', 'magnitude'] as Mode[]).map((mode) => {
    const pts = withRecovery.map((m) => m.recovery![mode]);
    return {
      type: 'bar',
      name: MODE_LABELS[mode],
      xaxis: 'x2',
      yaxis: 'y2',
      x: withRecovery.map((m) => m.name),
      y: pts.map((p) => p.mean),
      error_y: errorY(pts, '#333333'),
      marker: { color: MODE_COLORS[mode] },
      text: pts.map((p) => `${p.mean.toFixed(1)}%`),
      textposition: 'outside',
      cliponaxis: false,
    };
  });
  const recoveryValues = withRecovery.flatMap((m) => [m.recovery!.angular, m.recovery!.magnitude]);
  const yMin = Math.min(0, ...recoveryValues.map((p) => p.mean - (p.std ?? 0)));

  const layout = twoPanelLayout(size.width, size.height);
  Object.assign(layout.yaxis as object, {
    type: 'log',
    title: { text: 'Angular / magnitude damage ratio' },
    range: logRange,
  });
  Object.assign(layout.yaxis2 as object, {
    title: { text: 'Attention-repair recovery (%)' },
    range: [
      yMin < 0 ? -axisMax([-yMin], 1.2) : 0,
      axisMax(
        recoveryValues.map((p) => p.mean + (p.std ?? 0)),
        1.2,
      ),
    ],
  });
  return {
    data: [...ratioTraces, ...recoveryTraces],
    layout: { ...layout, barmode: 'group', annotations: [panelLabel('A', 0), panelLabel('B', 0.56)] },
  };
}
