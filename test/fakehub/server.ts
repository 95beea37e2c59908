/**
 * A loopback server that answers as huggingface.co does: HEAD/GET /{repo}/resolve/{rev}/{file}
 * (datasets under /datasets/) with X-Repo-Commit and ETag, LFS files (.safetensors, .parquet) as a
 * 302 to /cdn/<sha256> with X-Linked-Etag/X-Linked-Size, Range support, 404 EntryNotFound, 401
 * RepoNotFound, 404 RevisionNotFound and the repo-info API /api/{models,datasets}/{repo}/revision/{rev}.
 * A file is a Buffer or a path on disk (large checkpoints are streamed, never held in memory).
 * `log` records every request as "METHOD url [range] -> status".
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

export const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
export const gitSha1 = (b: Buffer) => createHash('sha1').update(`blob ${b.length}\0`).update(b).digest('hex');
const isLfs = (file: string) => /\.(safetensors|parquet)$/.test(file);

interface Repo {
  commit: string;
  files: Map<string, Buffer>;
  /** LFS files served from disk: path, sha256 and size */
  disk: Map<string, DiskFile>;
}

interface DiskFile {
  path: string;
  sha: string;
  size: number;
}

/** sha256 of a file on disk, streamed. */
export async function sha256File(file: string): Promise<string> {
  const h = createHash('sha256');
  for await (const c of fs.createReadStream(file)) h.update(c as Buffer);
  return h.digest('hex');
}

export class FakeHub {
  readonly repos = new Map<string, Repo>(); // key: "model:org/name" or "dataset:org/name"
  readonly cdn = new Map<string, Buffer>();
  readonly cdnDisk = new Map<string, DiskFile>();
  readonly corrupt = new Set<string>(); // sha256s whose CDN bytes are damaged
  log: string[] = [];
  ignoreRange = false;
  relativeCdn = false;
  resolveCache = false; // non-LFS files: 307 to /api/resolve-cache/..., as huggingface.co does
  dropAfter = 0; // CDN: send this many bytes, then cut the connection
  url = '';
  private server = http.createServer((req, res) => this.handle(req, res));

  async start() {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }
  stop() {
    return new Promise((r) => this.server.close(r));
  }
  add(type: 'model' | 'dataset', repo: string, files: Record<string, Buffer>): Repo {
    const commit = createHash('sha1').update(`${type}:${repo}`).digest('hex');
    const r = { commit, files: new Map(Object.entries(files)), disk: new Map<string, DiskFile>() };
    for (const b of r.files.values()) this.cdn.set(sha256(b), b);
    this.repos.set(`${type}:${repo}`, r);
    return r;
  }

  /** Adds a large (LFS) file served from disk to a repo that `add` created. */
  async addDisk(type: 'model' | 'dataset', repo: string, file: string, diskPath: string): Promise<void> {
    const r = this.repos.get(`${type}:${repo}`);
    if (!r) throw new Error(`addDisk: no repo ${type}:${repo}`);
    const d = { path: diskPath, sha: await sha256File(diskPath), size: fs.statSync(diskPath).size };
    r.disk.set(file, d);
    this.cdnDisk.set(d.sha, d);
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse) {
    const send = (status: number, headers: Record<string, string | number>, body?: Buffer | string) => {
      this.log.push(`${req.method} ${req.url}${req.headers.range ? ` ${req.headers.range}` : ''} -> ${status}`);
      res.writeHead(status, headers);
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    const url = new URL(req.url!, this.url);
    const cdn = /^\/cdn\/([0-9a-f]{64})$/.exec(url.pathname);
    if (cdn) return this.serveBytes(cdn[1], req, res, send);

    const cached = /^\/api\/resolve-cache\/(models|datasets)\/(.+)\/([0-9a-f]{40})\/(.+)$/.exec(url.pathname);
    if (cached) {
      const body = this.repos.get(`${cached[1].slice(0, -1)}:${cached[2]}`)?.files.get(cached[4]);
      if (!body) return send(404, {});
      return send(200, { etag: `"${gitSha1(body)}"`, 'content-length': body.length }, body);
    }

    const api = /^\/api\/(models|datasets)\/(.+)\/revision\/([^/]+)$/.exec(url.pathname);
    if (api) {
      const repo = this.repos.get(`${api[1].slice(0, -1)}:${api[2]}`);
      if (!repo) return send(401, { 'x-error-code': 'RepoNotFound' });
      const siblings = [...repo.files.keys(), ...repo.disk.keys()].map((rfilename) => ({ rfilename }));
      return send(200, { 'content-type': 'application/json' }, JSON.stringify({ sha: repo.commit, siblings }));
    }

    const m = /^\/(datasets\/)?(.+?)\/resolve\/([^/]+)\/(.+)$/.exec(url.pathname);
    if (!m) return send(404, {});
    const repo = this.repos.get(`${m[1] ? 'dataset' : 'model'}:${m[2]}`);
    const rev = decodeURIComponent(m[3]);
    const file = m[4].split('/').map(decodeURIComponent).join('/');
    if (!repo) return send(401, { 'x-error-code': 'RepoNotFound' });
    if (rev !== 'main' && rev !== repo.commit) return send(404, { 'x-error-code': 'RevisionNotFound' });
    const body = repo.files.get(file);
    const disk = repo.disk.get(file);
    const common = { 'x-repo-commit': repo.commit };
    if (!body && !disk) return send(404, { ...common, 'x-error-code': 'EntryNotFound' });
    if (disk || isLfs(file)) {
      const sha = disk ? disk.sha : sha256(body!);
      const location = `${this.relativeCdn ? '' : this.url}/cdn/${sha}`;
      return send(302, {
        ...common,
        location,
        'x-linked-etag': `"${sha}"`,
        'x-linked-size': disk ? disk.size : body!.length,
        etag: `"${gitSha1(Buffer.from(sha))}"`,
      });
    }
    if (this.resolveCache) {
      const location = `/api/resolve-cache/${m[1] ? 'datasets' : 'models'}/${m[2]}/${repo.commit}/${m[4]}`;
      return send(307, { ...common, location });
    }
    send(200, { ...common, etag: `W/"${gitSha1(body!)}"`, 'content-length': body!.length }, body);
  }

  private serveBytes(
    sha: string,
    req: http.IncomingMessage,
    res: http.ServerResponse,
    send: (s: number, h: Record<string, string | number>, b?: Buffer) => void,
  ) {
    const disk = this.cdnDisk.get(sha);
    if (disk) return this.serveDisk(disk, req, res, send);
    let body = this.cdn.get(sha);
    if (!body) return send(404, {});
    if (this.corrupt.has(sha)) body = Buffer.from(body.map((x, i) => (i === 100 ? x ^ 0xff : x)));
    const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    if (range && !this.ignoreRange) {
      const start = Number(range[1]);
      const part = body.subarray(start);
      return send(
        206,
        { 'content-range': `bytes ${start}-${body.length - 1}/${body.length}`, 'content-length': part.length },
        part,
      );
    }
    if (this.dropAfter) {
      this.log.push(`${req.method} ${req.url} -> cut after ${this.dropAfter} bytes`);
      res.writeHead(200, { 'content-length': body.length });
      return res.write(body.subarray(0, this.dropAfter), () => res.destroy());
    }
    send(200, { 'content-length': body.length }, body);
  }

  private serveDisk(
    d: DiskFile,
    req: http.IncomingMessage,
    res: http.ServerResponse,
    send: (s: number, h: Record<string, string | number>, b?: Buffer) => void,
  ) {
    const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    const start = range && !this.ignoreRange ? Number(range[1]) : 0;
    if (start >= d.size && start > 0) return send(416, { 'content-range': `bytes */${d.size}` });
    const headers: Record<string, string | number> = { 'content-length': d.size - start };
    if (start > 0) headers['content-range'] = `bytes ${start}-${d.size - 1}/${d.size}`;
    const status = start > 0 ? 206 : 200;
    this.log.push(`${req.method} ${req.url}${req.headers.range ? ` ${req.headers.range}` : ''} -> ${status}`);
    res.writeHead(status, headers);
    if (req.method === 'HEAD') return res.end();
    fs.createReadStream(d.path, { start }).pipe(res);
  }
}
