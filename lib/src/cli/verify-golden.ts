/** dirmag verify-golden DIR: recompute every golden tensor with the engine (contract in issue 2). */
import { GOLDEN_TOLERANCE, verifyGolden } from '../engine/golden';
import { parseProvider } from '../engine/providers';
import { parseArgs, stringOpt } from './args';

export async function run(argv: string[]): Promise<number> {
  const args = parseArgs(argv);
  const dir = args.positional[0];
  if (!dir) throw new Error('usage: dirmag verify-golden DIR [--device cpu|cuda|webgpu]');
  const rows = await verifyGolden(dir, { provider: parseProvider(stringOpt(args, 'device', 'cpu'), '--device') });
  for (const r of rows)
    console.log(
      `${r.ok ? 'ok  ' : 'FAIL'} ${r.name.padEnd(36)} max_abs_err=${r.maxAbs.toExponential(3)} max_rel_err=${r.maxRel.toExponential(3)}${r.note ? `  (${r.note})` : ''}`,
    );
  const maxRel = rows.reduce((m, r) => (Number.isNaN(r.maxRel) ? Infinity : Math.max(m, r.maxRel)), 0);
  const failed = rows.filter((r) => !r.ok).length;
  console.log(`tolerance: max_rel_err ≤ ${GOLDEN_TOLERANCE} (relative to the tensor's max |value| over real tokens)`);
  console.log(`max_rel_err=${maxRel.toExponential(3)} tensors=${rows.length} failed=${failed}`);
  return failed ? 1 : 0;
}
