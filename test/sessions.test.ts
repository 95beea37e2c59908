/**
 * The session cache (engine/sessions.ts) and what a long run keeps alive: beyond `maxSessions` the
 * least recently used session goes, and its compiled graph with it; a cached graph holds no plan's
 * data (patch values) and, once its session exists, no ONNX bytes; the CPU default bounds sessions.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import type * as ort from 'onnxruntime-node';
import type { Compiled } from '../lib/src/engine/compile';
import { SessionCache } from '../lib/src/engine/sessions';
import { DEFAULT_MAX_SESSIONS, Model, defaultPrefixBytes } from '../lib/src/engine/model';
import { hooks } from '../lib/src/engine/hooks';
import { Plan, plan } from '../lib/src/engine/plan';
import { ActivationCache } from '../lib/src/engine/cache';

const SHARED = process.env.DIRMAG_SHARED ?? path.resolve(__dirname, '../../shared');
const STORIES = path.join(SHARED, 'models/stories260k-hf');

function fakeCache(maxSessions: number) {
  const released: string[] = [];
  const builds: string[] = [];
  const cache = new SessionCache(
    (p: Plan): Compiled => {
      builds.push(p.signature);
      return { bytes: new Uint8Array(1000), stepInfo: [], hooks: [], signature: p.signature, weightInputs: [] };
    },
    async (bytes, p) => {
      assert.equal(bytes.length, 1000, 'the session is created from the graph bytes');
      return { release: async () => void released.push(p.signature) } as unknown as ort.InferenceSession;
    },
    (e) => e,
  );
  cache.maxSessions = maxSessions;
  return { cache, released, builds };
}

const scaled = (l: number) => plan('logprobs').scale(hooks.attnOut(l), 0.5);

test('beyond maxSessions the least recently used session and its graph are released', async () => {
  const { cache, released, builds } = fakeCache(2);
  for (const l of [0, 1, 2, 3]) await cache.with(scaled(l), async () => {});
  assert.equal(cache.size, 2);
  assert.deepEqual(released, [scaled(0).signature, scaled(1).signature]);
  // a released plan is compiled again (its graph went with the session); a live one is not
  await cache.with(scaled(3), async (s) => assert.equal(s.compiled.bytes.length, 0, 'bytes dropped once created'));
  await cache.with(scaled(0), async () => {});
  assert.deepEqual(
    builds.filter((b) => b === scaled(0).signature),
    [scaled(0).signature, scaled(0).signature],
  );
  assert.equal(builds.filter((b) => b === scaled(3).signature).length, 1);
  await cache.releaseAll();
  assert.equal(cache.size, 0);
});

test('a cached graph keeps no patch values alive', async () => {
  const { cache } = fakeCache(4);
  const values = new ActivationCache();
  values.set(hooks.residPre(1), 7, { data: new Float32Array(16), dims: [2, 8] });
  await cache.with(plan('logprobs').patch(hooks.residPre(1), values), async (s) => {
    assert.ok(!Object.values(s.compiled).some((v) => v instanceof Plan || v === values));
    assert.ok(!JSON.stringify(Object.keys(s.compiled)).includes('plan'));
  });
});

test('CPU models bound their sessions by default; the prefix budget follows the weights', async () => {
  const m = await Model.fromDir(STORIES);
  try {
    assert.equal(m.maxSessions, DEFAULT_MAX_SESSIONS);
    assert.equal(m.prefixes.budgetBytes, defaultPrefixBytes(m.ckpt.float32Bytes));
    assert.ok(m.loadWeights() >= 0);
    assert.equal(m.ckpt.heldBytes, m.ckpt.float32Bytes, 'loadWeights read every float tensor the graph uses');
  } finally {
    await m.release();
  }
  const MiB = 2 ** 20;
  assert.equal(defaultPrefixBytes(1e6), 64 * MiB, 'small models: the 64 MiB floor');
  assert.equal(defaultPrefixBytes(1.62e9), Math.floor(1.62e9 / 16), '410M: a sixteenth of the weights');
  assert.equal(defaultPrefixBytes(5.6e10), 512 * MiB, 'large models: the 512 MiB cap');
});
