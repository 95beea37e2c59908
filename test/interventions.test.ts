/**
 * Intervention kinds added beside the built-in ones: `add` (a steering vector at any hook), checked
 * against what it must equal — the same vector added by hand and patched in.
 */
import './test-data';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { ActivationCache } from '../lib/src/engine/cache';
import { hooks } from '../lib/src/engine/hooks';
import { Model } from '../lib/src/engine/model';
import { plan } from '../lib/src/engine/plan';

const SHARED = process.env.DIRMAG_SHARED ?? path.resolve(__dirname, '../../shared');

test('add: a steering vector at resid_post equals patching in h + c·v; c = 0 is a no-op; one session for every c', async () => {
  const m = await Model.fromDir(path.join(SHARED, 'models/stories260k-hf'));
  try {
    const items = [
      { id: 0, ids: [1, 40, 50, 60, 70, 80] },
      { id: 1, ids: [1, 300, 20] },
    ];
    const h = hooks.residPost(2);
    const D = m.cfg.dModel;
    const v = Float32Array.from({ length: D }, (_, i) => Math.sin(i) * 0.5);
    const { cache, result: clean } = await m.runWithCache(items, [h], { plan: plan('logprobs') });
    const byHand = ActivationCache.fromTensors(
      h,
      items,
      items.map((it) => {
        const t = cache.get(h, it.id);
        return { dims: t.dims, data: t.data.map((x, k) => x + 2 * v[k % D]) };
      }),
    );
    const steered = await m.runWithHooks(items, plan('logprobs').add(h, v, { coefficient: 2 }));
    const patched = await m.runWithHooks(items, plan('logprobs').patch(h, byHand));
    const before = m.liveSessions;
    const zero = await m.runWithHooks(items, plan('logprobs').add(h, v, { coefficient: 0 }));
    assert.equal(m.liveSessions, before, 'another coefficient built another session');
    steered.items.forEach((it, i) => {
      const d = Math.max(...it.logprobs!.map((x, t) => Math.abs(x - patched.items[i].logprobs![t])));
      assert.ok(d <= 1e-5, `item ${it.id}: steering ≠ patching h + c·v (${d})`);
      const moved = Math.max(...it.logprobs!.map((x, t) => Math.abs(x - clean.items[i].logprobs![t])));
      assert.ok(moved > 1e-3, 'the steering vector changed nothing');
      assert.deepEqual(zero.items[i].logprobs, clean.items[i].logprobs);
    });
    await assert.rejects(
      m.runWithHooks(items, plan('logprobs').add(h, new Float32Array(3))),
      /add 'blocks\.2\.hook_resid_post': the vector must have 64 values, got 3/,
    );
    await assert.rejects(
      m.runWithHooks(items, plan('logprobs').add(hooks.attn.pattern(1), v)),
      /has no per-token vectors/,
    );
  } finally {
    await m.release();
  }
});
