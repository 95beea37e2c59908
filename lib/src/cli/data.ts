/** `dirmag data wikitext --file PATH --tokenizer DIR|ID [--max-length 64]`: the §1.5.1 sentence set's token lengths. */
import { parseArgs, stringOpt } from './args';
import { wikitextStats } from '../data';

const USAGE = 'usage: dirmag data wikitext --file PATH(.raw|.parquet) --tokenizer DIR|ID [--max-length 64]';

export async function run(argv: string[]): Promise<number> {
  const args = parseArgs(argv);
  const [sub] = args.positional;
  if (sub !== 'wikitext') {
    process.stderr.write(`${sub ? `dirmag data: unknown subcommand '${sub}'\n` : ''}${USAGE}\n`);
    return 2;
  }
  const file = stringOpt(args, 'file');
  const tokenizer = stringOpt(args, 'tokenizer');
  if (!file || !tokenizer) throw new Error(`--file and --tokenizer are required\n${USAGE}`);
  const maxText = stringOpt(args, 'max-length', '64')!;
  const maxLength = Number(maxText);
  if (!Number.isInteger(maxLength) || maxLength < 1)
    throw new Error(`--max-length must be a positive integer, got '${maxText}'`);

  const s = await wikitextStats(file, tokenizer, maxLength);
  const out = [
    `file: ${file}`,
    `tokenizer: ${tokenizer} (BOS ${s.bos === null ? 'none' : s.bos})`,
    `max length: ${maxLength} (BOS included); truncated lines: ${s.truncated}; distinct lengths: ${s.distinctLengths}`,
    `sentences=${s.sentences} tokens_min=${s.tokensMin} tokens_max=${s.tokensMax} tokens_mean=${s.tokensMean.toFixed(1)}`,
  ];
  process.stdout.write(out.join('\n') + '\n');
  return 0;
}
