/** Headless notebook execution: nbconvert + the project-local tslab kernel. */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { findJupyter } from './jupyter';
import { jupyterDataDir, KERNEL_NAME, writeKernelSpec } from './kernel';
import { findRepoRoot } from '../util/paths';

export interface ExecuteOptions {
  /** where the executed copy goes (default: `<notebook dir>/executed`) */
  outDir?: string;
  /** per-cell timeout in seconds (nbconvert's ExecutePreprocessor.timeout); default 600 */
  timeoutSec?: number;
  /** extra environment for nbconvert and the kernel */
  env?: Record<string, string | undefined>;
  /** repository root (default: found from the notebook's folder) */
  repoRoot?: string;
}

export interface ExecuteResult {
  ok: boolean;
  /** the executed copy (written when ok; absent on failure, nbconvert writes nothing then) */
  outputPath: string;
  seconds: number;
  /** the failing cell's error (source and message), or nbconvert's own failure */
  error?: string;
}

export const DEFAULT_TIMEOUT_SEC = 600;

// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;?]*[A-Za-z]/g;

export function stripAnsi(text: string): string {
  return text.replace(ANSI, '');
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((l) => `    ${l}`)
    .join('\n');
}

const CELL_ERROR_MARK = '[dirmag-cell-error]';

/**
 * nbconvert config loaded with `--config`: an nbclient on_cell_error hook that prints the failing cell's
 * stderr/error outputs as one JSON line. tslab sends compile and runtime errors as stderr stream output
 * and an execute_reply with no ename/evalue, so nbclient's own CellExecutionError message is empty,
 * and nbconvert writes no notebook on failure. (nbclient < 0.6 has no hooks and ignores this.)
 */
const NBCONVERT_CONFIG = `# written by dirmag (lib/src/notebooks/execute.ts); regenerated on every run
import json, sys

def _dirmag_on_cell_error(cell=None, cell_index=None, execute_reply=None, **kwargs):
    err = []
    info = {}
    for o in (cell or {}).get("outputs", []):
        if o.get("output_type") == "stream" and o.get("name") == "stderr":
            err.append(o.get("text", ""))
        elif o.get("output_type") == "error":
            info = {"ename": o.get("ename"), "evalue": o.get("evalue"), "traceback": "\\n".join(o.get("traceback", []))}
    content = (execute_reply or {}).get("content", {})
    if not info and content.get("ename"):
        info = {"ename": content.get("ename"), "evalue": content.get("evalue"), "traceback": "\\n".join(content.get("traceback", []))}
    line = dict(index=cell_index, source=(cell or {}).get("source", ""), stderr="".join(err)[-20000:], **info)
    sys.stderr.write("\\n${CELL_ERROR_MARK} " + json.dumps(line) + "\\n")
    sys.stderr.flush()

c.NotebookClient.on_cell_error = _dirmag_on_cell_error
`;

/** Writes the nbconvert config (see NBCONVERT_CONFIG) into the project's Jupyter dir; returns its path. */
export function writeNbconvertConfig(repoRoot: string): string {
  const file = path.join(jupyterDataDir(repoRoot), 'dirmag_nbconvert_config.py');
  if (!fs.existsSync(file) || fs.readFileSync(file, 'utf8') !== NBCONVERT_CONFIG) {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, NBCONVERT_CONFIG);
    fs.renameSync(tmp, file);
  }
  return file;
}

/** Pulls the useful part out of nbconvert's stderr when execution failed. */
export function extractError(stderr: string): string {
  const text = stripAnsi(stderr).replace(/\r/g, '');
  const hook = text.lastIndexOf(`${CELL_ERROR_MARK} `);
  if (hook >= 0) {
    // our on_cell_error hook: tslab reports errors on the cell's stderr stream, not in the reply
    try {
      const line = text.slice(hook + CELL_ERROR_MARK.length + 1).split('\n')[0];
      const e = JSON.parse(line) as {
        index: number;
        source: string;
        stderr: string;
        ename?: string;
        evalue?: string;
        traceback?: string;
      };
      const msg = [e.ename && e.ename !== 'Error' ? `${e.ename}: ${e.evalue ?? ''}` : e.evalue, e.traceback, e.stderr]
        .map((x) => stripAnsi(x ?? '').trim())
        .filter(Boolean)
        .join('\n');
      return `cell [${e.index}] failed:\n${indent(e.source)}\n${msg || '(the kernel reported an error without a message)'}`;
    } catch {
      /* fall through to nbclient's message */
    }
  }
  // nbclient's CellExecutionError: "An error occurred while executing the following cell:\n----\n<src>\n----\n\n<message>"
  const marker = 'An error occurred while executing the following cell:';
  const at = text.lastIndexOf(marker);
  if (at >= 0) return text.slice(at).trim();
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  // timeouts, dead kernels, missing kernel specs: the last exception line says it
  const exc = [...lines].reverse().find((l) => /^[\w.]*(Error|Exception|Timeout\w*)\b.*:/.test(l));
  if (exc) return exc.trim();
  return lines.slice(-20).join('\n').trim() || 'nbconvert failed without a message';
}

/** One line for a failure: the error's headline (e.g. `Error: boom`, `1:7 - Type ... `, a timeout). */
export function summarizeError(error: string | undefined): string {
  const lines = (error ?? '')
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  const head =
    lines.find((l) => /^\d+:\d+ - /.test(l)) ??
    lines.find((l) => /^[\w.]*(Error|Exception|TimeoutError)\b:?/.test(l) && !l.startsWith('at ')) ??
    lines.find((l) => !l.startsWith('(nbconvert') && !/^cell \[\d+\] failed:$/.test(l));
  const cell = /^cell \[(\d+)\] failed:/.exec(lines[0] ?? '');
  return `${cell ? `cell [${cell[1]}]: ` : ''}${head ?? lines[0] ?? 'failed'}`;
}

function runProcess(
  command: string,
  args: string[],
  opts: { env: NodeJS.ProcessEnv; cwd: string },
): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string; spawnError?: Error }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { env: opts.env, cwd: opts.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    let spawnError: Error | undefined;
    child.on('error', (e) => (spawnError = e));
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr, spawnError }));
  });
}

/** Environment for nbconvert: the caller's, plus the project's Jupyter data dir first on JUPYTER_PATH. */
export function jupyterEnv(repoRoot: string, extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra };
  const jp = [jupyterDataDir(repoRoot), ...(env.JUPYTER_PATH ? env.JUPYTER_PATH.split(path.delimiter) : [])];
  env.JUPYTER_PATH = [...new Set(jp.filter(Boolean))].join(path.delimiter);
  return env;
}

/**
 * Executes one notebook with `nbconvert --to notebook --execute` on the tslab kernel and writes the
 * executed copy into outDir. Fails (ok: false) at the first cell that errors.
 */
export async function executeNotebook(notebook: string, opts: ExecuteOptions = {}): Promise<ExecuteResult> {
  const nbPath = path.resolve(notebook);
  const repoRoot = opts.repoRoot ?? findRepoRoot(path.dirname(nbPath));
  const outDir = path.resolve(opts.outDir ?? path.join(path.dirname(nbPath), 'executed'));
  const timeoutSec = opts.timeoutSec ?? DEFAULT_TIMEOUT_SEC;
  const stem = path.basename(nbPath, '.ipynb');
  // nbconvert would write over the source if outDir is the notebook's own folder
  const outName = outDir === path.dirname(nbPath) ? `${stem}.executed` : stem;
  const outputPath = path.join(outDir, `${outName}.ipynb`);
  const t0 = performance.now();
  const seconds = () => Math.round((performance.now() - t0) / 10) / 100;

  if (!fs.existsSync(nbPath)) return { ok: false, outputPath, seconds: 0, error: `no such notebook: ${nbPath}` };
  const jupyter = findJupyter();
  writeKernelSpec(repoRoot);
  const config = writeNbconvertConfig(repoRoot);
  fs.mkdirSync(outDir, { recursive: true });
  fs.rmSync(outputPath, { force: true }); // a stale copy must not pass for a fresh one

  const args = [
    ...jupyter.prefix,
    '--config',
    config,
    '--to',
    'notebook',
    '--execute',
    `--ExecutePreprocessor.kernel_name=${KERNEL_NAME}`,
    `--ExecutePreprocessor.timeout=${timeoutSec}`,
    '--ExecutePreprocessor.startup_timeout=120',
    '--output-dir',
    outDir,
    '--output',
    outName,
    nbPath,
  ];
  const r = await runProcess(jupyter.command, args, { env: jupyterEnv(repoRoot, opts.env), cwd: path.dirname(nbPath) });
  if (r.spawnError)
    return { ok: false, outputPath, seconds: seconds(), error: `${jupyter.label}: ${r.spawnError.message}` };
  if (r.code !== 0) {
    const how = r.signal ? `killed by ${r.signal}` : `exit ${r.code}`;
    return { ok: false, outputPath, seconds: seconds(), error: `${extractError(r.stderr)}\n(nbconvert ${how})`.trim() };
  }
  if (!fs.existsSync(outputPath)) {
    return {
      ok: false,
      outputPath,
      seconds: seconds(),
      error: `nbconvert succeeded but wrote no ${outputPath}\n${r.stderr.trim()}`,
    };
  }
  return { ok: true, outputPath, seconds: seconds() };
}

export interface NotebookRun extends ExecuteResult {
  /** file name, e.g. 00_smoke.ipynb */
  name: string;
  notebook: string;
}

/** `*.ipynb` directly in dir, sorted by name (the numeric prefixes give the order). */
export function listNotebooks(dir: string): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isFile() && d.name.endsWith('.ipynb') && !d.name.startsWith('.'))
    .map((d) => d.name)
    .sort();
}

/** Picks notebooks by file name, stem (no .ipynb) or, failing those, name prefix ("01"). */
export function selectNotebooks(names: string[], only?: string): string[] {
  if (!only) return names;
  const wanted = only
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const picked = new Set<string>();
  for (const w of wanted) {
    const exact = names.filter((n) => n === w || n === `${w}.ipynb`);
    for (const n of exact.length ? exact : names.filter((n) => n.startsWith(w))) picked.add(n);
  }
  return names.filter((n) => picked.has(n));
}

export interface ExecuteAllOptions extends Omit<ExecuteOptions, 'outDir'> {
  /** extra environment per notebook (e.g. ciEnvironment) */
  envFor?: (notebook: string) => Record<string, string>;
  /** default `<dir>/executed` */
  outDir?: string;
  /** see selectNotebooks */
  only?: string;
  /** called after each notebook, e.g. to print a line */
  onResult?: (r: NotebookRun) => void;
}

/** Executes every notebook in dir (default `<repo>/notebooks`) in order; executed copies go to `<dir>/executed`. */
export async function executeAll(dir?: string, opts: ExecuteAllOptions = {}): Promise<NotebookRun[]> {
  const repoRoot = opts.repoRoot ?? findRepoRoot(dir ?? process.cwd());
  const nbDir = path.resolve(dir ?? path.join(repoRoot, 'notebooks'));
  const outDir = opts.outDir ?? path.join(nbDir, 'executed');
  const names = selectNotebooks(listNotebooks(nbDir), opts.only);
  const runs: NotebookRun[] = [];
  for (const name of names) {
    const notebook = path.join(nbDir, name);
    const env = { ...opts.env, ...opts.envFor?.(notebook) };
    const r = await executeNotebook(notebook, { ...opts, env, repoRoot, outDir });
    const run = { ...r, name, notebook };
    runs.push(run);
    opts.onResult?.(run);
  }
  return runs;
}

interface NbOutput {
  output_type: string;
  text?: string | string[];
  data?: Record<string, string | string[]>;
  ename?: string;
  evalue?: string;
  traceback?: string[];
}

/** All text a notebook's cells printed or returned (stream, text/plain results, errors), joined. */
export function notebookOutputText(ipynbPath: string): string {
  const nb = JSON.parse(fs.readFileSync(ipynbPath, 'utf8')) as { cells: Array<{ outputs?: NbOutput[] }> };
  const join = (t: string | string[] | undefined) => (Array.isArray(t) ? t.join('') : (t ?? ''));
  const parts: string[] = [];
  for (const cell of nb.cells) {
    for (const o of cell.outputs ?? []) {
      if (o.output_type === 'stream') parts.push(join(o.text));
      else if (o.output_type === 'error')
        parts.push(`${o.ename}: ${o.evalue}\n${stripAnsi((o.traceback ?? []).join('\n'))}`);
      else if (o.data?.['text/plain'] !== undefined) parts.push(join(o.data['text/plain']));
    }
  }
  return parts.join('\n');
}
