/** capture: the hook's value becomes a graph output, returned per item with padding removed. */
import type { HookName } from '../hooks';
import { unpackItem } from '../layout';
import { defineIntervention } from './kind';

export const capture = defineIntervention({
  kind: 'capture',
  observes: true,
  create: (_hook: HookName) => ({ spec: null, value: undefined }),
  build(site) {
    site.output('value', site.toExternal(site.value));
    return site.value;
  },
  read(r, step) {
    r.result.captures[step.hook] = unpackItem(r.info.layout, r.get('value'), r.b, r.T, r.item.ids.length);
  },
});
