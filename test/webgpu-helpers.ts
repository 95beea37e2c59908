/** What the WebGPU tests share: whether to run, or why they are skipped. */
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
