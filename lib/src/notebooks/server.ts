/**
 * A Jupyter web server with the project's tslab kernel, started for a browser session (the browser test
 * uses it): JupyterLab when `jupyter lab` works, else the classic `jupyter notebook` (what Debian ships).
 * Loopback only, a random token, its own runtime and data folders.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { jupyterEnv } from './execute';
import { writeKernelSpec } from './kernel';

export type JupyterUi = 'lab' | 'notebook';

export interface NotebookServer {
  ui: JupyterUi;
  /** base URL, e.g. http://127.0.0.1:PORT/ */
  url: string;
  token: string;
  /** URL that opens one notebook (path relative to the served folder) */
  notebookUrl(relPath: string): string;
  /** everything the server printed so far (for failure messages) */
  log(): string;
  stop(): Promise<void>;
}

export interface ServerOptions {
  /** folder served as the notebook root */
  root: string;
  repoRoot: string;
  /** extra environment for the server and its kernels */
  env?: Record<string, string | undefined>;
  /** force one UI (default: lab when available) */
  ui?: JupyterUi;
  /** seconds to wait for the server to answer (default 60) */
  startTimeoutSec?: number;
}

function works(args: string[]): boolean {
  const r = spawnSync('jupyter', [...args, '--version'], { encoding: 'utf8', timeout: 60_000 });
  return !r.error && r.status === 0;
}

/** The Jupyter web UI on this machine; throws one line naming the package when there is none. */
export function findJupyterUi(): JupyterUi {
  if (works(['lab'])) return 'lab';
  if (works(['notebook'])) return 'notebook';
  throw new Error(
    'no Jupyter web UI found (`jupyter lab` and `jupyter notebook` both fail): install `apt-get install -y jupyter-notebook` or JupyterLab',
  );
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

/** Starts the server and waits until its REST API answers. */
export async function startNotebookServer(opts: ServerOptions): Promise<NotebookServer> {
  const ui = opts.ui ?? findJupyterUi();
  writeKernelSpec(opts.repoRoot);
  const port = await freePort();
  const token = randomBytes(16).toString('hex');
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'dirmag-jupyter-'));
  const app = ui === 'lab' ? 'ServerApp' : 'NotebookApp';
  const args = [
    ui,
    '--no-browser',
    `--ip=127.0.0.1`,
    `--port=${port}`,
    '--port-retries=0',
    `--${app}.token=${token}`,
    `--${app}.${ui === 'lab' ? 'root_dir' : 'notebook_dir'}=${opts.root}`,
    ...(process.getuid?.() === 0 ? ['--allow-root'] : []), // containers and CI often run as root
  ];
  const env = jupyterEnv(opts.repoRoot, {
    ...opts.env,
    JUPYTER_RUNTIME_DIR: path.join(scratch, 'runtime'),
    JUPYTER_DATA_DIR: path.join(scratch, 'data'), // notebook signatures (trust) stay out of $HOME
    JUPYTER_CONFIG_DIR: path.join(scratch, 'config'),
  });
  const child: ChildProcess = spawn('jupyter', args, {
    env,
    cwd: opts.root,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let output = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (output += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (output += d));
  let exited = false;
  child.on('exit', () => (exited = true));
  const url = `http://127.0.0.1:${port}/`;
  const stop = async () => {
    if (!exited && child.pid) {
      try {
        process.kill(-child.pid, 'SIGTERM'); // the server and the kernels it started
      } catch {
        /* already gone */
      }
      const t0 = Date.now();
      while (!exited && Date.now() - t0 < 10_000) await new Promise((r) => setTimeout(r, 100));
      if (!exited)
        try {
          process.kill(-child.pid, 'SIGKILL');
        } catch {
          /* gone */
        }
    }
    fs.rmSync(scratch, { recursive: true, force: true });
  };
  const deadline = Date.now() + (opts.startTimeoutSec ?? 60) * 1000;
  for (;;) {
    if (exited) {
      await stop();
      throw new Error(`jupyter ${ui} exited before answering:\n${output.slice(-3000)}`);
    }
    try {
      const r = await fetch(`${url}api/status?token=${token}`);
      if (r.ok) break;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(
        `jupyter ${ui} did not answer on ${url} within ${opts.startTimeoutSec ?? 60} s:\n${output.slice(-3000)}`,
      );
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  const notebookUrl = (rel: string) =>
    ui === 'lab'
      ? `${url}lab/tree/${encodeURI(rel)}?token=${token}`
      : `${url}notebooks/${encodeURI(rel)}?token=${token}`;
  return { ui, url, token, notebookUrl, log: () => output, stop };
}
