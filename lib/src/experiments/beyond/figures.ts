/** Figures of the "beyond" experiments (issue 9), as plotly specs in lib/src/plots' style. */
import { LABEL_GREY, MODE_COLORS, panelLabel, twoPanelLayout, type PlotlyFigure } from '../../plots/common';
import type { NormViewSummary } from './norm-view';
import type { InterferenceSummary, InterferenceTarget } from './interference';
import type { ContrastSummary } from './contrast';

const DASHES = ['dot', 'dash', 'solid', 'dashdot', 'longdash'];
export const TARGET_COLORS: Readonly<Record<InterferenceTarget, string>> = {
  resid_pre: '#2C3E50',
  ln1_out: '#8E44AD',
  q: '#27AE60',
  k: '#E67E22',
  v: '#16A085',
};
export const TARGET_LABELS: Readonly<Record<InterferenceTarget, string>> = {
  resid_pre: 'resid_pre (through ln1)',
  ln1_out: 'ln1 output',
  q: 'query',
  k: 'key',
  v: 'value',
};

/** B1: A — clean ‖resid_pre‖ and √D·ln1 scale per layer; B — survival of magnitude vs angle perturbations through ln1. */
export function normViewFigure(s: NormViewSummary, dModel: number, size = { width: 1000, height: 420 }): PlotlyFigure {
  const L = s.clean.map((c) => c.layer);
  const norms = [
    {
      type: 'scatter',
      mode: 'lines+markers',
      name: '‖resid_pre‖ (mean)',
      x: L,
      y: s.clean.map((c) => c.normMean),
      xaxis: 'x',
      yaxis: 'y',
      line: { color: '#2C3E50', width: 2 },
    },
    {
      type: 'scatter',
      mode: 'lines+markers',
      name: '√D · ln1 scale',
      x: L,
      y: s.clean.map((c) => Math.sqrt(dModel) * c.scaleMean),
      xaxis: 'x',
      yaxis: 'y',
      line: { color: LABEL_GREY, width: 2, dash: 'dash' },
    },
  ];
  const surv: Record<string, unknown>[] = [];
  const ops = Object.keys(s.perturb);
  for (const op of ops) {
    const color = op === 'magnitude' ? MODE_COLORS.magnitude : MODE_COLORS.angular;
    Object.entries(s.perturb[op]).forEach(([kappa, rows], i) =>
      surv.push({
        type: 'scatter',
        mode: 'lines+markers',
        name: `${op === 'magnitude' ? 'Magnitude' : 'Angle'} κ=${kappa}`,
        x: rows.map((r) => r.layer),
        y: rows.map((r) => r.survival),
        xaxis: 'x2',
        yaxis: 'y2',
        line: { color, width: 2, dash: DASHES[i % DASHES.length] },
        marker: { color, size: 6 },
      }),
    );
  }
  const layout = twoPanelLayout(size.width, size.height);
  Object.assign(layout.xaxis as object, { title: { text: 'Layer' }, dtick: 1 });
  Object.assign(layout.yaxis as object, { title: { text: 'Norm' }, rangemode: 'tozero' });
  Object.assign(layout.xaxis2 as object, { title: { text: 'Layer (perturbed at resid_pre)' }, dtick: 1 });
  Object.assign(layout.yaxis2 as object, {
    title: { text: 'Surviving share: rel. change after ln1 / before' },
    rangemode: 'tozero',
  });
  return {
    data: [...norms, ...surv],
    layout: {
      ...layout,
      title: { text: `${s.model} (${s.norm === 'layernorm' ? 'LayerNorm' : 'RMSNorm'})`, x: 0.5, font: { size: 13 } },
      annotations: [panelLabel('A', 0), panelLabel('B', 0.56)],
    },
  };
}

/** B2: A — local argmax switch rate vs ε per target; B — downstream switch rate vs ε. */
export function interferenceFigure(
  s: InterferenceSummary,
  title = '',
  size = { width: 1000, height: 420 },
): PlotlyFigure {
  const traces: Record<string, unknown>[] = [];
  for (const target of s.targets) {
    const cs = s.curves.filter((c) => c.target === target).sort((a, b) => a.eps - b.eps);
    const base = {
      type: 'scatter',
      mode: 'lines+markers',
      legendgroup: target,
      line: { color: TARGET_COLORS[target], width: 2 },
      marker: { color: TARGET_COLORS[target], size: 7 },
    };
    traces.push({
      ...base,
      name: TARGET_LABELS[target],
      x: cs.map((c) => 100 * c.eps),
      y: cs.map((c) => 100 * c.local),
      xaxis: 'x',
      yaxis: 'y',
    });
    traces.push({
      ...base,
      name: TARGET_LABELS[target],
      showlegend: false,
      x: cs.map((c) => 100 * c.eps),
      y: cs.map((c) => 100 * c.downstream),
      xaxis: 'x2',
      yaxis: 'y2',
    });
  }
  const layout = twoPanelLayout(size.width, size.height);
  Object.assign(layout.xaxis as object, { title: { text: 'Norm perturbation ε (%)' } });
  Object.assign(layout.yaxis as object, { title: { text: 'Argmax switches, same layer (%)' }, rangemode: 'tozero' });
  Object.assign(layout.xaxis2 as object, { title: { text: 'Norm perturbation ε (%)' } });
  Object.assign(layout.yaxis2 as object, { title: { text: 'Argmax switches, later layers (%)' }, rangemode: 'tozero' });
  return {
    data: traces,
    layout: {
      ...layout,
      title: { text: title, x: 0.5, font: { size: 13 } },
      annotations: [panelLabel('A', 0), panelLabel('B', 0.56)],
    },
  };
}

/** B2: local switch rate per (layer, head) for one target at one ε. */
export function interferenceHeatmap(
  s: InterferenceSummary,
  target: InterferenceTarget,
  eps: number,
  size = { width: 560, height: 380 },
): PlotlyFigure {
  const z = s.heads[target]?.[String(eps)];
  if (!z) throw new RangeError(`no ${target} results at ε = ${eps}`);
  return {
    data: [
      {
        type: 'heatmap',
        z: z.map((row) => row.map((v) => 100 * v)),
        x: z[0].map((_, h) => h),
        y: s.layers,
        colorscale: 'Viridis',
        zmin: 0,
        colorbar: { title: { text: '%' } },
      },
    ],
    layout: {
      width: size.width,
      height: size.height,
      paper_bgcolor: 'white',
      margin: { l: 60, r: 20, t: 50, b: 50 },
      title: { text: `Argmax switches: ${TARGET_LABELS[target]}, ε = ${100 * eps}%`, x: 0.5, font: { size: 13 } },
      xaxis: { title: { text: 'Head' }, dtick: 1 },
      yaxis: { title: { text: 'Layer' }, dtick: 1, autorange: 'reversed' },
    },
  };
}

/** B3: A — cosine of the set means per layer; B — norm and per-feature variance per layer (log scale). */
export function contrastFigure(s: ContrastSummary, title = '', size = { width: 1000, height: 420 }): PlotlyFigure {
  const traces: Record<string, unknown>[] = [];
  const colors: Record<string, string> = { resid_pre: '#2C3E50', resid_mid: '#E67E22' };
  for (const [hook, rows] of Object.entries(s.byHook)) {
    const c = colors[hook];
    const x = rows!.map((r) => r.layer);
    traces.push({
      type: 'scatter',
      mode: 'lines+markers',
      name: `${hook}: cos(μ_A, μ_B)`,
      x,
      y: rows!.map((r) => r.cosMeans),
      xaxis: 'x',
      yaxis: 'y',
      line: { color: c, width: 2 },
    });
    traces.push({
      type: 'scatter',
      mode: 'lines+markers',
      name: `${hook}: mean ‖h‖`,
      x,
      y: rows!.map((r) => r.norm),
      xaxis: 'x2',
      yaxis: 'y2',
      line: { color: c, width: 2 },
    });
    traces.push({
      type: 'scatter',
      mode: 'lines',
      name: `${hook}: max feature var`,
      x,
      y: rows!.map((r) => r.varMax),
      xaxis: 'x2',
      yaxis: 'y2',
      line: { color: c, width: 1.5, dash: 'dash' },
    });
    traces.push({
      type: 'scatter',
      mode: 'lines',
      name: `${hook}: mean feature var`,
      x,
      y: rows!.map((r) => r.varMean),
      xaxis: 'x2',
      yaxis: 'y2',
      line: { color: c, width: 1.5, dash: 'dot' },
    });
  }
  const layout = twoPanelLayout(size.width, size.height);
  Object.assign(layout.xaxis as object, { title: { text: 'Layer (last = final resid_post)' }, dtick: 1 });
  Object.assign(layout.yaxis as object, { title: { text: `cos(mean ${s.labelA}, mean ${s.labelB})` } });
  Object.assign(layout.xaxis2 as object, { title: { text: 'Layer' }, dtick: 1 });
  Object.assign(layout.yaxis2 as object, { title: { text: 'Norm / variance (log)' }, type: 'log' });
  return {
    data: traces,
    layout: {
      ...layout,
      title: { text: title, x: 0.5, font: { size: 13 } },
      annotations: [panelLabel('A', 0), panelLabel('B', 0.56)],
    },
  };
}
