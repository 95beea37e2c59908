/** Locating a working `nbconvert`. */
import { spawnSync } from 'node:child_process';

export interface JupyterCommand {
  /** executable to spawn */
  command: string;
  /** arguments that come before nbconvert's own (e.g. ['nbconvert'] or ['-m', 'nbconvert']) */
  prefix: string[];
  /** nbconvert's version as it reports it */
  version: string;
  /** how to show it to a person */
  label: string;
}

export const JUPYTER_MISSING =
  'no working Jupyter nbconvert found (tried $DIRMAG_JUPYTER, `jupyter nbconvert` on PATH and `/usr/bin/python3 -m nbconvert`): ' +
  'install the Debian packages `apt-get install -y --no-install-recommends jupyter-nbconvert python3-nbclient jupyter-client`, ' +
  'or create and activate the conda env (`conda env create -f environment.yml && conda activate dirmag`)';

function candidates(): Array<Omit<JupyterCommand, 'version'>> {
  const out: Array<Omit<JupyterCommand, 'version'>> = [];
  const override = process.env.DIRMAG_JUPYTER;
  if (override) {
    // a `jupyter` executable, or a python that has nbconvert
    if (/python[0-9.]*$/.test(override))
      out.push({ command: override, prefix: ['-m', 'nbconvert'], label: `${override} -m nbconvert` });
    else out.push({ command: override, prefix: ['nbconvert'], label: `${override} nbconvert` });
  }
  out.push({ command: 'jupyter', prefix: ['nbconvert'], label: 'jupyter nbconvert' });
  out.push({ command: '/usr/bin/python3', prefix: ['-m', 'nbconvert'], label: '/usr/bin/python3 -m nbconvert' });
  return out;
}

let cached: JupyterCommand | undefined;

/** The first candidate whose `nbconvert --version` succeeds; throws a one-line error naming what to install. */
export function findJupyter(opts: { refresh?: boolean } = {}): JupyterCommand {
  if (cached && !opts.refresh) return cached;
  for (const c of candidates()) {
    const r = spawnSync(c.command, [...c.prefix, '--version'], { encoding: 'utf8', timeout: 60_000 });
    if (r.error || r.status !== 0) continue;
    const version = (r.stdout || '').trim().split('\n').pop() ?? '';
    if (!/^\d+\.\d+/.test(version)) continue;
    cached = { ...c, version };
    return cached;
  }
  throw new Error(JUPYTER_MISSING);
}
