/** Hugging Face environment variables, read at call time (as huggingface_hub does at import). */
import * as os from 'node:os';
import * as path from 'node:path';

/** `HF_HUB_CACHE`, else `$HF_HOME/hub`, else `~/.cache/huggingface/hub` (XDG_CACHE_HOME respected). */
export function hfCacheDir(): string {
  const env = process.env;
  if (env.HF_HUB_CACHE) return path.resolve(expandHome(env.HF_HUB_CACHE));
  if (env.HF_HOME) return path.resolve(expandHome(env.HF_HOME), 'hub');
  const xdg = env.XDG_CACHE_HOME ? expandHome(env.XDG_CACHE_HOME) : path.join(os.homedir(), '.cache');
  return path.resolve(xdg, 'huggingface', 'hub');
}

/** `HF_ENDPOINT` (without trailing slash) or `https://huggingface.co`. */
export function hubEndpoint(): string {
  return (process.env.HF_ENDPOINT || 'https://huggingface.co').replace(/\/+$/, '');
}

/** True when `HF_HUB_OFFLINE` is 1/true/yes/on (any case). */
export function isOffline(): boolean {
  return ['1', 'true', 'yes', 'on'].includes((process.env.HF_HUB_OFFLINE ?? '').trim().toLowerCase());
}

/** `HF_TOKEN`, sent as a bearer token to the hub (never to other hosts). */
export function hubToken(): string | undefined {
  return process.env.HF_TOKEN || process.env.HUGGING_FACE_HUB_TOKEN || undefined;
}

function expandHome(p: string): string {
  return p === '~' || p.startsWith('~/') ? path.join(os.homedir(), p.slice(1)) : p;
}
