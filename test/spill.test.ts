/** util/spill.ts: tensors written to disk come back bit for bit, and the folder goes with close(). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { TensorSpill, spillPrefix } from '../lib/src/util/spill';

test('spilled tensors come back bit for bit, views and odd header lengths included', () => {
  const spill = new TensorSpill();
  assert.ok(fs.statSync(spill.dir).isDirectory());
  const big = Float32Array.from({ length: 3 * 7 * 5 }, (_, i) => Math.sin(i) * 1e3);
  // a view starting mid-buffer (captures are views of a pass's output), NaN and −0 kept as bits
  const view = { dims: [2, 5], data: big.subarray(11, 21) };
  view.data[3] = NaN;
  view.data[4] = -0;
  const tensors = [{ dims: [3, 7, 5], data: big }, view, { dims: [1], data: Float32Array.of(7) }];
  spill.put('a', tensors);
  spill.put('b|x', [{ dims: [0, 4], data: new Float32Array(0) }]);
  const back = spill.get('a');
  assert.deepEqual(
    back.map((t) => t.dims),
    [[3, 7, 5], [2, 5], [1]],
  );
  back.forEach((t, i) =>
    assert.deepEqual(new Uint32Array(t.data.slice().buffer), new Uint32Array(tensors[i].data.slice().buffer)),
  );
  assert.deepEqual(spill.get('b|x')[0].dims, [0, 4]);
  // replacing and deleting
  spill.put('a', [{ dims: [2], data: Float32Array.of(1, 2) }]);
  assert.deepEqual([...spill.get('a')[0].data], [1, 2]);
  spill.delete('a');
  assert.equal(spill.has('a'), false);
  assert.throws(() => spill.get('a'), /nothing written under 'a'/);
  spill.close();
  assert.equal(fs.existsSync(spill.dir), false);
});

test("a spill folder left by a killed process is removed by the next spill; a live one's is kept", () => {
  const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout.toString();
  const stale = fs.mkdtempSync(path.join(os.tmpdir(), `${spillPrefix()}${dead}-`));
  fs.writeFileSync(path.join(stale, '0.f32'), 'x');
  const other = new TensorSpill(); // this process: alive
  const spill = new TensorSpill();
  assert.equal(fs.existsSync(stale), false);
  assert.equal(fs.existsSync(other.dir), true);
  other.close();
  spill.close();
});
