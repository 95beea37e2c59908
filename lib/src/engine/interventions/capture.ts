/**
 * capture: the hook's value becomes a graph output, returned per item with padding removed; with
 * `onDevice` on a provider that can keep outputs on the device (engine/device-buffers.ts), left
 * there as the pass's padded tensor instead (RunResult.onDevice, engine/device-cache.ts).
 */
import type { HookName } from '../hooks';
import { unpackItem } from '../layout';
import { defineIntervention } from './kind';

export interface CaptureOptions {
  /** leave the pass tensor on the device where the provider allows it (for patching it back in) */
  onDevice?: boolean;
}

export const capture = defineIntervention({
  kind: 'capture',
  observes: true,
  create: (_hook: HookName, opts: CaptureOptions = {}) => ({
    spec: opts.onDevice ? { onDevice: true } : null,
    value: undefined,
  }),
  build(site) {
    site.output('value', site.toExternal(site.value));
    return site.value;
  },
  read(r, step) {
    const t = r.get('value');
    if (t.location === 'gpu-buffer') return; // kept per pass (feeds.ts keptOnDevice)
    r.result.captures[step.hook] = unpackItem(r.info.layout, t, r.b, r.T, r.item.ids.length);
  },
});
