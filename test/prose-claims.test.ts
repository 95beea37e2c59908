/**
 * The claims recap (prose/claims.ts) on tiny synthetic records: directions computed from the
 * summaries, published sides built from the published constants, verdicts honest about comparability.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { claims, claimsProse, claimsTable } from '../lib/src/prose/claims';
import { PUBLISHED_MAIN, PUBLISHED_MODEL } from '../lib/src/report/published-main';
import { PUBLISHED_MECHANISM } from '../lib/src/experiments/mechanism/published';
import { CROSSMODEL_REGISTRY, PUBLISHED_CROSSMODEL } from '../lib/src/experiments/crossmodel/registry';
import { tableCells } from '../lib/src/tables';
import { paperFixture, replicationInput } from './paper-fixture';

/** A run shaped as comparability reads it: the published Pythia-410M, full settings unless quick. */
const main = CROSSMODEL_REGISTRY.find((e) => e.hfId === PUBLISHED_MODEL.id)!;
const published = (quick = false) => ({
  quick,
  opts: { model: main.hfId },
  model: { cfg: main.arch, revision: null },
});

test('every claim is restated with its direction computed from the results', () => {
  const r = paperFixture();
  const cs = claims(published(), r);
  assert.deepEqual(
    cs.map((c) => c.id),
    ['1', '2', '3a', '3b', '3c', '4'],
  );
  const by = Object.fromEntries(cs.map((c) => [c.id, c]));
  for (const id of ['1', '2', '3a', '3b', '3c']) assert.equal(by[id].holds, true, `${id}: ${by[id].found}`);
  assert.equal(by['4'].holds, null, 'no replication results stored: cannot say');
  const first = r.e1.rows[0];
  assert.ok(by['1'].found.includes(`ratio ${first.ratio.toFixed(1)}× at δ=${first.publishedDelta}`), by['1'].found);
  assert.ok(by['1'].found.includes(`at ${r.e1.rows.length} of ${r.e1.rows.length} δ values`), by['1'].found);
  assert.ok(by['3b'].found.includes(`${r.e4.angle.recoverySeed.mean.toFixed(1)}% of angular`), by['3b'].found);
  assert.ok(by['3c'].found.includes(`${r.e11.magnitude.recovery.mean.toFixed(1)}% of magnitude`), by['3c'].found);
  // the published side comes from the published constants
  const P = PUBLISHED_MAIN.e1;
  assert.ok(by['1'].published.includes(`${P[0].ratio.toFixed(1)}× at δ=${P[0].delta}`), by['1'].published);
  assert.ok(by['3b'].published.includes(`${PUBLISHED_MECHANISM.E4.angle.recovery.mean}% of angular`));
  assert.ok(by['3c'].published.includes(`${PUBLISHED_MECHANISM.E11.magnitude.recovery.mean}% of magnitude`));
  // claim 4's published side: TinyLlama's published magnitude damage exceeds angular at δ ≤ 2
  const tiny = CROSSMODEL_REGISTRY.find((e) => e.key === 'tinyllama-1.1b-chat')!;
  assert.ok(PUBLISHED_CROSSMODEL[tiny.key].loss.some((x) => x.magnitude.mean > x.angular.mean));
  assert.match(by['4'].published, new RegExp(`not in ${tiny.label.replace(/[.]/g, '\\.')}`));
});

test('a claim that fails in this run says so, and the prose counts it', () => {
  const cs = claims(published(), paperFixture({ flip: true }));
  const c1 = cs.find((c) => c.id === '1')!;
  assert.equal(c1.holds, false);
  assert.match(c1.found, /at 2 of 3 δ values/);
  const p = claimsProse(published(), cs);
  assert.match(p.found[0], /^4 of 6 claims hold in this run; claim 1 does not; 1 cannot be said/);
  const cells = tableCells(claimsTable(cs));
  assert.equal(cells.rows.length, 6);
  assert.equal(cells.rows[0][cells.header.indexOf('holds here')], 'does not hold');
});

test('verdicts: compared on the published configuration, "not comparable" with the reason in quick mode', () => {
  const r = paperFixture();
  const full = claims(published(), r).flatMap((c) => c.rows);
  assert.ok(full.length > 0);
  for (const x of full) assert.doesNotMatch(x.verdict, /^not comparable/, `${x.quantity}: ${x.verdict}`);
  // E4 angular recovery is a seed mean with a published spread: a z-based verdict
  const e4 = full.find((x) => x.quantity === 'E4 angular recovery %')!;
  assert.match(e4.verdict, /^(consistent|differs) \(\|z\| = /);
  assert.equal(e4.published?.value, PUBLISHED_MECHANISM.E4.angle.recovery.mean);
  const quick = claims(published(true), r);
  for (const x of quick.flatMap((c) => c.rows))
    if (x.reproduced && Number.isFinite(x.reproduced.value) && x.published)
      assert.match(x.verdict, /^not comparable/, `${x.quantity}: ${x.verdict}`);
  assert.match(claimsProse(published(true), quick).found[1], /Verdicts read "not comparable": quick mode/);
});

test("claim 4 reads the other models' stored sweeps and compares their ratios with the published ones", () => {
  const e14 = CROSSMODEL_REGISTRY.find((e) => e.key === 'pythia-1.4b')!;
  const deltas = PUBLISHED_CROSSMODEL[e14.key].loss.map((x) => x.delta);
  const r = paperFixture({ replication: [replicationInput(e14, deltas)] });
  const c4 = claims(published(), r).find((c) => c.id === '4')!;
  assert.equal(c4.holds, true);
  assert.equal(c4.found, `Angular damage above magnitude at ${deltas.length} of ${deltas.length} δ in ${e14.label}.`);
  assert.equal(c4.rows.length, deltas.length);
  assert.equal(c4.rows[0].published?.value, PUBLISHED_CROSSMODEL[e14.key].loss[0].ratio);
  assert.match(c4.rows[0].quantity, new RegExp(`^${e14.label.replace(/[.]/g, '\\.')} ratio angular/magnitude, δ=`));
});
