/** dirmag download: fill the HF cache ahead of time (for compute nodes without internet, then HF_HUB_OFFLINE=1). */
import { downloadStudyData, hfCacheDir, resolveModel, resolveTokenizer } from '../hub';
import { parseArgs, stringOpt } from './args';

export const HELP = `usage: dirmag download [--model ID] [--revision REV] [--tokenizer ID] [--data]
  --model ID          a hub model: config, tokenizer and safetensors weights
  --revision REV      branch, tag or commit of the model (default main)
  --tokenizer ID      a hub tokenizer of its own (tokenizer files only)
  --data              every dataset the study reads: WikiText (Salesforce/wikitext) and BLiMP (nyu-mll/blimp)
Files go to the Hugging Face cache ($HF_HUB_CACHE, else $HF_HOME/hub, else ~/.cache/huggingface/hub);
what is already there is not fetched again. Then run with HF_HUB_OFFLINE=1 where there is no internet.`;

export async function run(argv: string[]): Promise<number> {
  const args = parseArgs(argv, ['data', 'help']);
  if (args.options.help) return (void console.log(HELP), 0);
  const model = stringOpt(args, 'model');
  const tokenizer = stringOpt(args, 'tokenizer');
  if (!model && !tokenizer && !args.options.data) {
    process.stderr.write(`dirmag download: nothing to fetch; give --model ID and/or --data\n${HELP}\n`);
    return 2;
  }
  console.log(`cache: ${hfCacheDir()}`);
  if (model) {
    const m = await resolveModel(model, { revision: stringOpt(args, 'revision') });
    console.log(`model ${model}${m.revision ? ` @ ${m.revision}` : ''}: ${m.dir}`);
  }
  if (tokenizer) console.log(`tokenizer ${tokenizer}: ${await resolveTokenizer(tokenizer)}`);
  if (args.options.data)
    for (const d of await downloadStudyData()) console.log(`dataset ${d.repo}: ${d.files} file(s) in ${d.dir}`);
  return 0;
}
