/** The HEAD request that tells which commit, blob (etag), size and content URL a hub file has. */
import { HubError } from './errors';
import { header, redirectTarget, request, type Response } from './http';
import { hubOrigin } from './urls';

export interface FileMetadata {
  commit: string;
  /** X-Linked-Etag (sha256 for LFS files) or ETag, without quotes or `W/`. */
  etag: string;
  /** X-Linked-Size or Content-Length; null when unknown. */
  size: number | null;
  /** Where the content is: the Location of a redirect, else the resolve URL itself. */
  url: string;
}

/** Thrown for HTTP answers that mean "no such file"; `commit` is set when the repo exists. */
export class EntryNotFound extends HubError {
  constructor(
    message: string,
    readonly commit: string | null,
  ) {
    super('not_found', message);
  }
}

export function normalizeEtag(raw: string | undefined): string {
  return (raw ?? '')
    .trim()
    .replace(/^W\//, '')
    .replace(/^"(.*)"$/, '$1');
}

/**
 * HEADs a resolve URL without following the redirect to the content. A same-origin redirect that
 * does not itself carry the commit and etag (a renamed repo, the hub's /api/resolve-cache/ hop) is
 * followed, as huggingface_hub does; headers seen on earlier hops count when later ones lack them.
 * `label` names the file in errors.
 */
export async function fetchMetadata(url: string, label: string): Promise<FileMetadata> {
  let res = await head(url);
  let commit = '';
  let etag = '';
  for (let hops = 0; ; hops++) {
    commit = header(res, 'x-repo-commit') ?? commit;
    etag = normalizeEtag(header(res, 'x-linked-etag') ?? header(res, 'etag')) || etag;
    const next = redirectTarget(res);
    if (!next || (commit && etag) || new URL(next).origin !== new URL(res.url).origin || hops === 5) break;
    res = await head(next);
  }
  const status = res.statusCode ?? 0;
  if (status >= 400) throw statusError(res, label);
  if (!commit || !etag) {
    throw new HubError(
      'http',
      `${label}: the hub sent no ${commit ? 'ETag' : 'X-Repo-Commit'} header (HTTP ${status} from ${res.url})`,
    );
  }
  if (!/^[\w.-]+$/.test(etag) || etag === '.' || etag === '..') {
    throw new HubError('http', `${label}: unusable ETag '${etag}' from ${res.url}`);
  }
  const linked = header(res, 'x-linked-size');
  const length = status < 300 ? header(res, 'content-length') : undefined; // a redirect's length is its own
  const sizeText = linked ?? length;
  const size = sizeText !== undefined && /^\d+$/.test(sizeText) ? Number(sizeText) : null;
  return { commit, etag, size, url: redirectTarget(res) ?? res.url };
}

async function head(url: string): Promise<Response> {
  const res = await request('HEAD', url, {}, hubOrigin());
  res.resume();
  return res;
}

function statusError(res: Response, label: string): HubError {
  const status = res.statusCode ?? 0;
  const code = header(res, 'x-error-code') ?? '';
  if (status >= 500) return new HubError('unreachable', `${label}: the hub answered HTTP ${status}`);
  if (code === 'EntryNotFound' || (status === 404 && !code)) {
    return new EntryNotFound(`${label} not found on the hub (HTTP ${status})`, header(res, 'x-repo-commit') ?? null);
  }
  if (code === 'RepoNotFound' || code === 'RevisionNotFound' || status === 401 || status === 404) {
    const what = code === 'RevisionNotFound' ? 'revision' : 'repo';
    return new HubError(
      'repo_not_found',
      `${label}: ${what} not found on the hub, or private (HTTP ${status}${code ? ` ${code}` : ''})`,
    );
  }
  if (code === 'GatedRepo')
    return new HubError('http', `${label}: gated repo, accept its terms on the hub and set HF_TOKEN (HTTP ${status})`);
  return new HubError('http', `${label}: the hub answered HTTP ${status}${code ? ` ${code}` : ''}`);
}
