/**
 * Golden tests: every HF reference fixture (shared/fixtures/hf/*) and the real stories260K model
 * recomputed by the engine. Tolerance: max |ours − HF| ≤ 1e-4 × max |HF| per tensor over real
 * tokens (GOLDEN_TOLERANCE; the fixtures README suggests 1e-4, HF's own float32 noise is ≤ 6e-6).
 * The CLI checks need the build (`npx tsc -p lib`, done by `npm test`).
 */
import './test-data';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { GOLDEN_TOLERANCE, verifyGolden } from '../lib/src/engine/golden';

const SHARED = process.env.DIRMAG_SHARED ?? path.resolve(__dirname, '../../shared');
const ROOT = path.resolve(__dirname, '..');
const CLI = path.join(ROOT, 'lib/dist/cli/main.js');
const CASES = [
  ...fs.readdirSync(path.join(SHARED, 'fixtures/hf')).map((c) => path.join(SHARED, 'fixtures/hf', c)),
  path.join(SHARED, 'models/stories260k-hf'),
];
const TOL = 1e-4;

test('golden tolerance is 1e-4 relative', () => assert.equal(GOLDEN_TOLERANCE, TOL));

for (const dir of CASES) {
  test(`verifyGolden ${path.basename(dir)}: 0 failures, max rel err ≤ ${TOL}`, async () => {
    const rows = await verifyGolden(dir);
    assert.ok(rows.length > 0, 'no tensors compared');
    const bad = rows.filter((r) => !r.ok);
    assert.deepEqual(
      bad.map((r) => `${r.name} ${r.maxRel} ${r.note ?? ''}`),
      [],
    );
    const maxRel = Math.max(...rows.map((r) => r.maxRel));
    assert.ok(maxRel <= TOL, `max rel err ${maxRel}`);
    // the fixture's families of tensors are all covered
    const names = new Set(rows.map((r) => r.name));
    assert.ok(names.has('logits'));
    if (!dir.endsWith('stories260k-hf')) {
      for (const n of [
        'attn_probs.0',
        'q.3',
        'pert.magnitude.d2.0.logits',
        'pert.angle_exact.d0.5.block_out.2',
        'repair.ln.logits',
        'logits_unpadded_row2',
      ])
        assert.ok(names.has(n), `${n} not compared`);
    }
  });
}

function cli(...args: string[]) {
  assert.ok(fs.existsSync(CLI), `${CLI} missing: build first (npx tsc -p lib)`);
  return spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', cwd: ROOT });
}

const LAST = /^max_rel_err=(\S+) tensors=(\d+) failed=(\d+)$/;

test('CLI verify-golden: last line format and exit code 0', () => {
  const r = cli('verify-golden', path.join(SHARED, 'fixtures/hf/opt'));
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  const m = LAST.exec(lines[lines.length - 1]);
  assert.ok(m, `last line: ${lines[lines.length - 1]}`);
  assert.ok(Number(m[1]) <= TOL && Number(m[1]) >= 0);
  assert.ok(Number(m[2]) > 50);
  assert.equal(m[3], '0');
  assert.ok(lines.some((l) => l.startsWith('tolerance: max_rel_err ≤ 0.0001')));
});

/** A copy of a fixture case whose golden.safetensors is edited by `edit` (model files are links). */
function tampered(edit: (buf: Buffer, header: Record<string, any>, dataStart: number) => Buffer): string {
  const src = path.join(SHARED, 'fixtures/hf/gpt2');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dirmag-tampered-'));
  for (const f of ['config.json', 'model.safetensors', 'golden.json'])
    fs.symlinkSync(path.join(src, f), path.join(dir, f));
  const buf = fs.readFileSync(path.join(src, 'golden.safetensors'));
  const hl = Number(buf.readBigUInt64LE(0));
  const header = JSON.parse(buf.subarray(8, 8 + hl).toString('utf8'));
  fs.writeFileSync(path.join(dir, 'golden.safetensors'), edit(Buffer.from(buf), header, 8 + hl));
  return dir;
}

test('CLI verify-golden exits non-zero on a tampered golden: unknown tensor name', () => {
  // rename 'attn_out.0' to the same-length unknown 'attn_zzz.0' (header length unchanged)
  const dir = tampered((buf) => {
    const at = buf.indexOf('"attn_out.0"');
    assert.ok(at > 0);
    buf.write('"attn_zzz.0"', at, 'utf8');
    return buf;
  });
  const r = cli('verify-golden', dir);
  assert.notEqual(r.status, 0);
  assert.match(r.stdout, /FAIL attn_zzz\.0 .*not understood by verify-golden/);
  const last = LAST.exec(r.stdout.trim().split('\n').pop()!);
  assert.ok(last && Number(last[3]) >= 1, r.stdout.slice(-300));
  fs.rmSync(dir, { recursive: true });
});

test('CLI verify-golden exits non-zero on a tampered golden: one logits value changed', () => {
  const dir = tampered((buf, header, dataStart) => {
    const [begin] = header.logits.data_offsets;
    const at = dataStart + begin + 4 * 5; // row 0, token 0, vocab entry 5 (a real token)
    buf.writeFloatLE(buf.readFloatLE(at) + 1, at);
    return buf;
  });
  const r = cli('verify-golden', dir);
  assert.notEqual(r.status, 0);
  assert.match(r.stdout, /FAIL logits /);
  const last = LAST.exec(r.stdout.trim().split('\n').pop()!);
  assert.ok(last && last[3] === '1', r.stdout.slice(-300));
  fs.rmSync(dir, { recursive: true });
});

test('verifyGolden reports a golden tensor with the wrong width as a failure, not a crash', async () => {
  const dir = tampered((buf, header, dataStart) => {
    // make mlp_out.0 look like [3, 12, 32] × 2 (same bytes, different shape)
    const at = buf.indexOf('"mlp_out.0"');
    const hl = dataStart - 8;
    let json = buf.subarray(8, 8 + hl).toString('utf8');
    json = json.replace(/("mlp_out\.0":\{"dtype":"F32","shape":\[)3,12,64\]/, '$13,24,32]');
    assert.equal(Buffer.byteLength(json), hl);
    assert.ok(at > 0);
    buf.write(json, 8, 'utf8');
    return buf;
  });
  const rows = await verifyGolden(dir);
  const row = rows.find((r) => r.name === 'mlp_out.0');
  assert.ok(row && !row.ok, JSON.stringify(row));
  fs.rmSync(dir, { recursive: true });
});
