/** What the WebGPU tests share: whether to run (or why they are skipped), and the relative error they compare with. */
import assert from 'node:assert/strict';
import { probeProvider } from '../lib/src/engine/providers';

const REQUIRED = process.env.DIRMAG_REQUIRE_WEBGPU === '1';

let probed: Promise<string | null> | null = null;
/** undefined: run; a string: the skip reason. Throws when CI requires WebGPU and it does not work. */
export async function webgpu(): Promise<string | undefined> {
  const why = await (probed ??= probeProvider('webgpu'));
  if (why === null) return undefined;
  if (REQUIRED) throw new Error(`DIRMAG_REQUIRE_WEBGPU=1 but WebGPU does not work here: ${why}`);
  return `no WebGPU adapter (${why}); set DIRMAG_REQUIRE_WEBGPU=1 to make this a failure`;
}

/** max |a − b| / max |b| over the arrays, as the golden comparison measures it */
export function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length, 'length mismatch');
  let err = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    err = Math.max(err, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return err / Math.max(scale, 1e-30);
}
