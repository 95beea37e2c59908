/** Figure 1 (EXPERIMENTS.md §3): loss asymmetry (E1) and BLiMP cross-over (E2). */
import {
  axisMax,
  errorY,
  formatRatio,
  LABEL_GREY,
  MODE_COLORS,
  MODE_LABELS,
  MODE_SYMBOLS,
  modeRatio,
  panelLabel,
  pointAt,
  sharedDeltas,
  significanceStars,
  top,
  twoPanelLayout,
  type Mode,
  type ModeSeries,
  type PlotlyFigure,
} from './common';

export interface Figure1Input {
  /** A: loss damage (nats) per δ, mean ± std over seeds (E1). */
  damage: ModeSeries;
  /** δ values that get a grey "ratio ×" label above the angular point (notebook: 1, 5, 20). */
  ratioLabelDeltas: readonly number[];
  /** B: BLiMP accuracy drop (pp) per δ, mean ± std over seeds (E2). */
  accuracyDrop: ModeSeries;
  /** B: p-value of the magnitude-vs-angular test per δ, turned into stars. */
  accuracyP: readonly { delta: number; p: number }[];
}

export function figure1(input: Figure1Input, size = { width: 1000, height: 420 }): PlotlyFigure {
  const { damage, accuracyDrop } = input;
  const lineTraces = (['angular', 'magnitude'] as Mode[]).map((mode) => {
    const pts = [...damage[mode]].sort((a, b) => a.delta - b.delta);
    return {
      type: 'scatter',
      mode: 'lines+markers',
      name: MODE_LABELS[mode],
      legendgroup: mode,
      xaxis: 'x',
      yaxis: 'y',
      x: pts.map((p) => p.delta),
      y: pts.map((p) => p.mean),
      error_y: errorY(pts, MODE_COLORS[mode]),
      line: { color: MODE_COLORS[mode], width: 2 },
      marker: { color: MODE_COLORS[mode], symbol: MODE_SYMBOLS[mode], size: 8 },
    };
  });
  const deltasA = [...damage.angular, ...damage.magnitude].map((p) => p.delta);
  const yMaxA = axisMax([...damage.angular, ...damage.magnitude].map(top), 1.1);
  const ratioLabels = input.ratioLabelDeltas.map((d) => {
    const ang = pointAt(damage.angular, d);
    return {
      text: formatRatio(modeRatio(damage, d)),
      x: d,
      y: top(ang),
      xref: 'x',
      yref: 'y',
      yshift: 12,
      showarrow: false,
      font: { color: LABEL_GREY, size: 12 },
    };
  });

  const deltasB = sharedDeltas(accuracyDrop);
  const categories = deltasB.map((d) => `δ=${d}`);
  const barTraces = (['magnitude', 'angular'] as Mode[]).map((mode) => {
    const pts = deltasB.map((d) => pointAt(accuracyDrop[mode], d));
    return {
      type: 'bar',
      name: MODE_LABELS[mode],
      legendgroup: mode,
      showlegend: false,
      xaxis: 'x2',
      yaxis: 'y2',
      x: categories,
      y: pts.map((p) => p.mean),
      error_y: errorY(pts, '#333333'),
      marker: { color: MODE_COLORS[mode] },
    };
  });
  const groupTops = deltasB.map((d) =>
    Math.max(top(pointAt(accuracyDrop.angular, d)), top(pointAt(accuracyDrop.magnitude, d))),
  );
  const yMaxB = axisMax(groupTops, 1.2);
  const stars = deltasB.map((d, i) => {
    const p = input.accuracyP.find((q) => q.delta === d);
    if (!p) throw new RangeError(`figure1: no p-value for δ = ${d}`);
    return {
      text: significanceStars(p.p),
      x: categories[i],
      y: groupTops[i] + 0.04 * yMaxB,
      xref: 'x2',
      yref: 'y2',
      yanchor: 'bottom',
      showarrow: false,
      font: { size: 14 },
    };
  });

  const layout = twoPanelLayout(size.width, size.height);
  Object.assign(layout.xaxis as object, {
    title: { text: 'Per-layer displacement δ (L2)' },
    range: [0, Math.max(...deltasA) + 1],
  });
  Object.assign(layout.yaxis as object, { title: { text: 'Loss damage (nats)' }, range: [0, yMaxA] });
  Object.assign(layout.xaxis2 as object, { title: { text: 'Perturbation size' } });
  Object.assign(layout.yaxis2 as object, { title: { text: 'BLiMP accuracy drop (pp)' }, range: [0, yMaxB] });
  return {
    data: [...lineTraces, ...barTraces],
    layout: {
      ...layout,
      barmode: 'group',
      annotations: [panelLabel('A', 0), panelLabel('B', 0.56), ...ratioLabels, ...stars],
    },
  };
}
