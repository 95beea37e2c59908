/**
 * Tensors that stay on the GPU between sessions (a capture and the patch that uses it), as far as
 * onnxruntime-node 1.30 allows. Measured on its WebGPU provider (test/webgpu.test.ts,
 * test/device-residency.test.ts):
 *
 *   - `preferredOutputLocation: 'gpu-buffer'` (or per output name) leaves a session's outputs on the
 *     device: the returned Tensor has `location === 'gpu-buffer'` and no host copy is made.
 *   - Such a tensor can be fed as an input to another session on the same provider (IO binding): it
 *     is used in place, no round trip through the host.
 *   - Reading it in JS (`tensor.getData()`) aborts the process ("terminate called after throwing an
 *     instance of 'char const*'"): the Node binding has no downloader. `readBack` below copies it
 *     through a one-node Identity session whose output is on the CPU instead.
 *   - Freeing such a tensor (`dispose`) after the last session on the provider has been released
 *     crashes the process (ONNX Runtime tears the WebGPU device down with its last session), so a
 *     model frees the device tensors it handed out before its sessions (Model.release).
 *   - CPU outputs are host memory already. Whether the binding's 'gpu-buffer' location also works
 *     with the CUDA provider is untested (no CUDA provider can be installed here), so keepsOutputsOnDevice
 *     says no for cuda and its outputs come back to the host as before.
 *
 * What stays on the device now, where keepsOutputsOnDevice (webgpu):
 *   - captures asked for with `onDevice` (`runWithCache(items, names, { onDevice: true })`, or
 *     `plan().capture(hook, { onDevice: true })`): the capture pass's padded tensors, one per hook and
 *     pass, keyed by the pass's items (engine/device-cache.ts, held by ActivationCache). The mechanism
 *     repairs (experiments/mechanism/common.ts repairPasses, E11's equivalence check) capture so.
 *   - a patch pass batched exactly like the capture (same items, same batching policy: the repairs'
 *     passes are) feeds those tensors as they are: nothing comes to the host, nothing is uploaded.
 *   - prefix reuse (engine/device-prefix.ts): the clean blocks.k.hook_resid_pre of each chunk of items,
 *     which every later plan started at block k patches in as it is.
 * Host values are made only where something needs them: a patch pass batched otherwise, diagnostics
 * (engine/diagnose.ts), or `await cache.toHost()` for code that reads the values; each pass tensor
 * is read back once (through readBack below), on first demand. Captures without `onDevice`, and
 * every capture on cpu or cuda, come back to the host per item as before.
 */
import * as ort from 'onnxruntime-node';
import { GraphBuilder } from '../onnx/builder';
import { DataType } from '../onnx/proto';
import type { Provider } from './providers';

/** Whether outputs of a session on `p` can be left on the device and fed to another session. */
export function keepsOutputsOnDevice(p: Provider): boolean {
  return p === 'webgpu';
}

/**
 * Session options that leave `names` on the device (the rest on the CPU) where the provider can;
 * {} where it cannot (outputs come back to the host as usual).
 */
export function deviceOutputOptions(p: Provider, names: readonly string[]): ort.InferenceSession.SessionOptions {
  if (!keepsOutputsOnDevice(p) || !names.length) return {};
  return { preferredOutputLocation: Object.fromEntries(names.map((n) => [n, 'gpu-buffer' as const])) };
}

const readers = new Map<string, Promise<ort.InferenceSession>>();
let readBacks = 0;

/** Device tensors read back so far in this process (tests: that a device-resident path stays so). */
export function readBackCount(): number {
  return readBacks;
}

/**
 * The values of a float32 tensor wherever it lives: host tensors as they are, device tensors through
 * an Identity session on `p` whose output is on the CPU (Tensor.getData would abort the process).
 */
export async function readBack(t: ort.Tensor, p: Provider): Promise<Float32Array> {
  if (t.location === 'cpu' || t.location === undefined) return t.data as Float32Array;
  if (t.type !== 'float32') throw new Error(`readBack: float32 tensors only, got ${t.type}`);
  const key = `${p}:${t.dims.length}`; // one session per rank (symbolic dims)
  let s = readers.get(key);
  if (!s) {
    const g = new GraphBuilder();
    const x = g.input(
      'x',
      DataType.FLOAT,
      t.dims.map((_, i) => `d${i}`),
    );
    g.output('y', g.op('Identity', [x]));
    s = ort.InferenceSession.create(g.encode('read_back'), { executionProviders: [p], preferredOutputLocation: 'cpu' });
    readers.set(key, s);
  }
  readBacks++;
  const y = (await (await s).run({ x: t })).y;
  return y.data as Float32Array;
}

/** Releases the Identity sessions of readBack. */
export async function releaseReaders(): Promise<void> {
  for (const s of readers.values()) await (await s).release();
  readers.clear();
}
