/** Figure 2 (EXPERIMENTS.md §3): attention repair (E4) and layer-set specificity (E5/E6). */
import {
  axisMax,
  errorY,
  formatP,
  MODE_COLORS,
  MODE_LABELS,
  panelLabel,
  top,
  twoPanelLayout,
  type MeanStd,
  type Mode,
  type PlotlyFigure,
} from './common';

export interface Figure2Input {
  /**
   * A: loss damage (nats) without and with attention repair, per mode (mean ± std over seeds), and
   * the recovery % of the "−x%" label: the mean of the per-seed recoveries (E4's, as the original's
   * "−28%"), not a ratio of the mean damages.
   */
  repair: Readonly<Record<Mode, { unrepaired: MeanStd; repaired: MeanStd; recovery: number }>>;
  /** B: recovery % per repaired layer set (e.g. "Top 4 (12-15)"), mean ± std. */
  layerSets: readonly ({ label: string } & MeanStd)[];
  /** B: optional significance bracket between two layer sets. */
  bracket?: { from: string; to: string; p: number };
}

/** The "−x%" label of panel A: the given recovery (mean of per-seed recoveries, %), rounded. */
export function recoveryLabel(recovery: number): string {
  return `${recovery >= 0 ? '−' : '+'}${Math.abs(Math.round(recovery))}%`;
}

export function figure2(input: Figure2Input, size = { width: 1000, height: 420 }): PlotlyFigure {
  const modes: Mode[] = ['angular', 'magnitude'];
  const categories = modes.map((m) => MODE_LABELS[m]);
  const colors = modes.map((m) => MODE_COLORS[m]);
  const states = [
    { key: 'unrepaired', name: 'Unrepaired', marker: { color: colors, opacity: 1 } },
    { key: 'repaired', name: 'Attn repaired', marker: { color: colors, opacity: 0.45, pattern: { shape: '/' } } },
  ] as const;
  const repairTraces = states.map((s) => {
    const pts = modes.map((m) => input.repair[m][s.key]);
    return {
      type: 'bar',
      name: s.name,
      xaxis: 'x',
      yaxis: 'y',
      x: categories,
      y: pts.map((p) => p.mean),
      error_y: errorY(pts, '#333333'),
      marker: s.marker,
    };
  });
  const tops = modes.map((m) => Math.max(top(input.repair[m].unrepaired), top(input.repair[m].repaired)));
  const yMaxA = axisMax(tops, 1.25);
  const recoveryNotes = modes.map((m, i) => ({
    text: recoveryLabel(input.repair[m].recovery),
    x: categories[i],
    y: tops[i] + 0.04 * yMaxA,
    xref: 'x',
    yref: 'y',
    yanchor: 'bottom',
    showarrow: false,
    font: { size: 13 },
  }));

  const sets = input.layerSets;
  const setTrace = {
    type: 'bar',
    name: 'Recovery',
    showlegend: false,
    xaxis: 'x2',
    yaxis: 'y2',
    x: sets.map((s) => s.label),
    y: sets.map((s) => s.mean),
    error_y: errorY(sets, '#333333'),
    marker: { color: MODE_COLORS.angular },
    text: sets.map((s) => `${s.mean.toFixed(1)}%`),
    textposition: 'outside',
    cliponaxis: false,
  };
  const setTop = Math.max(...sets.map(top));
  const yMaxB = axisMax([setTop], input.bracket ? 1.35 : 1.15);
  const shapes: Record<string, unknown>[] = [];
  const bracketNotes: Record<string, unknown>[] = [];
  if (input.bracket) {
    const { from, to, p } = input.bracket;
    for (const label of [from, to])
      if (!sets.some((s) => s.label === label)) throw new RangeError(`figure2: unknown layer set "${label}"`);
    const y = setTop + 0.15 * yMaxB;
    const line = { type: 'line', xref: 'x2', yref: 'y2', line: { color: '#333333', width: 1 } };
    shapes.push(
      { ...line, x0: from, x1: to, y0: y, y1: y },
      { ...line, x0: from, x1: from, y0: y - 0.03 * yMaxB, y1: y },
      { ...line, x0: to, x1: to, y0: y - 0.03 * yMaxB, y1: y },
    );
    bracketNotes.push({
      text: formatP(p),
      x: 0.5 * (sets.findIndex((s) => s.label === from) + sets.findIndex((s) => s.label === to)),
      y,
      xref: 'x2',
      yref: 'y2',
      yanchor: 'bottom',
      showarrow: false,
    });
  }

  const layout = twoPanelLayout(size.width, size.height);
  Object.assign(layout.yaxis as object, { title: { text: 'Loss damage (nats)' }, range: [0, yMaxA] });
  Object.assign(layout.yaxis2 as object, { title: { text: 'Recovery (%)' }, range: [0, yMaxB] });
  return {
    data: [...repairTraces, setTrace],
    layout: {
      ...layout,
      barmode: 'group',
      shapes,
      annotations: [panelLabel('A', 0), panelLabel('B', 0.56), ...recoveryNotes, ...bracketNotes],
    },
  };
}
