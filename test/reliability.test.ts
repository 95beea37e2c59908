/**
 * Reliability (issue 6): every bad input and injected fault gives one clear line that names the
 * problem and the file or option. Each case is checked by message regex.
 */
import './test-data';
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Model } from '../lib/src/engine/model';
import { loadModel } from '../lib/src/engine/load';
import { checkTokenizerFits, locateNonFinite } from '../lib/src/engine/diagnose';
import { ActivationCache } from '../lib/src/engine/cache';
import { hooks, type HookName } from '../lib/src/engine/hooks';
import { plan, type Plan } from '../lib/src/engine/plan';
import type { Item } from '../lib/src/engine/types';

const SHARED = process.env.DIRMAG_SHARED ?? path.resolve(__dirname, '../../shared');
const STORIES = path.join(SHARED, 'models/stories260k-hf');
const GPT2 = path.join(SHARED, 'fixtures/hf/gpt2');

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'dirmag-rel-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

let stories: Model;
before(async () => {
  stories = await Model.fromDir(STORIES);
});
after(async () => stories.release());

const items = (): Item[] => [
  { id: 100, ids: [1, 20, 30, 40, 50, 60, 70, 80, 90] },
  { id: 101, ids: [1, 200, 300, 400, 5] },
];

/** a folder with `src`'s files, config.json edited by `cfg`, model.safetensors replaced by `weights` bytes when given */
let n = 0;
function variant(
  src: string,
  opts: { cfg?: (c: Record<string, any>) => void; weights?: (b: Buffer) => Buffer; drop?: string[] } = {},
): string {
  const dir = path.join(tmp, `m${n++}`);
  fs.mkdirSync(dir);
  for (const f of fs.readdirSync(src))
    if (!opts.drop?.includes(f)) fs.copyFileSync(path.join(src, f), path.join(dir, f));
  if (opts.cfg) {
    const c = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8'));
    opts.cfg(c);
    fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(c));
  }
  if (opts.weights)
    fs.writeFileSync(
      path.join(dir, 'model.safetensors'),
      opts.weights(fs.readFileSync(path.join(dir, 'model.safetensors'))),
    );
  return dir;
}

/** edits the safetensors JSON header (re-padded; offsets stay relative to the data section) */
function editHeader(edit: (h: Record<string, any>) => void): (b: Buffer) => Buffer {
  return (b) => {
    const hl = Number(b.readBigUInt64LE(0));
    const h = JSON.parse(b.subarray(8, 8 + hl).toString('utf8'));
    edit(h);
    let json = JSON.stringify(h);
    json += ' '.repeat((8 - (Buffer.byteLength(json) % 8)) % 8);
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(Buffer.byteLength(json)));
    return Buffer.concat([len, Buffer.from(json), b.subarray(8 + hl)]);
  };
}

/** asserts that `f` rejects with one line matching every regex */
async function fails(f: () => unknown, ...res: RegExp[]): Promise<string> {
  let msg = '';
  try {
    await f();
  } catch (e) {
    msg = (e as Error).message;
  }
  assert.ok(msg, 'did not fail');
  assert.ok(!msg.includes('\n'), `not one line: ${msg}`);
  for (const re of res) assert.match(msg, re);
  if (process.env.DIRMAG_SHOW_ERRORS) console.log(`  → ${msg}`);
  return msg;
}

/** loads and compiles (weights are checked when the first graph is built) */
const open = async (dir: string) => {
  const m = await Model.fromDir(dir);
  m.hookNames();
  return m;
};

// ---------------------------------------------------------------------------------------------
// model location

test('unknown hub model id, offline with an empty cache', async () => {
  const saved = { ...process.env };
  process.env.HF_HUB_OFFLINE = '1';
  process.env.HF_HOME = path.join(tmp, 'hf-home');
  delete process.env.HF_HUB_CACHE;
  try {
    await fails(() => loadModel('nobody-here/no-such-model'), /nobody-here\/no-such-model/, /offline|not found|cache/i);
  } finally {
    process.env = saved;
  }
});

test('missing local folder / folder without config.json / invalid config.json / no weights', async () => {
  await fails(
    () => loadModel(path.join(tmp, 'does/not/exist')),
    /does\/not\/exist/,
    /neither a directory nor a hub id|not found|no such/i,
  );
  const empty = path.join(tmp, 'empty');
  fs.mkdirSync(empty);
  await fails(() => Model.fromDir(empty), /empty: no config\.json/);
  await fails(() => loadModel(empty), /has no config\.json/);
  const bad = variant(STORIES);
  fs.writeFileSync(path.join(bad, 'config.json'), '{"model_type": "llama",');
  await fails(() => Model.fromDir(bad), /config\.json: invalid JSON/);
  await fails(
    () => Model.fromDir(variant(STORIES, { drop: ['model.safetensors'] })),
    /no model\.safetensors or model\.safetensors\.index\.json/,
  );
  const bin = variant(STORIES, { drop: ['model.safetensors'] });
  fs.writeFileSync(path.join(bin, 'pytorch_model.bin'), '');
  await fails(() => Model.fromDir(bin), /only pytorch_model\.bin found: convert it to safetensors/);
});

// ---------------------------------------------------------------------------------------------
// config.json

test('unsupported model_type lists the supported ones', async () => {
  await fails(
    () => Model.fromDir(variant(STORIES, { cfg: (c) => (c.model_type = 'bert') })),
    /config\.json: unsupported architecture model_type='bert'/,
    /supported: gpt_neox, llama, mistral, opt, gpt2/,
  );
  await fails(() => Model.fromDir(variant(STORIES, { cfg: (c) => delete c.model_type })), /model_type='undefined'/);
});

test('missing or inconsistent config fields', async () => {
  await fails(
    () => Model.fromDir(variant(STORIES, { cfg: (c) => delete c.num_attention_heads })),
    /config\.json: missing field 'num_attention_heads'/,
  );
  await fails(
    () => Model.fromDir(variant(STORIES, { cfg: (c) => (c.num_attention_heads = 7) })),
    /config\.json: hidden size 64 is not divisible by 7 heads/,
  );
  await fails(
    () => Model.fromDir(variant(STORIES, { cfg: (c) => (c.num_key_value_heads = 3) })),
    /8 attention heads are not a multiple of 3 key\/value heads/,
  );
  await fails(
    () => Model.fromDir(variant(STORIES, { cfg: (c) => (c.vocab_size = -5) })),
    /config\.json: .*vocabSize must be a positive number, got -5/,
  );
  await fails(
    () => Model.fromDir(variant(STORIES, { cfg: (c) => (c.hidden_act = 'mish') })),
    /unsupported activation 'mish'/,
  );
  await fails(
    () => Model.fromDir(variant(STORIES, { cfg: (c) => (c.rope_scaling = { type: 'linear', factor: 2 }) })),
    /rope_scaling is not supported/,
  );
  await fails(
    () => Model.fromDir(variant(GPT2, { cfg: (c) => delete c.n_embd })),
    /missing field 'n_embd' \(or hidden_size\)/,
  );
});

// ---------------------------------------------------------------------------------------------
// safetensors

test('truncated safetensors file', async () => {
  const dir = variant(STORIES, { weights: (b) => b.subarray(0, b.length - 1000) });
  await fails(
    () => open(dir),
    /model\.safetensors: corrupt safetensors file/,
    /out of range \(data section is \d+ bytes\)/,
  );
  await fails(
    () => open(variant(STORIES, { weights: (b) => b.subarray(0, 5) })),
    /file is 5 bytes, shorter than the 8-byte header length/,
  );
});

test('header length past the end of the file / header not JSON', async () => {
  await fails(
    () => open(variant(STORIES, { weights: (b) => (b.writeBigUInt64LE(BigInt(b.length), 0), b) })),
    /model\.safetensors: corrupt safetensors file: header length \d+ runs past the end of the file/,
  );
  await fails(() => open(variant(STORIES, { weights: (b) => (b.write('}', 8), b) })), /header is not valid JSON/);
});

test('overlapping and out-of-range data offsets', async () => {
  const overlap = variant(STORIES, {
    weights: editHeader((h) => {
      const names = Object.keys(h).filter((k) => k !== '__metadata__');
      const [a, b] = names.slice(0, 2).map((k) => h[k]);
      const len = b.data_offsets[1] - b.data_offsets[0];
      b.data_offsets = [a.data_offsets[0], a.data_offsets[0] + len];
    }),
  });
  await fails(() => open(overlap), /corrupt safetensors file: tensors '.*' and '.*' overlap/);
  const out = variant(STORIES, {
    weights: editHeader((h) => {
      const t = h['model.norm.weight'];
      t.data_offsets = [t.data_offsets[0] + 1e9, t.data_offsets[1] + 1e9];
    }),
  });
  await fails(() => open(out), /tensor 'model\.norm\.weight' data \[\d+, \d+\) is out of range/);
  const neg = variant(STORIES, { weights: editHeader((h) => (h['model.norm.weight'].data_offsets = [10, 2])) });
  await fails(() => open(neg), /tensor 'model\.norm\.weight' has invalid data_offsets \[10,2\]/);
  const size = variant(STORIES, { weights: editHeader((h) => (h['model.norm.weight'].shape = [65])) });
  await fails(() => open(size), /tensor 'model\.norm\.weight' shape \[65\] × F32 needs 260 bytes but has 256/);
});

test('unknown dtype / unsupported weight dtype', async () => {
  const dir = variant(STORIES, { weights: editHeader((h) => (h['model.norm.weight'].dtype = 'F8_E4M3')) });
  await fails(() => open(dir), /tensor 'model\.norm\.weight' has unknown dtype 'F8_E4M3' \(known: /);
  // a known safetensors dtype that is not a float weight type (same byte size as F32)
  const i32 = variant(STORIES, { weights: editHeader((h) => (h['model.norm.weight'].dtype = 'I32')) });
  await fails(() => open(i32), /tensor 'model\.norm\.weight' has dtype I32; weights must be F32, F16 or BF16/);
});

test('tensor required by the config is missing from the checkpoint', async () => {
  const dir = variant(STORIES, { weights: editHeader((h) => delete h['model.layers.3.mlp.up_proj.weight']) });
  await fails(
    () => open(dir),
    /tensor 'model\.layers\.3\.mlp\.up_proj\.weight' is missing from the checkpoint/,
    new RegExp(path.basename(dir)),
  );
  // config asks for more layers than the checkpoint has
  await fails(
    () => open(variant(STORIES, { cfg: (c) => (c.num_hidden_layers = 6) })),
    /tensor 'model\.layers\.5\.[\w.]+' is missing from the checkpoint/,
  );
});

test('shape mismatch between config and weights', async () => {
  await fails(
    () => open(variant(STORIES, { cfg: (c) => (c.intermediate_size = 100) })),
    /tensor 'model\.layers\.0\.mlp\.gate_proj\.weight' has shape \[172,64\] but the config implies \[100,64\]/,
  );
  await fails(
    () => open(variant(STORIES, { cfg: (c) => (c.vocab_size = 600) })),
    /tensor 'model\.embed_tokens\.weight' has shape \[512,64\] but the config implies \[600,64\]/,
  );
});

// ---------------------------------------------------------------------------------------------
// tokens

test('token ids outside the vocabulary, empty items, too long items', async () => {
  await fails(
    () => stories.runWithHooks([{ id: 7, ids: [1, 600, 3] }], plan('logprobs')),
    /item 7: token id 600 outside the vocabulary 0\.\.511/,
  );
  await fails(() => stories.runWithHooks([{ id: 7, ids: [1, -1] }], plan('logprobs')), /token id -1 outside/);
  await fails(() => stories.runWithHooks([{ id: 7, ids: [1, 2.5] }], plan('logprobs')), /token id 2\.5 outside/);
  await fails(() => stories.runWithHooks([{ id: 8, ids: [] }], plan('logprobs')), /item 8: empty token sequence/);
  await fails(
    () => stories.runWithHooks([{ id: 9, ids: [5] }], plan('logprobs')),
    /item 9: needs at least 2 tokens for next-token log-probs/,
  );
  await fails(
    () => stories.runWithHooks([{ id: 10, ids: new Array(513).fill(5) }], plan('logprobs')),
    /item 10: 513 tokens exceed max_position_embeddings=512/,
  );
});

test('tokenizer larger than the model embedding', () => {
  const tokVocab = (file: string) => {
    const t = JSON.parse(fs.readFileSync(file, 'utf8'));
    const ids = [
      ...Object.values(t.model.vocab as Record<string, number>),
      ...(t.added_tokens ?? []).map((a: { id: number }) => a.id),
    ];
    return Math.max(...ids) + 1;
  };
  const gpt2Tok = tokVocab(path.join(SHARED, 'models/gpt2-tokenizer/tokenizer.json'));
  assert.equal(gpt2Tok, 50257);
  assert.throws(
    () => checkTokenizerFits(gpt2Tok, stories.cfg.vocabSize, 'gpt2-tokenizer'),
    /gpt2-tokenizer has 50257 tokens but the model's embedding has only 512 rows \(config\.json vocab_size\): ids 512\.\.50256 would be out of range/,
  );
  // its own tokenizer fits; a larger embedding (Pythia's padding) is fine
  checkTokenizerFits(tokVocab(path.join(STORIES, 'tokenizer.json')), stories.cfg.vocabSize);
  checkTokenizerFits(50277, 50304);
});

// ---------------------------------------------------------------------------------------------
// plans and options

test('unknown hook name suggests the closest; layers and heads out of range; unknown outputs/ops', async () => {
  const run = (p: () => Plan) => stories.runWithHooks(items(), p());
  const lp = plan('logprobs');
  const magnitudeAt = (layers: number[]) => () =>
    lp.perturb(layers.map(hooks.residPost), { op: 'magnitude', delta: 1 });
  await fails(
    () => run(() => lp.capture('blocks.1.hook_resid_psot' as HookName)),
    /unknown hook 'blocks\.1\.hook_resid_psot' for this llama model; did you mean 'blocks\.1\.hook_resid_post'\?/,
  );
  await fails(
    () => run(() => lp.capture('blocks.1.attn.hook_patern' as HookName)),
    /did you mean 'blocks\.1\.attn\.hook_pattern'/,
  );
  await fails(
    () => run(() => lp.capture('blocks.7.hook_resid_post')),
    /hook 'blocks\.7\.hook_resid_post': layer 7 does not exist: this model has layers 0\.\.4/,
  );
  await fails(
    () => run(magnitudeAt([5])),
    /hook 'blocks\.5\.hook_resid_post': layer 5 does not exist: this model has layers 0\.\.4/,
  );
  await fails(() => run(magnitudeAt([-1])), /layer -1 does not exist/);
  await fails(() => run(magnitudeAt([])), /perturb: no hook given/);
  await fails(
    () => run(() => lp.perturb(hooks.residPost(1), { op: 'rotate' as never, delta: 1 })),
    /unknown perturbation 'rotate' \(magnitude, angle_exact, angle_legacy\)/,
  );
  await fails(
    () => run(() => lp.perturb(hooks.residPost(1), { op: 'angle_legacy', delta: 1, legacyIters: 0 })),
    /legacyIters must be an integer in 1\.\.60, got 0/,
  );
  await fails(() => run(() => plan('probs' as never)), /unknown output 'probs' \(logprobs, entropy, logits\)/);
  await fails(() => run(() => plan()), /plan computes nothing/);
  const none = new ActivationCache();
  await fails(
    () => run(() => lp.patch('blocks.1.attn.hook_z', none, { heads: [8] })),
    /hook 'blocks\.1\.attn\.hook_z': head 8 out of range 0\.\.7/,
  );
  await fails(
    () => run(() => lp.patch('blocks.1.hook_attn_out', none, { heads: [0] })),
    /hook 'blocks\.1\.hook_attn_out' has no head axis/,
  );
});

test('missing or malformed run-time values: patches, scales, means, draws', async () => {
  const its = items();
  const Z: HookName = 'blocks.1.hook_attn_out';
  const lp = plan('logprobs');
  // values travel with the step: a missing one fails when the plan is built, a missing item when it runs
  await fails(
    async () => lp.patch(Z, undefined as never),
    /patch 'blocks\.1\.hook_attn_out': needs an ActivationCache with the values to patch in, got undefined/,
  );
  await fails(
    () => stories.runWithHooks(its, lp.patch(Z, new ActivationCache())),
    /activation cache holds no 'blocks\.1\.hook_attn_out' \(it has: nothing\)/,
  );
  await fails(
    () =>
      stories.runWithHooks(
        its,
        lp.patch(
          Z,
          ActivationCache.fromTensors(
            Z,
            its,
            its.map(() => ({ dims: [3, 64], data: new Float32Array(192) })),
          ),
        ),
      ),
    /patch for 'blocks\.1\.hook_attn_out', item 10\d: expected \d+×64 values, got 192/,
  );
  await fails(async () => lp.scale(Z, undefined as never), /scale: the factor must be a number, got undefined/);
  await fails(
    () => stories.runWithHooks(its, lp.ablate(Z, { mean: new Float32Array(10) })),
    /ablate 'blocks\.1\.hook_attn_out': the mean must have 64 values, got 10/,
  );
  await fails(
    () =>
      stories.runWithHooks(
        its,
        lp.perturb(hooks.residPost(1), {
          op: 'angle_exact',
          delta: 0.5,
          draws: { noise: Object.fromEntries(its.map((it) => [it.id, new Float32Array(10)])) },
        }),
      ),
    /draws\.noise for item 10\d: expected \d+ values/,
  );
});

test('δ ≤ 0, NaN, Infinity or missing is refused', async () => {
  for (const delta of [0, -1, NaN, Infinity, undefined])
    await fails(
      async () => plan('logprobs').perturb(hooks.residPost(1), { op: 'magnitude', delta: delta as number }),
      new RegExp(`delta must be a positive number, got ${delta}`),
    );
});

test('exact angle with δ > 2‖h‖ is refused, naming the layer, item and position', async () => {
  const cap = await stories.runWithHooks(items(), plan('logprobs').capture(hooks.residPost(2)));
  let max = 0;
  for (const it of cap.items) {
    const d = it.captures['blocks.2.hook_resid_post'].data;
    for (let o = 0; o < d.length; o += 64) max = Math.max(max, Math.hypot(...d.subarray(o, o + 64)));
  }
  await fails(
    () =>
      stories.runWithHooks(
        items(),
        plan('logprobs').perturb(hooks.residPost(2), { op: 'angle_exact', delta: 2 * max + 1 }),
      ),
    /exact angle: δ=\S+ exceeds 2‖h‖=\S+ at blocks\.2\.hook_resid_post, item 10[01], position \d+; no rotation moves that vector by δ/,
  );
  // the other operators accept it (magnitude flips, legacy falls short: documented quirks)
  await stories.runWithHooks(
    items(),
    plan('logprobs').perturb(hooks.residPost(2), { op: 'angle_legacy', delta: 2 * max + 1 }),
  );
});

// ---------------------------------------------------------------------------------------------
// NaN / Inf

test('NaN injected through a patch: the error names the first non-finite hook (the patch value)', async () => {
  const its = items();
  const H: HookName = 'blocks.1.hook_attn_out';
  const clean = await stories.runWithHooks(its, plan('logprobs').capture(H));
  const patches = clean.items.map((it) => ({
    dims: it.captures[H].dims,
    data: Float32Array.from(it.captures[H].data),
  }));
  patches[1].data[3 * 64 + 5] = NaN; // item 101, position 3
  await fails(
    () => stories.runWithHooks(its, plan('logprobs').patch(H, ActivationCache.fromTensors(H, its, patches))),
    /non-finite value in output 'logprobs' for item 101/,
    /patch value for 'blocks\.1\.hook_attn_out' holds NaN for item 101 at position 3/,
  );
});

test('a NaN on heads a per-head patch ignores is not blamed; one on a selected head is', async () => {
  const its = items();
  const Z: HookName = 'blocks.1.attn.hook_z';
  const clean = await stories.runWithHooks(its, plan('logprobs').capture(Z));
  const patches = clean.items.map((it) => ({
    dims: it.captures[Z].dims,
    data: Float32Array.from(it.captures[Z].data),
  }));
  const onHead3 = () => plan('logprobs').patch(Z, ActivationCache.fromTensors(Z, its, patches), { heads: [3] });
  patches[0].data[2 * 64 + 0 * 8 + 1] = NaN; // item 100, position 2, head 0 (not selected)
  const r = await stories.runWithHooks(its, onHead3());
  assert.ok(r.items.every((it) => it.logprobs!.every(Number.isFinite)));
  patches[0].data[4 * 64 + 3 * 8 + 2] = NaN; // position 4, head 3 (selected)
  await fails(
    () => stories.runWithHooks(its, onHead3()),
    /patch value for 'blocks\.1\.attn\.hook_z' holds NaN for item 100 at position 4/,
  );
});

test('NaN injected through a scale factor of Infinity on a hook', async () => {
  const H: HookName = 'blocks.3.hook_mlp_out';
  await fails(
    () => stories.runWithHooks(items(), plan('logprobs').scale(H, Infinity)),
    /non-finite value in output 'logprobs' for item 10[01]/,
    /scale factor for 'blocks\.3\.hook_mlp_out' holds Infinity$/,
  );
});

test('NaN in a checkpoint weight: the error names the first hook it reaches', async () => {
  const dir = variant(STORIES, {
    weights: (b) => {
      const hl = Number(b.readBigUInt64LE(0));
      const h = JSON.parse(b.subarray(8, 8 + hl).toString('utf8'));
      b.writeFloatLE(NaN, 8 + hl + h['model.layers.2.mlp.down_proj.weight'].data_offsets[0] + 4 * 7);
      return b;
    },
  });
  const m = await Model.fromDir(dir);
  try {
    await fails(
      () => m.runWithHooks(items(), plan('logprobs')),
      /non-finite value in output 'logprobs' for item 10[01]/,
      /first non-finite value \(NaN\) at hook 'blocks\.2\.hook_mlp_out', item 10[01], position 0 \(check the inputs and the checkpoint weights that feed it\)/,
    );
    // the locator directly, for a plan with captures of its own
    const loc = await locateNonFinite(m, plan('logprobs').capture(hooks.residPost(0)), items().slice(0, 1));
    assert.equal(loc?.where, 'blocks.2.hook_mlp_out');
    assert.equal(loc?.kind, 'hook');
  } finally {
    await m.release();
  }
});

test('Inf in the unembedding only: no hook is non-finite, the error says so', async () => {
  const dir = variant(STORIES, {
    weights: (b) => {
      const hl = Number(b.readBigUInt64LE(0));
      const h = JSON.parse(b.subarray(8, 8 + hl).toString('utf8'));
      // stories260K ties the head to the embedding: poison the row of a token the items never use
      b.writeFloatLE(Infinity, 8 + hl + h['model.embed_tokens.weight'].data_offsets[0] + 4 * (511 * 64));
      return b;
    },
  });
  const m = await Model.fromDir(dir);
  try {
    await fails(
      () => m.runWithHooks(items(), plan('logprobs')),
      /non-finite value in output 'logprobs'/,
      /every hook is finite: the fault is after ln_final\.hook_out/,
    );
  } finally {
    await m.release();
  }
});

test('a NaN-free run is not slowed or changed by the locator (finite → no diagnosis)', async () => {
  const r = await stories.runWithHooks(items(), plan('logprobs'));
  assert.ok(r.items.every((it) => it.logprobs!.every(Number.isFinite)));
});
