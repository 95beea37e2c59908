import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  figure1,
  figure2,
  figure3,
  exportFigure,
  exportFigures,
  displayFigure,
  PLOTLY_MIME,
  plotlySource,
  type MimeBundle,
  chromiumPath,
  significanceStars,
  formatRatio,
  MODE_COLORS,
  type DeltaPoint,
  type PlotlyFigure,
} from '../lib/src/plots';

type Obj = Record<string, any>;
const pts = (deltas: number[], means: number[], std = 0.1): DeltaPoint[] =>
  deltas.map((delta, i) => ({ delta, mean: means[i], std }));

// Synthetic data (round numbers so that the expected ranges/labels can be checked by hand).
const input1 = {
  damage: { angular: pts([1, 2, 10], [2, 4, 8]), magnitude: pts([1, 2, 10], [0.1, 1, 4]) },
  ratioLabelDeltas: [1, 10],
  accuracyDrop: { angular: pts([5, 10], [2, 10], 1), magnitude: pts([5, 10], [20, 30], 2) },
  accuracyP: [
    { delta: 5, p: 0.0005 },
    { delta: 10, p: 0.2 },
  ],
};

test('helpers: stars and ratio labels', () => {
  assert.deepEqual([0.0009, 0.001, 0.009, 0.049, 0.05].map(significanceStars), ['***', '**', '**', '*', 'n.s.']);
  assert.deepEqual([42.87, 5.37, 0.2].map(formatRatio), ['43×', '5.4×', '0.2×']);
});

test('figure1: traces, colours, symbols, ranges, ratio labels and stars from the data', () => {
  const { data, layout } = figure1(input1) as { data: Obj[]; layout: Obj };
  assert.deepEqual(
    data.map((t) => [t.type, t.name, t.xaxis]),
    [
      ['scatter', 'Angular', 'x'],
      ['scatter', 'Magnitude', 'x'],
      ['bar', 'Magnitude', 'x2'],
      ['bar', 'Angular', 'x2'],
    ],
  );
  assert.equal(data[0].marker.color, '#E74C3C');
  assert.equal(data[0].marker.symbol, 'circle');
  assert.equal(data[1].marker.color, '#3498DB');
  assert.equal(data[1].marker.symbol, 'square');
  assert.deepEqual(data[0].x, [1, 2, 10]);
  assert.deepEqual(data[0].error_y.array, [0.1, 0.1, 0.1]);
  assert.deepEqual(data[2].x, ['δ=5', 'δ=10']);
  assert.deepEqual(data[2].y, [20, 30]);
  assert.deepEqual(layout.xaxis.range, [0, 11]); // max δ + 1
  assert.deepEqual(layout.yaxis.range, [0, 9]); // ceil(1.1 · (8 + 0.1))
  assert.deepEqual(layout.yaxis2.range, [0, 39]); // ceil(1.2 · (30 + 2))
  const texts = layout.annotations.map((a: Obj) => a.text);
  assert.deepEqual(texts, ['<b>A</b>', '<b>B</b>', '20×', '2.0×', '***', 'n.s.']);
  assert.throws(() => figure1({ ...input1, accuracyP: [] }), /no p-value for δ = 5/);
  assert.throws(() => figure1({ ...input1, ratioLabelDeltas: [3] }), /δ = 3/);
});

test('figure2: repair bars, computed recovery annotations, layer-set bars and bracket', () => {
  const fig = figure2({
    repair: {
      // labels: the given mean of per-seed recoveries (27.6, 4.4), not 100·(U − R)/U of the means (25, 10)
      angular: { unrepaired: { mean: 4, std: 0.1 }, repaired: { mean: 3, std: 0.1 }, recovery: 27.6 },
      magnitude: { unrepaired: { mean: 1, std: 0.05 }, repaired: { mean: 0.9, std: 0.05 }, recovery: 4.4 },
    },
    layerSets: [
      { label: 'Top 4', mean: 25, std: 1 },
      { label: 'Bottom 4', mean: 5, std: 1 },
    ],
    bracket: { from: 'Top 4', to: 'Bottom 4', p: 3e-5 },
  }) as { data: Obj[]; layout: Obj };
  assert.deepEqual(
    fig.data.map((t) => t.name),
    ['Unrepaired', 'Attn repaired', 'Recovery'],
  );
  assert.deepEqual(fig.data[0].marker.color, [MODE_COLORS.angular, MODE_COLORS.magnitude]);
  assert.deepEqual(fig.data[1].y, [3, 0.9]);
  assert.deepEqual(fig.data[2].text, ['25.0%', '5.0%']);
  const texts = fig.layout.annotations.map((a: Obj) => a.text);
  assert.deepEqual(texts, ['<b>A</b>', '<b>B</b>', '−28%', '−4%', 'p < 0.0001']);
  assert.deepEqual(fig.layout.yaxis.range, [0, 6]); // ceil(1.25 · 4.1)
  assert.deepEqual(fig.layout.yaxis2.range, [0, 36]); // ceil(1.35 · 26)
  assert.equal(fig.layout.shapes.length, 3);
});

test('figure3: log-scale computed ratios per model and recovery bars', () => {
  const fig = figure3({
    ratioDeltas: [2, 5],
    models: [
      {
        name: 'A-410M',
        damage: { angular: pts([2, 5], [1, 4]), magnitude: pts([2, 5], [0.02, 1]) },
        recovery: { angular: { mean: 28, std: 1 }, magnitude: { mean: -5, std: 1 } },
      },
      { name: 'B-1B', damage: { angular: pts([2, 5], [0.5, 2]), magnitude: pts([2, 5], [1, 1]) } },
    ],
  }) as { data: Obj[]; layout: Obj };
  assert.deepEqual(
    fig.data.map((t) => t.name),
    ['A-410M', 'B-1B', 'Angular', 'Magnitude'],
  );
  assert.deepEqual(fig.data[0].y, [1 / (0.02 + 1e-8), 4 / (1 + 1e-8)]); // mean_ang/(mean_mag + 1e-8)
  assert.deepEqual(fig.data[0].text, ['50×', '4.0×']);
  assert.deepEqual(fig.data[1].text, ['0.5×', '2.0×']);
  assert.equal(fig.layout.yaxis.type, 'log');
  assert.deepEqual(fig.layout.yaxis.range, [-1, 2]); // floor(log10 0.5), ceil(log10 75)
  assert.deepEqual(fig.data[2].x, ['A-410M']); // only models with recovery
  assert.equal(fig.data[3].marker.color, MODE_COLORS.magnitude);
  assert.deepEqual(fig.layout.yaxis2.range, [-8, 35]);
});

const haveChromium = existsSync(chromiumPath());

test(
  'export: SVG/PDF/PNG written, byte-identical across two exports',
  { skip: !haveChromium && `no Chromium at ${chromiumPath()}` },
  async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dirmag-plots-'));
    const fig = figure1(input1);
    const small = { width: 640, height: 300, scale: 1 };
    await exportFigures(
      [
        { figure: fig, basePath: join(dir, 'one/f1') },
        { figure: fig, basePath: join(dir, 'one/f1copy') },
      ],
      small,
    );
    const written = await exportFigure(fig, join(dir, 'two/f1'), small);
    assert.deepEqual(
      written,
      ['svg', 'pdf', 'png'].map((f) => join(dir, `two/f1.${f}`)),
    );
    for (const ext of ['svg', 'pdf', 'png']) {
      const a = readFileSync(join(dir, `one/f1.${ext}`));
      assert.ok(a.length > 1000, `${ext} too small`);
      assert.ok(a.equals(readFileSync(join(dir, `one/f1copy.${ext}`))), `${ext} differs within a batch`);
      assert.ok(a.equals(readFileSync(join(dir, `two/f1.${ext}`))), `${ext} differs across browser sessions`);
    }
    assert.ok(readFileSync(join(dir, 'one/f1.svg'), 'utf8').startsWith('<svg'));
    assert.equal(readFileSync(join(dir, 'one/f1.pdf')).subarray(0, 4).toString('latin1'), '%PDF');
    assert.deepEqual(
      [...readFileSync(join(dir, 'one/f1.png')).subarray(0, 8)],
      [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a],
    );
    assert.match(readFileSync(join(dir, 'one/f1.pdf')).toString('latin1'), /\/CreationDate \(D:20000101000000/);
  },
);

test('export: missing browser gives one clear line naming the path and the fix', async () => {
  const saved = process.env.CHROMIUM_PATH;
  process.env.CHROMIUM_PATH = '/nonexistent/chromium';
  try {
    await assert.rejects(exportFigure(figure1(input1), join(tmpdir(), 'never')), (err: Error) => {
      assert.equal(
        err.message,
        'Chromium not found at /nonexistent/chromium: install it with `apt-get install -y chromium` or set CHROMIUM_PATH to a Chromium/Chrome executable',
      );
      return true;
    });
  } finally {
    if (saved === undefined) delete process.env.CHROMIUM_PATH;
    else process.env.CHROMIUM_PATH = saved;
  }
});

test('displayFigure: one MIME bundle (plotly JSON, HTML with the PNG inside, PNG, one text line)', async () => {
  const fig: PlotlyFigure = figure1(input1);
  assert.equal(await displayFigure(fig), undefined); // not under a tslab kernel: a no-op, and no value to print
  const shown: MimeBundle[] = [];
  const write = (b: MimeBundle) => void shown.push(b);
  await displayFigure(fig, { write, png: haveChromium });
  await displayFigure(fig, { write, png: haveChromium });
  assert.equal(shown.length, 2);
  const [first, second] = shown;
  assert.deepEqual(
    Object.keys(first).sort(),
    [PLOTLY_MIME, 'text/html', 'text/plain', ...(haveChromium ? ['image/png'] : [])].sort(),
  );
  assert.deepEqual((first[PLOTLY_MIME] as PlotlyFigure).data, fig.data);
  assert.match(first['text/plain'] as string, /^Figure.*static image otherwise\)$/);
  assert.ok(!(first['text/plain'] as string).includes('Plotly'));
  // plotly's code (offline, from node_modules) goes out with the first figure only
  const bundleHead = plotlySource().slice(0, 200);
  assert.ok((first['text/html'] as string).includes(bundleHead) && (first['text/html'] as string).length > 1_000_000);
  assert.ok(!(second['text/html'] as string).includes(bundleHead));
  assert.ok(
    (second['text/html'] as string).length < 200_000,
    `second figure's HTML is ${(second['text/html'] as string).length} chars`,
  );
  assert.match(second['text/html'] as string, /window\.Plotly\.newPlot\(gd, /);
  if (haveChromium) {
    const png = Buffer.from(first['image/png'] as string, 'base64');
    assert.equal(png.subarray(1, 4).toString('latin1'), 'PNG');
    assert.ok((first['text/html'] as string).includes(`src="data:image/png;base64,${first['image/png']}"`));
  }
  // ids differ between outputs (saved outputs and re-executed ones never collide)
  const id = (h: string) => /id="([^"]+)"/.exec(h)![1];
  assert.notEqual(id(first['text/html'] as string), id(second['text/html'] as string));
});

test('figure3: ratios ≤ 0 get no bar on the log axis, a label, and a finite range', () => {
  const pt = (delta: number, mean: number) => ({ delta, mean, std: 0 });
  const fig = figure3({
    models: [{ name: 'tiny', damage: { angular: [pt(2, -0.02), pt(5, 0.3)], magnitude: [pt(2, 0.01), pt(5, 0.1)] } }],
    ratioDeltas: [2, 5],
  });
  const bars = fig.data[0] as { y: (number | null)[]; text: string[] };
  assert.equal(bars.y[0], null);
  assert.equal(bars.text[0], 'ratio ≤ 0');
  assert.ok(Math.abs((bars.y[1] as number) - 3) < 1e-6);
  const range = (fig.layout as Record<string, { range: number[] }>).yaxis.range;
  assert.ok(range.every(Number.isFinite), `range ${range}`);
});
