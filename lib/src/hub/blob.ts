/** Fetches content into blobs/<etag>: resumable via `<etag>.incomplete`, sha256-checked for LFS. */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { isSha256 } from './cache';
import { HubError } from './errors';
import { header, readText, requestFollow } from './http';
import { DownloadReporter } from './progress';
import type { FileMetadata } from './metadata';
import { hubOrigin } from './urls';

export type Progress = (bytesDone: number, bytesTotal: number) => void;

/** Downloads `meta.url` into `blob` (which must not exist yet); `label` names the file in errors. */
export async function downloadBlob(
  meta: FileMetadata,
  blob: string,
  label: string,
  onProgress?: Progress,
): Promise<void> {
  const tmp = `${blob}.incomplete`;
  let have = fs.existsSync(tmp) ? fs.statSync(tmp).size : 0;
  if (meta.size !== null && have > meta.size) {
    fs.rmSync(tmp);
    have = 0;
  }
  if (meta.size === null || have < meta.size) {
    try {
      await fetchInto(label, meta.url, tmp, have, meta.size, onProgress);
    } catch (e) {
      if (e instanceof HubError) throw e;
      const { code, message } = e as NodeJS.ErrnoException;
      throw new HubError(
        'unreachable',
        `download of ${label} failed (${code ? `${code}: ` : ''}${message}); run again to resume`,
      );
    }
  }
  const got = fs.statSync(tmp).size;
  if (meta.size !== null && got !== meta.size) {
    if (got > meta.size) fs.rmSync(tmp);
    throw new HubError(
      'integrity',
      `download of ${label} got ${got} bytes, expected ${meta.size}${got < meta.size ? '; run again to resume' : ''}`,
    );
  }
  if (isSha256(meta.etag)) {
    const actual = await sha256File(tmp);
    if (actual !== meta.etag) {
      fs.rmSync(tmp);
      throw new HubError('integrity', `sha256 mismatch for ${label}: expected ${meta.etag}, got ${actual}`);
    }
  }
  fs.renameSync(tmp, blob);
}

/** GETs `url` into `tmp`, appending from byte `have` when the server honours the Range. */
async function fetchInto(
  label: string,
  url: string,
  tmp: string,
  have: number,
  size: number | null,
  onProgress?: Progress,
): Promise<void> {
  const res = await requestFollow('GET', url, have > 0 ? { range: `bytes=${have}-` } : {}, hubOrigin());
  const status = res.statusCode ?? 0;
  const resumed = status === 206 && have > 0 && contentRangeStart(header(res, 'content-range')) === have;
  if (have > 0 && !resumed && (status === 206 || status === 416)) {
    res.resume(); // a range we cannot use: start over without one
    fs.rmSync(tmp, { force: true });
    return fetchInto(label, url, tmp, 0, size, onProgress);
  }
  if (status !== 200 && !resumed) {
    const body = (await readText(res)).slice(0, 200).replace(/\s+/g, ' ');
    throw new HubError('http', `GET ${url} answered HTTP ${status}${body ? `: ${body}` : ''}`);
  }
  let done = resumed ? have : 0; // a 200 answer restarts the file from byte 0
  const length = Number(header(res, 'content-length'));
  const total = size ?? (Number.isFinite(length) ? done + length : 0);
  const report = new DownloadReporter(label, total || null, done);
  const out = fs.createWriteStream(tmp, { flags: resumed ? 'a' : 'w' });
  try {
    await pipeline(
      res,
      async function* (chunks: AsyncIterable<Buffer>) {
        for await (const chunk of chunks) {
          done += chunk.length;
          onProgress?.(done, total);
          report.update(done);
          yield chunk;
        }
      },
      out,
    );
    report.finish(done);
  } catch (e) {
    // pipeline rejects as soon as the connection fails, while a write may still be in flight: wait
    // until the file is closed, so the partial blob no longer grows when the caller resumes it
    if (!out.closed) await new Promise<void>((resolve) => out.once('close', () => resolve()));
    throw e;
  }
}

function contentRangeStart(v: string | undefined): number | null {
  const m = /^bytes (\d+)-/.exec(v ?? '');
  return m ? Number(m[1]) : null;
}

export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of fs.createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
