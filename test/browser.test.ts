/**
 * The notebooks as a reader meets them: a Jupyter server started here (Debian's classic `jupyter notebook`)
 * with the project's tslab kernel, headless Chromium (playwright-core) opening the Figure 1 notebook and a
 * beyond-the-paper notebook on the small CI model, running all cells, and checking what the page shows:
 * an interactive plotly figure with traces, rendered tables, no plotly source printed as text, no error.
 * Then the saved notebook is reopened untrusted and must show the static image instead. The claims recap
 * and the paper tables (17, 18: tables only) must run clean and render their tables.
 * Screenshots go to test-artifacts/browser/ (gitignored). Needs `npm run build` (npm test does it),
 * Jupyter's notebook server and Chromium: when one is missing this FAILS with the install hint.
 */
import './test-data';
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { ciEnvironment } from '../lib/src/notebooks/ci';
import { startNotebookServer, type NotebookServer } from '../lib/src/notebooks/server';
import { CHROMIUM_ARGS, chromiumPath } from '../lib/src/plots';

const ROOT = path.resolve(__dirname, '..');
const ARTIFACTS = path.join(ROOT, 'test-artifacts', 'browser');
// served copies live inside the repo so that the kernel resolves `dirmag` from the repo's node_modules
const WORK = path.join(ARTIFACTS, 'notebooks');
const FIGURE_NOTEBOOKS = ['07_figure1.ipynb', '30_what_components_see.ipynb'];
/** notebooks without figures, and the fewest rendered tables each must show */
const TABLE_NOTEBOOKS: Record<string, number> = { '17_claims_recap.ipynb': 5, '18_paper_tables.ipynb': 4 };
const NOTEBOOKS = [...FIGURE_NOTEBOOKS, ...Object.keys(TABLE_NOTEBOOKS)];
const RUN_TIMEOUT_MS = Number(process.env.DIRMAG_NOTEBOOK_TIMEOUT ?? 600) * 1000;

let server: NotebookServer | undefined;
let context: BrowserContext | undefined;
let profile: string | undefined;

after(async () => {
  await context?.close();
  await server?.stop();
  if (profile) fs.rmSync(profile, { recursive: true, force: true });
});

async function setup(): Promise<{ server: NotebookServer; context: BrowserContext }> {
  if (server && context) return { server, context };
  assert.ok(fs.existsSync(chromiumPath()), `Chromium not found at ${chromiumPath()}: apt-get install -y chromium`);
  fs.rmSync(ARTIFACTS, { recursive: true, force: true });
  fs.mkdirSync(WORK, { recursive: true });
  const outRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'dirmag-browser-'));
  const env: Record<string, string> = {};
  for (const name of NOTEBOOKS) {
    const src = path.join(ROOT, 'notebooks', name);
    fs.copyFileSync(src, path.join(WORK, name));
    Object.assign(env, ciEnvironment(src, outRoot)); // all these notebooks use the default CI model
  }
  server = await startNotebookServer({ root: WORK, repoRoot: ROOT, env, ui: 'notebook' });
  profile = fs.mkdtempSync(path.join(os.tmpdir(), 'dirmag-chromium-'));
  // a fresh profile (launchPersistentContext passes it as --user-data-dir)
  context = await chromium.launchPersistentContext(profile, {
    executablePath: chromiumPath(),
    args: CHROMIUM_ARGS,
    viewport: { width: 1280, height: 900 },
  });
  return { server, context };
}

interface PageReport {
  codeCells: number;
  unfinished: number[];
  errors: string[];
  plots: Array<{ traces: number; drawn: number }>;
  tables: number;
  staticImages: number;
  longestText: number;
  plotlySourceInText: boolean;
}

// In-page code is plain strings (the test's tsconfig has no DOM types, and no transpiler helper may leak in).
const READ_PAGE = `(() => {
  const cells = Jupyter.notebook.get_cells().filter((c) => c.cell_type === 'code');
  const unfinished = [];
  cells.forEach((c, i) => { if (typeof c.input_prompt_number !== 'number') unfinished.push(i); });
  const errors = [...document.querySelectorAll('.output_stderr, .output_error')].map((e) => e.innerText.slice(0, 500));
  const plots = [...document.querySelectorAll('.js-plotly-plot')].map((el) => ({
    traces: (el.data || []).length,
    drawn: el.querySelectorAll('.trace, .hm, .imagelayer image').length,
  }));
  const tables = [...document.querySelectorAll('.output_area table')].filter((t) => t.querySelectorAll('tr').length > 1).length;
  const staticImages = document.querySelectorAll('.dirmag-figure img').length;
  const texts = [...document.querySelectorAll('.output_text, .output_stdout, .output_subarea pre')].map((e) => e.innerText);
  return {
    codeCells: cells.length, unfinished, errors, plots, tables, staticImages,
    longestText: Math.max(0, ...texts.map((t) => t.length)),
    plotlySourceInText: texts.some((t) => /plotly\\.js v\\d|Plotly\\.newPlot|Copyright 2012-\\d+, Plotly/.test(t)),
  };
})()`;

const RUN_STATE = `(() => {
  const cells = Jupyter.notebook.get_cells().filter((c) => c.cell_type === 'code');
  return {
    busy: cells.some((c) => c.input_prompt_number === '*'),
    done: cells.every((c) => typeof c.input_prompt_number === 'number'),
    errored: document.querySelectorAll('.output_stderr, .output_error').length > 0,
  };
})()`;

const KERNEL_READY = `(() => { const k = window.Jupyter && Jupyter.notebook && Jupyter.notebook.kernel;
  return !!(k && k.is_connected()); })()`;

const UNTRUSTED_VIEW = `(() => ({
  trusted: Jupyter.notebook.trusted,
  plots: document.querySelectorAll('.js-plotly-plot').length,
  images: [...document.querySelectorAll('.dirmag-figure img')].filter((i) => i.complete && i.naturalWidth > 0).length,
}))()`;

async function openNotebook(page: Page, url: string, server: NotebookServer): Promise<void> {
  await page.goto(url);
  try {
    await page.waitForFunction(KERNEL_READY, undefined, { timeout: 120_000 });
  } catch (e) {
    await page.screenshot({ path: path.join(ARTIFACTS, 'kernel-not-ready.png'), fullPage: true });
    throw new Error(`${(e as Error).message}\nserver log:\n${server.log().slice(-4000)}`);
  }
}

async function runAll(page: Page, name: string): Promise<PageReport> {
  await page.evaluate('Jupyter.notebook.execute_all_cells()');
  const t0 = Date.now();
  for (;;) {
    const state = (await page.evaluate(RUN_STATE)) as { busy: boolean; done: boolean; errored: boolean };
    if (state.done || state.errored || (!state.busy && Date.now() - t0 > 5000)) break;
    assert.ok(Date.now() - t0 < RUN_TIMEOUT_MS, `${name}: cells still running after ${RUN_TIMEOUT_MS / 1000} s`);
    await page.waitForTimeout(500);
  }
  await page.waitForTimeout(1500); // figure scripts draw after the output is appended
  return (await page.evaluate(READ_PAGE)) as PageReport;
}

/**
 * Opens `name` in a new page, runs every cell and screenshots the page; asserts what every notebook
 * must show (no errored or unfinished cell, no plotly source as text, no huge text output, no page
 * error). Returns the page (closed by the caller), what was read from it and the server.
 */
async function runClean(name: string) {
  const { server, context } = await setup();
  const page = await context.newPage();
  const consoleErrors: string[] = [];
  page.on('pageerror', (e) => consoleErrors.push(e.message));
  try {
    await openNotebook(page, server.notebookUrl(name), server);
    const r = await runAll(page, name);
    await page.screenshot({ path: path.join(ARTIFACTS, `${path.basename(name, '.ipynb')}.png`), fullPage: true });
    assert.deepEqual(r.errors, [], `${name}: a cell errored`);
    assert.deepEqual(r.unfinished, [], `${name}: code cells that did not finish (of ${r.codeCells})`);
    assert.equal(r.plotlySourceInText, false, `${name}: an output shows plotly's source as text`);
    assert.ok(r.longestText < 20_000, `${name}: a text output of ${r.longestText} characters`);
    assert.deepEqual(consoleErrors, [], `${name}: page errors`);
    return { page, r, server };
  } catch (e) {
    await page.close();
    throw e;
  }
}

for (const name of FIGURE_NOTEBOOKS) {
  test(`browser: ${name} runs in jupyter notebook and shows its figure and tables`, async () => {
    const { page, r, server } = await runClean(name);
    try {
      const stem = path.basename(name, '.ipynb');
      const plot = page.locator('.js-plotly-plot').first();
      if ((await plot.count()) > 0) await plot.screenshot({ path: path.join(ARTIFACTS, `${stem}-figure.png`) });
      assert.ok(r.plots.length >= 1, `${name}: no .js-plotly-plot in the page`);
      for (const p of r.plots)
        assert.ok(p.traces > 0 && p.drawn > 0, `${name}: a plot without traces: ${JSON.stringify(p)}`);
      assert.equal(r.staticImages, 0, `${name}: the static image is still shown in a trusted, freshly run notebook`);
      assert.ok(r.tables >= 1, `${name}: no rendered table`);

      // save, then reopen a copy the server has never signed: untrusted, so scripts do not run
      await page.evaluate('Jupyter.notebook.save_notebook()');
      await page.waitForFunction('!Jupyter.notebook.dirty');
      const saved = JSON.parse(fs.readFileSync(path.join(WORK, name), 'utf8'));
      saved.metadata.dirmag = { ...saved.metadata.dirmag, untrusted_copy: true };
      const copy = `${stem}-untrusted.ipynb`;
      fs.writeFileSync(path.join(WORK, copy), JSON.stringify(saved));
      await page.goto(server.notebookUrl(copy));
      await page.waitForFunction('!!(window.Jupyter && Jupyter.notebook && Jupyter.notebook._fully_loaded)');
      await page.waitForTimeout(1000);
      const u = (await page.evaluate(UNTRUSTED_VIEW)) as { trusted: boolean; plots: number; images: number };
      await page.screenshot({ path: path.join(ARTIFACTS, `${stem}-untrusted.png`), fullPage: true });
      assert.equal(u.trusted, false);
      assert.equal(u.plots, 0, `${name}: scripts ran in an untrusted notebook`);
      assert.equal(
        u.images,
        r.plots.length,
        `${name}: untrusted view shows ${u.images} static images for ${r.plots.length} figures`,
      );
    } finally {
      await page.close();
    }
  });
}

for (const [name, minTables] of Object.entries(TABLE_NOTEBOOKS)) {
  test(`browser: ${name} runs in jupyter notebook and renders its tables`, async () => {
    const { page, r } = await runClean(name);
    try {
      assert.ok(r.tables >= minTables, `${name}: ${r.tables} rendered tables, expected at least ${minTables}`);
    } finally {
      await page.close();
    }
  });
}
