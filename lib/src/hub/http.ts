/** Minimal HTTP(S) client on node's http/https modules: one request, no automatic redirects. */
import * as http from 'node:http';
import * as https from 'node:https';
import { hubToken } from './env';

export type Response = http.IncomingMessage & { url: string };

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'EPIPE',
  'ECONNABORTED',
  'UND_ERR_SOCKET',
]);

/** True for errors meaning "could not talk to the server" (as opposed to an HTTP answer). */
export function isNetworkError(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' && NETWORK_CODES.has(code);
}

/** Idle timeout per request, `HF_HUB_DOWNLOAD_TIMEOUT` seconds (default 30). */
function timeoutMs(): number {
  const s = Number(process.env.HF_HUB_DOWNLOAD_TIMEOUT);
  return (Number.isFinite(s) && s > 0 ? s : 30) * 1000;
}

/**
 * Sends one request and resolves with the response once headers arrive; the caller must consume
 * or `resume()` the body. `authOrigin`: the hub's origin, the only one that gets the HF_TOKEN.
 */
export function request(
  method: 'HEAD' | 'GET',
  url: string,
  headers: Record<string, string> = {},
  authOrigin?: string,
): Promise<Response> {
  const u = new URL(url);
  const token = hubToken();
  const all: Record<string, string> = { 'user-agent': 'dirmag-hub/0.1', 'accept-encoding': 'identity', ...headers };
  if (token && authOrigin && u.origin === authOrigin) all.authorization = `Bearer ${token}`;
  const mod = u.protocol === 'https:' ? https : u.protocol === 'http:' ? http : null;
  if (!mod) return Promise.reject(new Error(`unsupported URL protocol in ${url}`));
  return new Promise((resolve, reject) => {
    const req = mod.request(u, { method, headers: all }, (res) => resolve(Object.assign(res, { url })));
    req.setTimeout(timeoutMs(), () =>
      req.destroy(Object.assign(new Error(`timed out waiting for ${u.origin}`), { code: 'ETIMEDOUT' })),
    );
    req.on('error', reject);
    req.end();
  });
}

/** Resolves a `Location` header (relative or absolute) against the URL that returned it. */
export function redirectTarget(res: Response): string | null {
  const loc = res.headers.location;
  return res.statusCode! >= 300 && res.statusCode! < 400 && loc ? new URL(loc, res.url).toString() : null;
}

/** Sends a request and follows up to 10 redirects of any kind (for GETs of content and JSON). */
export async function requestFollow(
  method: 'HEAD' | 'GET',
  url: string,
  headers: Record<string, string> = {},
  authOrigin?: string,
): Promise<Response> {
  for (let hops = 0; hops <= 10; hops++) {
    const res = await request(method, url, headers, authOrigin);
    const next = redirectTarget(res);
    if (!next) return res;
    res.resume();
    url = next;
  }
  throw new Error(`too many redirects fetching ${url}`);
}

/** Reads a whole (small) response body as text. */
export async function readText(res: Response): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of res) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** A single header value (first one if repeated). */
export function header(res: Response, name: string): string | undefined {
  const v = res.headers[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}
