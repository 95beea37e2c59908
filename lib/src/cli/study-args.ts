/** Options every experiment command shares: --model, --tokenizer, --device, --results, --shard, --quick. */
import { parseShard } from '../results';
import { Reduced, Study } from '../experiments/study';
import { parseProvider } from '../engine/providers';
import { ParsedArgs, stringOpt } from './args';

export const STUDY_HELP = `  --model ID|DIR      hub id or local checkpoint folder (default EleutherAI/pythia-410m)
  --tokenizer ID|DIR  tokenizer (default: the model's own)
  --device cpu|cuda|webgpu  execution provider (default cpu; README "Choosing a device")
  --results DIR       results root (default: results/ at the repo root, or $DIRMAG_RESULTS)
  --shard k/n         run only the k-th of n disjoint parts (then: dirmag merge)
  --quick             small-model settings (scaled δ, fewer sentences and seeds; says how)
  --wait              another process is writing the same results store: wait for it (default: fail)`;

export async function openStudy(args: ParsedArgs, reduced?: Reduced): Promise<Study> {
  const device = parseProvider(stringOpt(args, 'device', 'cpu'), '--device');
  const shard = stringOpt(args, 'shard');
  return Study.open({
    model: stringOpt(args, 'model', 'EleutherAI/pythia-410m')!,
    tokenizer: stringOpt(args, 'tokenizer'),
    provider: device,
    resultsDir: stringOpt(args, 'results'),
    quick: !!args.options.quick,
    shard: shard ? parseShard(shard) : undefined,
    wait: !!args.options.wait,
    reduced,
  });
}

/** "8-15" or "8,9,10" → [8..15] */
export function parseLayers(text: string): number[] {
  const m = /^(\d+)-(\d+)$/.exec(text);
  if (m && Number(m[2]) < Number(m[1])) throw new Error(`--layers: '${text}' is an empty range (write low-high)`);
  if (m) return Array.from({ length: Number(m[2]) - Number(m[1]) + 1 }, (_, i) => Number(m[1]) + i);
  const out = text.split(',').map(Number);
  if (out.some((x) => !Number.isInteger(x)))
    throw new Error(`--layers: '${text}' is not a range like 8-15 or a list like 8,9,10`);
  return out;
}
