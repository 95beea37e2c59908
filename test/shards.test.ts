/**
 * A checkpoint split into model-0000N-of-0000M.safetensors shards + index loads through the same
 * engine path and gives bit-identical logits to the single-file checkpoint.
 */
import './test-data';
import test from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Model } from '../lib/src/engine/model';
import { readSafetensorsHeader, readTensor } from '../lib/src/weights/safetensors';
import { writeSafetensors } from '../lib/src/weights/write';
import { plan } from '../lib/src/engine/plan';

const SHARED = process.env.DIRMAG_SHARED ?? path.resolve(__dirname, '../../shared');

test('sharded checkpoint (index + 2 shards) equals the single file', async () => {
  const src = path.join(SHARED, 'fixtures/hf/llama_gqa');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dirmag-shards-'));
  fs.copyFileSync(path.join(src, 'config.json'), path.join(dir, 'config.json'));
  const st = readSafetensorsHeader(path.join(src, 'model.safetensors'));
  const names = [...st.tensors.keys()].sort();
  const half = Math.ceil(names.length / 2);
  const weightMap: Record<string, string> = {};
  [names.slice(0, half), names.slice(half)].forEach((part, i) => {
    const file = `model-0000${i + 1}-of-00002.safetensors`;
    writeSafetensors(
      path.join(dir, file),
      part.map((name) => ({ name, dtype: 'F32', ...readTensor(st, name) })),
    );
    for (const n of part) weightMap[n] = file;
  });
  fs.writeFileSync(
    path.join(dir, 'model.safetensors.index.json'),
    JSON.stringify({ metadata: {}, weight_map: weightMap }),
  );
  const items = [
    { id: 0, ids: [5, 17, 300, 42, 7] },
    { id: 1, ids: [9, 8] },
  ];
  const a = await Model.fromDir(src);
  const b = await Model.fromDir(dir);
  const ra = await a.runWithHooks(items, plan('logits'));
  const rb = await b.runWithHooks(items, plan('logits'));
  ra.items.forEach((it, i) => assert.deepEqual(rb.items[i].logits!.data, it.logits!.data));
  await a.release();
  await b.release();
});
