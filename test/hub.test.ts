/**
 * lib/src/hub against a loopback server that answers like huggingface.co: HEAD/GET
 * /{repo}/resolve/{rev}/{file} with X-Repo-Commit and ETag, LFS files (.safetensors, .parquet)
 * as a 302 to /cdn/<sha256> with X-Linked-Etag/X-Linked-Size, Range support, 404 EntryNotFound,
 * 401 RepoNotFound and the repo-info API. Nothing here talks to a non-loopback address.
 */
import test, { after, before, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  BLIMP_REPO,
  blimpFile,
  downloadDatasetFile,
  downloadFile,
  hfCacheDir,
  hubEndpoint,
  isOffline,
  onDownloadProgress,
  progressLines,
  resolveModel,
  snapshotDownload,
} from '../lib/src/hub';
import { FakeHub, gitSha1, sha256 } from './fakehub/server';

const GPT2 = '/work/shared/fixtures/hf/gpt2';
const hub = new FakeHub();
const config = fs.readFileSync(path.join(GPT2, 'config.json'));
const weights = fs.readFileSync(path.join(GPT2, 'model.safetensors'));
const tokenizer = Buffer.from(JSON.stringify({ version: '1.0', model: { type: 'BPE' } }));
const shard1 = weights.subarray(0, 400_000);
const shard2 = weights.subarray(400_000);
const index = Buffer.from(
  JSON.stringify({
    metadata: { total_size: weights.length },
    weight_map: {
      'wte.weight': 'model-00001-of-00002.safetensors',
      'h.0.attn.c_attn.weight': 'model-00002-of-00002.safetensors',
      'wpe.weight': 'model-00001-of-00002.safetensors',
    },
  }),
);
const gpt2 = hub.add('model', 'openai-community/gpt2', {
  'config.json': config,
  'model.safetensors': weights,
  'tokenizer.json': tokenizer,
});
const sharded = hub.add('model', 'tiny/sharded', {
  'config.json': config,
  'model.safetensors.index.json': index,
  'model-00001-of-00002.safetensors': shard1,
  'model-00002-of-00002.safetensors': shard2,
});
const parquet = Buffer.from('PAR1 fake parquet bytes PAR1');
const wikitext = hub.add('dataset', 'Salesforce/wikitext', {
  'wikitext-103-raw-v1/test-00000-of-00001.parquet': parquet,
});
const blimp = hub.add('dataset', BLIMP_REPO, { [blimpFile('adjunct_island')]: parquet });

const ENV_KEYS = [
  'HF_HOME',
  'HF_HUB_CACHE',
  'HF_ENDPOINT',
  'HF_HUB_OFFLINE',
  'HF_TOKEN',
  'HUGGING_FACE_HUB_TOKEN',
  'XDG_CACHE_HOME',
];
const savedEnv = Object.fromEntries(ENV_KEYS.map((k) => [k, process.env[k]]));
const tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'dirmag-hub-'));
let cache = '';

before(() => hub.start());
after(async () => {
  await hub.stop();
  for (const [k, v] of Object.entries(savedEnv)) v === undefined ? delete process.env[k] : (process.env[k] = v);
  fs.rmSync(tmpRoot, { recursive: true, force: true });
});
beforeEach(() => {
  for (const k of ENV_KEYS) delete process.env[k];
  process.env.HF_HOME = fs.mkdtempSync(path.join(tmpRoot, 'home-'));
  process.env.HF_ENDPOINT = hub.url;
  cache = path.join(process.env.HF_HOME, 'hub');
  hub.log = [];
  hub.ignoreRange = false;
  hub.relativeCdn = false;
  hub.resolveCache = false;
  hub.dropAfter = 0;
  hub.corrupt.clear();
});

const gpt2Dir = () => path.join(cache, 'models--openai-community--gpt2');

test('env: cache dir, endpoint and offline flag follow the HF variables', () => {
  assert.equal(hfCacheDir(), cache);
  process.env.HF_HUB_CACHE = path.join(tmpRoot, 'explicit');
  assert.equal(hfCacheDir(), path.join(tmpRoot, 'explicit'));
  delete process.env.HF_HUB_CACHE;
  delete process.env.HF_HOME;
  assert.equal(hfCacheDir(), path.join(os.homedir(), '.cache', 'huggingface', 'hub'));
  process.env.HF_ENDPOINT = 'http://127.0.0.1:9/';
  assert.equal(hubEndpoint(), 'http://127.0.0.1:9');
  delete process.env.HF_ENDPOINT;
  assert.equal(hubEndpoint(), 'https://huggingface.co');
  for (const v of ['1', 'true', 'YES']) {
    process.env.HF_HUB_OFFLINE = v;
    assert.equal(isOffline(), true, v);
  }
  for (const v of ['0', 'false', '']) {
    process.env.HF_HUB_OFFLINE = v;
    assert.equal(isOffline(), false, v);
  }
});

test('fresh download writes blobs, snapshots (relative symlinks) and refs exactly as huggingface_hub', async () => {
  const progress: [number, number][] = [];
  const w = await downloadFile({
    repo: 'openai-community/gpt2',
    file: 'model.safetensors',
    onProgress: (d, t) => progress.push([d, t]),
  });
  const c = await downloadFile({ repo: 'openai-community/gpt2', file: 'config.json' });
  const dir = gpt2Dir();
  const sha = sha256(weights);

  assert.deepEqual(w, {
    path: path.join(dir, 'snapshots', gpt2.commit, 'model.safetensors'),
    commit: gpt2.commit,
    etag: sha,
  });
  assert.equal(fs.readlinkSync(w.path), `../../blobs/${sha}`);
  assert.equal(c.etag, gitSha1(config), 'W/ prefix and quotes stripped from ETag');
  assert.equal(fs.readlinkSync(c.path), `../../blobs/${gitSha1(config)}`);
  assert.deepEqual(fs.readFileSync(w.path), weights);
  assert.deepEqual(fs.readFileSync(c.path), config);
  assert.equal(fs.readFileSync(path.join(dir, 'refs', 'main'), 'utf8'), gpt2.commit);
  assert.deepEqual(
    fs.readdirSync(path.join(dir, 'blobs')).sort(),
    [sha, gitSha1(config)].sort(),
    'no .incomplete left',
  );
  assert.deepEqual(progress.at(-1), [weights.length, weights.length]);
  assert.deepEqual(hub.log, [
    'HEAD /openai-community/gpt2/resolve/main/model.safetensors -> 302',
    `GET /cdn/${sha} -> 200`,
    'HEAD /openai-community/gpt2/resolve/main/config.json -> 200',
    'GET /openai-community/gpt2/resolve/main/config.json -> 200',
  ]);
});

test('a cached file is returned without any request', async () => {
  const first = await downloadFile({ repo: 'openai-community/gpt2', file: 'model.safetensors' });
  hub.log = [];
  const again = await downloadFile({ repo: 'openai-community/gpt2', file: 'model.safetensors' });
  assert.deepEqual(again, first);
  assert.deepEqual(hub.log, []);
});

test('a blob already downloaded for another revision is linked, not fetched again', async () => {
  await downloadFile({ repo: 'openai-community/gpt2', file: 'model.safetensors' });
  hub.log = [];
  fs.rmSync(path.join(gpt2Dir(), 'snapshots'), { recursive: true });
  const r = await downloadFile({
    repo: 'openai-community/gpt2',
    file: 'model.safetensors',
    revision: gpt2.commit,
    refresh: true,
  });
  assert.deepEqual(hub.log, [`HEAD /openai-community/gpt2/resolve/${gpt2.commit}/model.safetensors -> 302`]);
  assert.deepEqual(fs.readFileSync(r.path), weights);
});

test('a missing file is a not_found error, remembered in .no_exist so asking again costs nothing', async () => {
  const missing = () => downloadFile({ repo: 'openai-community/gpt2', file: 'vocab.json' });
  await assert.rejects(missing(), {
    code: 'not_found',
    message: 'openai-community/gpt2/vocab.json@main not found on the hub (HTTP 404)',
  });
  assert.ok(fs.existsSync(path.join(gpt2Dir(), '.no_exist', gpt2.commit, 'vocab.json')));
  assert.equal(fs.readFileSync(path.join(gpt2Dir(), 'refs', 'main'), 'utf8'), gpt2.commit, 'ref learned from the 404');
  hub.log = [];
  await assert.rejects(missing(), { code: 'not_found' });
  assert.deepEqual(hub.log, []);
});

test('a truncated .incomplete blob is resumed with a Range request', async () => {
  const sha = sha256(weights);
  fs.mkdirSync(path.join(gpt2Dir(), 'blobs'), { recursive: true });
  fs.writeFileSync(path.join(gpt2Dir(), 'blobs', `${sha}.incomplete`), weights.subarray(0, 300_000));
  const progress: number[] = [];
  const lines: string[] = [];
  const prev = onDownloadProgress(progressLines((l) => lines.push(l), 25));
  const r = await downloadFile({
    repo: 'openai-community/gpt2',
    file: 'model.safetensors',
    onProgress: (d) => progress.push(d),
  }).finally(() => onDownloadProgress(prev));
  assert.ok(hub.log.includes(`GET /cdn/${sha} bytes=300000- -> 206`), hub.log.join('\n'));
  // the progress lines: bytes of the total, rate, eta, and that the download was resumed
  const size = (weights.length / 1e3).toFixed(1); // the fixture is under 1 MB
  assert.match(
    lines[0],
    /^openai-community\/gpt2\/model\.safetensors@main: 300\.0 kB \/ [\d.]+ kB \(30%\), .*\/s, eta .* \(resumed at 300\.0 kB\)$/,
  );
  assert.ok(
    lines
      .at(-1)!
      .endsWith(`: ${size} kB / ${size} kB (100%), ${lines.at(-1)!.split(', ')[1]}, done (resumed at 300.0 kB)`),
    lines.at(-1),
  );
  assert.ok(lines.length >= 2 && lines.length <= 6, `a line per 25%: ${lines.length}`);
  assert.deepEqual(fs.readFileSync(r.path), weights);
  assert.ok(progress[0] > 300_000, 'progress counts the bytes already on disk');
  assert.equal(fs.existsSync(path.join(gpt2Dir(), 'blobs', `${sha}.incomplete`)), false);
});

test('a connection cut mid-download keeps the partial blob, and the next call resumes it', async () => {
  const sha = sha256(weights);
  hub.dropAfter = 250_000;
  await assert.rejects(
    downloadFile({ repo: 'openai-community/gpt2', file: 'model.safetensors' }),
    /^HubError: download of openai-community\/gpt2\/model\.safetensors@main failed \(.*\); run again to resume$/,
  );
  const partial = path.join(gpt2Dir(), 'blobs', `${sha}.incomplete`);
  const kept = fs.statSync(partial).size;
  // what reached the disk before the cut (≤ what the server sent: the rest was still in flight)
  assert.ok(kept > 0 && kept <= 250_000, `partial bytes kept: ${kept}`);
  assert.equal(fs.existsSync(path.join(gpt2Dir(), 'snapshots', gpt2.commit, 'model.safetensors')), false);
  hub.dropAfter = 0;
  const r = await downloadFile({ repo: 'openai-community/gpt2', file: 'model.safetensors' });
  assert.ok(hub.log.includes(`GET /cdn/${sha} bytes=${kept}- -> 206`), hub.log.join('\n'));
  assert.deepEqual(fs.readFileSync(r.path), weights);
});

test('a server that ignores Range (200) makes the download restart from zero', async () => {
  hub.ignoreRange = true;
  const sha = sha256(weights);
  fs.mkdirSync(path.join(gpt2Dir(), 'blobs'), { recursive: true });
  fs.writeFileSync(path.join(gpt2Dir(), 'blobs', `${sha}.incomplete`), Buffer.alloc(5000, 7)); // garbage prefix
  const r = await downloadFile({ repo: 'openai-community/gpt2', file: 'model.safetensors' });
  assert.ok(hub.log.includes(`GET /cdn/${sha} bytes=5000- -> 200`), hub.log.join('\n'));
  assert.deepEqual(fs.readFileSync(r.path), weights);
});

test('a relative redirect Location is resolved against the hub', async () => {
  hub.relativeCdn = true;
  const r = await downloadFile({ repo: 'openai-community/gpt2', file: 'model.safetensors' });
  assert.deepEqual(fs.readFileSync(r.path), weights);
});

test('a relative 307 to /api/resolve-cache/ (metadata split across hops) is followed for the HEAD', async () => {
  hub.resolveCache = true;
  const c = await downloadFile({ repo: 'openai-community/gpt2', file: 'config.json' });
  assert.deepEqual(c, {
    path: path.join(gpt2Dir(), 'snapshots', gpt2.commit, 'config.json'),
    commit: gpt2.commit,
    etag: gitSha1(config),
  });
  assert.deepEqual(fs.readFileSync(c.path), config);
  const cacheUrl = `/api/resolve-cache/models/openai-community/gpt2/${gpt2.commit}/config.json`;
  assert.deepEqual(hub.log, [
    'HEAD /openai-community/gpt2/resolve/main/config.json -> 307',
    `HEAD ${cacheUrl} -> 200`,
    `GET ${cacheUrl} -> 200`,
  ]);
});

test('corrupted LFS bytes are rejected with the sha256 error and leave nothing in place', async () => {
  const sha = sha256(weights);
  hub.corrupt.add(sha);
  await assert.rejects(
    downloadFile({ repo: 'openai-community/gpt2', file: 'model.safetensors' }),
    new RegExp(
      `^HubError: sha256 mismatch for openai-community/gpt2/model\\.safetensors@main: expected ${sha}, got [0-9a-f]{64}$`,
    ),
  );
  assert.equal(fs.existsSync(path.join(gpt2Dir(), 'snapshots', gpt2.commit, 'model.safetensors')), false);
  assert.deepEqual(fs.readdirSync(path.join(gpt2Dir(), 'blobs')), []);
  hub.corrupt.clear();
  const r = await downloadFile({ repo: 'openai-community/gpt2', file: 'model.safetensors' });
  assert.deepEqual(fs.readFileSync(r.path), weights, 'a later good download succeeds');
});

test('offline: served from the cache without requests; a missing file is named in one line', async () => {
  const c = await downloadFile({ repo: 'openai-community/gpt2', file: 'config.json' });
  process.env.HF_HUB_OFFLINE = '1';
  hub.log = [];
  assert.deepEqual(await downloadFile({ repo: 'openai-community/gpt2', file: 'config.json', refresh: true }), c);
  await assert.rejects(
    downloadFile({ repo: 'openai-community/gpt2', file: 'tokenizer.json' }),
    (e: Error & { code?: string }) => {
      assert.equal(e.code, 'offline');
      assert.match(
        e.message,
        /^openai-community\/gpt2\/tokenizer\.json@main is not in the cache \(.*\) and HF_HUB_OFFLINE is set; fetch it where the hub is reachable with: dirmag download --model openai-community\/gpt2$/,
      );
      assert.ok(!e.message.includes('\n'));
      return true;
    },
  );
  assert.deepEqual(hub.log, []);
});

test('hub unreachable (connection refused): cache still answers, missing files name the repo and file', async () => {
  await downloadFile({ repo: 'openai-community/gpt2', file: 'config.json' });
  const closed = http.createServer();
  await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
  const port = (closed.address() as AddressInfo).port;
  await new Promise((r) => closed.close(r));
  process.env.HF_ENDPOINT = `http://127.0.0.1:${port}`;
  const c = await downloadFile({ repo: 'openai-community/gpt2', file: 'config.json', refresh: true });
  assert.deepEqual(fs.readFileSync(c.path), config);
  await assert.rejects(
    downloadFile({ repo: 'openai-community/gpt2', file: 'model.safetensors' }),
    /^HubError: openai-community\/gpt2\/model\.safetensors@main is not in the cache \(.*\) and the hub http:\/\/127\.0\.0\.1:\d+ is unreachable \(ECONNREFUSED\)$/,
  );
});

test('resolveModel: unknown hub id gives the one-line error', async () => {
  await assert.rejects(resolveModel('nobody/nothing'), {
    message: `unknown model 'nobody/nothing': not found on ${hub.url} (and not a local directory)`,
  });
});

test('resolveModel: local directories and invalid ids', async () => {
  const dir = fs.mkdtempSync(path.join(tmpRoot, 'local-'));
  await assert.rejects(resolveModel(dir), { message: `model directory ${dir} has no config.json` });
  fs.copyFileSync(path.join(GPT2, 'config.json'), path.join(dir, 'config.json'));
  assert.deepEqual(await resolveModel(dir), { dir, revision: null, source: 'local' });
  await assert.rejects(resolveModel('./no/such/dir'), /neither a directory nor a hub id/);
  await assert.rejects(resolveModel('a--b/c'), /neither a directory nor a hub id/);
  assert.deepEqual(hub.log, []);
});

test('resolveModel: hub id fetches config, tokenizer and weights; optional 404s remembered; second call is free', async () => {
  const r = await resolveModel('openai-community/gpt2');
  const snap = path.join(gpt2Dir(), 'snapshots', gpt2.commit);
  assert.deepEqual(r, { dir: snap, revision: gpt2.commit, source: 'hub' });
  assert.deepEqual(fs.readdirSync(snap).sort(), ['config.json', 'model.safetensors', 'tokenizer.json']);
  assert.ok(fs.existsSync(path.join(gpt2Dir(), '.no_exist', gpt2.commit, 'tokenizer_config.json')));
  hub.log = [];
  assert.deepEqual(await resolveModel('openai-community/gpt2'), r);
  assert.deepEqual(hub.log, []);
  process.env.HF_HUB_OFFLINE = 'true';
  assert.deepEqual(await resolveModel('openai-community/gpt2'), r, 'works offline from the cache');
});

test('resolveModel: a sharded checkpoint (index + 2 shards) is fully fetched', async () => {
  const r = await resolveModel('tiny/sharded');
  const snap = path.join(cache, 'models--tiny--sharded', 'snapshots', sharded.commit);
  assert.equal(r.dir, snap);
  assert.deepEqual(fs.readFileSync(path.join(snap, 'model-00001-of-00002.safetensors')), shard1);
  assert.deepEqual(fs.readFileSync(path.join(snap, 'model-00002-of-00002.safetensors')), shard2);
  assert.deepEqual(fs.readFileSync(path.join(snap, 'model.safetensors.index.json')), index);
  assert.equal(hub.log.filter((l) => l.startsWith('GET /cdn/')).length, 2, 'each shard fetched once');
});

test('datasets: parquet files land in datasets--org--name with subfolders', async () => {
  const w = await downloadDatasetFile();
  const sha = sha256(parquet);
  const dir = path.join(cache, 'datasets--Salesforce--wikitext');
  assert.equal(
    w.path,
    path.join(dir, 'snapshots', wikitext.commit, 'wikitext-103-raw-v1', 'test-00000-of-00001.parquet'),
  );
  assert.equal(fs.readlinkSync(w.path), `../../../blobs/${sha}`);
  assert.equal(fs.readFileSync(path.join(dir, 'refs', 'main'), 'utf8'), wikitext.commit);
  assert.ok(
    hub.log[0].startsWith(
      'HEAD /datasets/Salesforce/wikitext/resolve/main/wikitext-103-raw-v1/test-00000-of-00001.parquet',
    ),
  );
  const b = await downloadDatasetFile(BLIMP_REPO, blimpFile('adjunct_island'));
  assert.equal(
    b.path,
    path.join(
      cache,
      'datasets--nyu-mll--blimp',
      'snapshots',
      blimp.commit,
      'adjunct_island',
      'train-00000-of-00001.parquet',
    ),
  );
  assert.deepEqual(fs.readFileSync(b.path), parquet);
});

test('snapshotDownload: lists the repo through the API, filters, and pins every file to one commit', async () => {
  const s = await snapshotDownload({
    repo: 'openai-community/gpt2',
    files: (all) => all.filter((f) => f.endsWith('.json')),
  });
  assert.deepEqual(s, {
    dir: path.join(gpt2Dir(), 'snapshots', gpt2.commit),
    commit: gpt2.commit,
    files: ['config.json', 'tokenizer.json'],
  });
  assert.equal(hub.log[0], 'GET /api/models/openai-community/gpt2/revision/main -> 200');
  assert.ok(hub.log.includes(`HEAD /openai-community/gpt2/resolve/${gpt2.commit}/config.json -> 200`));
  assert.equal(fs.readFileSync(path.join(gpt2Dir(), 'refs', 'main'), 'utf8'), gpt2.commit);
  assert.deepEqual(fs.readdirSync(s.dir).sort(), ['config.json', 'tokenizer.json']);
});
