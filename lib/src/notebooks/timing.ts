/**
 * How long a notebook takes on its published model, projected from the committed benchmark runs
 * (bench/results-*.json): the measured seconds per plain and per perturbed pass of the newest
 * measurement per device (a file's per-model passes or its E1 sweep), scaled by FLOPs to each
 * experiment the notebook runs (bench/project.ts). The
 * bench times real-config Pythia shapes with random weights (speed depends on shapes only), so this
 * is a measurement-based number for the hardware the bench file names; a device with no run in
 * bench/ is reported as not measured, so a later `dirmag bench --sweep --device cuda` fills it in.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { projectExperiments, publishedWork, WorkProfile } from '../bench/project';
import { PROJECTED, PYTHIA, PythiaSpec } from '../bench/pythia';
import { interferenceSettings } from '../experiments/beyond/interference';
import { normViewSettings } from '../experiments/beyond/norm-view';
import { CROSSMODEL_REGISTRY, CrossModelEntry, SentenceSet } from '../experiments/crossmodel/registry';
import { MECH_PUBLISHED, MechExperiment } from '../experiments/mechanism/common';
import { layerSets, scaledK } from '../experiments/mechanism/e5-e6-layers';
import { E9_SETS } from '../experiments/mechanism/e9-e11-pathways';
import { E1_MODES } from '../experiments/e1-sweep';
import { middleLayers, PUBLISHED } from '../experiments/settings';
import type { Study } from '../experiments/study';
import { installRoot } from '../util/paths';

/** One device's measured per-pass cost: the E1 sweep or the per-model passes of one bench file. */
export interface BenchCost {
  /** bench file name, e.g. results-2026-12-02-sweep.json */
  file: string;
  date: string;
  /** 'E1 sweep' (the experiment's own plans) or 'plain and perturbed passes' (the per-model measurement) */
  kind: string;
  /** e.g. "2-core AMD EPYC" */
  hardware: string;
  provider: string;
  threads: number;
  measured: PythiaSpec;
  /** sentences and tokens of the measured passes */
  sentences: number;
  tokens: number;
  plainSecondsPerPass: number;
  perturbedSecondsPerPass: number;
  sessionSeconds: number;
  /** the length profiles the projections use (the newest bench file that has each) */
  wikitext: { items: number; tokens: number };
  blimp: { items: number; tokens: number } | null;
}

/** The devices a notebook can run on, grouped as the settings cell reports them. */
const GPU_PROVIDERS = ['cuda', 'webgpu'];

interface Pass {
  tokens: number;
  seconds: number;
}

interface BenchFile {
  date: string;
  host: { cpus: string; cores: number };
  profile?: { summary?: string };
  results?: {
    model: string;
    provider: string;
    threads: number;
    params: { total: number };
    graphBuildSeconds: number;
    sessionCreateSeconds: number;
    plain: Pass & { batchItems: number[] };
    perturbed: Record<string, Pass>;
  }[];
  sweep?: {
    model: string;
    provider: string;
    threads: number;
    sentences: number;
    tokensPerPass: number;
    grid: { perturbedConditions: number };
    reuse: { compileSeconds: number; baselineSeconds: number; perturbedSeconds: number };
    full?: { baselineSeconds: number } | null;
    projections?: { experiment: string; tokensPerPass: number | null }[];
  } | null;
}

function specNamed(file: string, model: string): PythiaSpec {
  const s = PYTHIA[model] ?? PROJECTED[model];
  if (!s) throw new Error(`${file}: bench model '${model}' is not a known Pythia size`);
  return s;
}

/**
 * Every per-pass measurement recorded in `dir` (default `<repo>/bench`), oldest first: per file the
 * largest model's plain and perturbed passes (mean over the perturbation modes) and the E1 sweep
 * (its plain pass is the faster of the sweep's two baselines, as the bench's best-of).
 */
export function readBenchCosts(dir = path.join(installRoot(), 'bench')): BenchCost[] {
  if (!fs.existsSync(dir)) return [];
  type Raw = Omit<BenchCost, 'wikitext' | 'blimp'>;
  const raw: Raw[] = [];
  let wikitext: BenchCost['wikitext'] | null = null;
  let blimp: BenchCost['blimp'] = null;
  const files = fs.readdirSync(dir).filter((f) => /^results-.*\.json$/.test(f));
  const read = files.map((file) => ({
    file,
    b: JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8')) as BenchFile,
  }));
  for (const { file, b } of read.sort((x, y) => x.b.date.localeCompare(y.b.date))) {
    const hardware = `${b.host.cores}-core ${b.host.cpus}`;
    const m = /(\d+) sentences, (\d+) tokens/.exec(b.profile?.summary ?? '');
    if (m) wikitext = { items: Number(m[1]), tokens: Number(m[2]) };
    const e2 = b.sweep?.projections?.find((p) => p.experiment === 'E2' && p.tokensPerPass);
    if (e2) blimp = { items: 2 * PUBLISHED.e2.items, tokens: e2.tokensPerPass! };
    const r = [...(b.results ?? [])].sort((x, y) => y.params.total - x.params.total)[0];
    if (r) {
      const modes = Object.values(r.perturbed);
      raw.push({
        file,
        date: b.date,
        kind: 'plain and perturbed passes',
        hardware,
        provider: r.provider,
        threads: r.threads,
        measured: specNamed(file, r.model),
        sentences: r.plain.batchItems.reduce((a, x) => a + x, 0),
        tokens: r.plain.tokens,
        plainSecondsPerPass: r.plain.seconds,
        // the perturbed passes run over the same items as the plain one
        perturbedSecondsPerPass: modes.reduce((a, x) => a + x.seconds, 0) / modes.length,
        sessionSeconds: r.graphBuildSeconds + r.sessionCreateSeconds,
      });
    }
    const s = b.sweep;
    if (s?.reuse)
      raw.push({
        file,
        date: b.date,
        kind: 'E1 sweep',
        hardware,
        provider: s.provider,
        threads: s.threads,
        measured: specNamed(file, s.model),
        sentences: s.sentences,
        tokens: s.tokensPerPass,
        plainSecondsPerPass: Math.min(s.reuse.baselineSeconds, s.full?.baselineSeconds ?? Infinity),
        perturbedSecondsPerPass: s.reuse.perturbedSeconds / s.grid.perturbedConditions,
        sessionSeconds: s.reuse.compileSeconds,
      });
  }
  if (raw.length && !wikitext) throw new Error(`${dir}: no WikiText length profile ('N sentences, T tokens')`);
  return raw.map((c) => ({ ...c, wikitext: wikitext!, blimp }));
}

/** `n` items at the mean length of a profile (the FLOP formula is near-linear in tokens at L ≤ 64). */
const atMean = (n: number, p: { items: number; tokens: number }): number[] => Array(n).fill(p.tokens / p.items);

/** What a notebook runs on its published model, from scratch (no stored results). */
export interface NotebookWork {
  /** FLOP shape of the published model; null when the bench cannot scale to it */
  spec: PythiaSpec | null;
  work: WorkProfile[];
  /** why there is no projection, or what it leaves out */
  note?: string;
}

const wikitextN = (c: BenchCost, n: number) => atMean(Math.min(n, c.wikitext.items), c.wikitext);

/** A repair condition with k patch sets: one clean capture pass, one unrepaired and k repaired perturbed passes. */
const repair = (conds: number, sets: number) => ({ plain: conds, perturbed: conds * (1 + sets) });

/** The published mechanism experiments' passes (E3–E11), from their settings and patch sets. */
function mechanismWork(c: BenchCost, e: MechExperiment | 'E11-equivalence'): WorkProfile {
  const p = MECH_PUBLISHED[e === 'E11-equivalence' ? 'E11' : e];
  const lengths = wikitextN(c, e === 'E11-equivalence' ? 8 : p.sentences);
  const both = p.seeds * 2; // angle and magnitude per seed
  const passes: Record<typeof e, { plain: number; perturbed: number }> = {
    E3: { plain: 1, perturbed: both },
    E4: sum({ plain: 1, perturbed: 0 }, repair(both, 1)),
    // ranking: a clean and an angle pass capturing the patterns; then baseline + angle repairs per seed
    E5: sum({ plain: 2, perturbed: 1 }, repair(p.seeds, scaledK(8).length)),
    E6: sum({ plain: 1, perturbed: 0 }, repair(p.seeds, layerSets(middleLayers(24)).length)),
    E7: { plain: 1, perturbed: both },
    E9: sum({ plain: 1, perturbed: 0 }, repair(both, E9_SETS.length)),
    E11: sum({ plain: 1, perturbed: 0 }, repair(both, 1)),
    'E11-equivalence': { plain: 1, perturbed: 4 },
  };
  return { experiment: e, lengths, plainPasses: passes[e].plain, perturbedPasses: passes[e].perturbed };
}

function sum(a: { plain: number; perturbed: number }, b: { plain: number; perturbed: number }) {
  return { plain: a.plain + b.plain, perturbed: a.perturbed + b.perturbed };
}

/** The FLOP shape of a registry model: Pythia's formula with a gated MLP counted as 1.5 × its width. */
function specOf(e: CrossModelEntry): PythiaSpec {
  const a = e.arch;
  return {
    name: e.key,
    dModel: a.dModel,
    nLayers: a.nLayers,
    nHeads: a.nHeads,
    dMlp: a.activation === 'silu' ? 1.5 * a.dMlp : a.dMlp,
    vocab: a.vocabSize,
    maxPositions: a.maxPositions,
  };
}

/** A cross-model cell (E8, E10, E12, E13, Zephyr): its loss sweep and the sections it has. */
function cellWork(c: BenchCost, e: CrossModelEntry): WorkProfile[] {
  const items = (s: SentenceSet) => wikitextN(c, s.n);
  const w: WorkProfile[] = [
    {
      experiment: `${e.loss.store} loss sweep`,
      lengths: items(e.loss.sentences),
      plainPasses: 1,
      perturbedPasses: e.loss.seeds * e.loss.deltas.length * E1_MODES.length,
    },
  ];
  if (e.entropy)
    w.push({
      experiment: e.entropy.store,
      lengths: items(e.entropy.sentences),
      plainPasses: 1,
      perturbedPasses: 2 * e.entropy.seeds,
    });
  for (const [s, sets] of [
    [e.pathways, E9_SETS.length],
    [e.repair, 1],
  ] as const)
    if (s) {
      const r = sum({ plain: 1, perturbed: 0 }, repair(2 * s.seeds, sets));
      w.push({ experiment: s.store, lengths: items(s.sentences), plainPasses: r.plain, perturbedPasses: r.perturbed });
    }
  return w;
}

const pythia410 = PYTHIA['pythia-410m'];

/**
 * The published settings of a beyond-the-paper experiment, from its own settings function: they read
 * only the model's depth, quick mode and the study's caps, which a shape-only stand-in provides.
 */
function publishedStandIn(spec: PythiaSpec): Study {
  return {
    quick: false,
    model: { cfg: { nLayers: spec.nLayers } },
    cap: (_: string, n: number) => n,
  } as unknown as Study;
}

/** B1 (norm view, notebook 30) and B2 (norm interference, notebook 31): one pass per condition and layer. */
function beyondWork(c: BenchCost, which: 'B1' | 'B2'): WorkProfile {
  const study = publishedStandIn(pythia410);
  if (which === 'B1') {
    const s = normViewSettings(study);
    const n = s.layers.length;
    // clean captures; per (op, κ) one perturbed pass per layer; per control one patched pass per layer
    return {
      experiment: s.experiment,
      lengths: wikitextN(c, s.sentences),
      plainPasses: 1 + s.controls.length * n,
      perturbedPasses: s.ops.length * s.kappas.length * n,
    };
  }
  const s = interferenceSettings(study);
  // clean attention patterns, clean targets once per layer, one patched pass per condition
  return {
    experiment: s.experiment,
    lengths: wikitextN(c, s.sentences),
    plainPasses: 1 + s.layers.length * (1 + s.targets.length * s.eps.length * s.seeds),
    perturbedPasses: 0,
  };
}

/** The experiments each notebook runs (by its number), on the published model from scratch. */
export function notebookWork(notebook: string, c: BenchCost): NotebookWork {
  const nb = /^(\d\d)/.exec(path.basename(notebook))?.[1];
  if (!nb) throw new Error(`notebook '${notebook}' does not start with its two-digit number`);
  const wiki = atMean(Math.min(c.wikitext.items, PUBLISHED.wikitextCap), c.wikitext);
  const blimp = c.blimp ? atMean(c.blimp.items, c.blimp) : null;
  const main = (names: string[]) => {
    const w = publishedWork(wiki, blimp).filter((x) => names.includes(x.experiment));
    const missing = names.filter((n) => !w.some((x) => x.experiment === n));
    return {
      spec: pythia410,
      work: w,
      note: missing.length ? `${missing.join(', ')}: no BLiMP profile in the bench file` : undefined,
    };
  };
  const mech = (names: (MechExperiment | 'E11-equivalence')[]) => ({
    spec: pythia410,
    work: names.map((n) => mechanismWork(c, n)),
  });
  const cell = (runner: string) => {
    const e = CROSSMODEL_REGISTRY.find((x) => x.runner === runner)!;
    const handWritten = [e.loss, e.entropy, e.pathways, e.repair].some((x) => x?.sentences.source === 'e12');
    return {
      spec: e.key === 'pythia-1.4b' ? PROJECTED['pythia-1.4b'] : specOf(e),
      work: cellWork(c, e),
      note: handWritten ? "the hand-written sentences counted at WikiText's mean length" : undefined,
    };
  };
  const none = (note: string): NotebookWork => ({ spec: pythia410, work: [], note });
  const table: Record<string, () => NotebookWork> = {
    '00': () => none('no model passes (a tiny fixture model)'),
    '01': () => none('loads the model and tokenizer; no experiment passes'),
    '02': () => none('hook checks on a few sentences; not profiled'),
    '03': () => ({
      spec: pythia410,
      work: [{ experiment: 'baseline', lengths: wiki, plainPasses: 1, perturbedPasses: 0 }],
    }),
    '04': () => main(['E1']),
    '05': () => main(['E1', 'robustness-loss', 'robustness-blimp']),
    '06': () => main(['E2', 'blimp-baseline-variants']),
    '07': () => main(['E1', 'E2']),
    '08': () => main(['E1', 'E2']),
    '10': () => mech(['E3']),
    '11': () => mech(['E4']),
    '12': () => mech(['E4', 'E5', 'E6']),
    '13': () => mech(['E7']),
    '14': () => mech(['E9']),
    '15': () => mech(['E4', 'E5', 'E6']),
    '16': () => mech(['E11', 'E11-equivalence']),
    '17': () => ({
      spec: pythia410,
      work: [...main(['E1', 'E2']).work, ...mech(['E3', 'E4', 'E5', 'E6', 'E11']).work],
    }),
    '18': () => ({
      spec: pythia410,
      work: [...main(['E1', 'E2']).work, ...mech(['E3', 'E4', 'E5', 'E6', 'E11']).work],
    }),
    '20': () => cell('E8'),
    '21': () => cell('E10'),
    '22': () => cell('E12'),
    '23': () => cell('E13'),
    '24': () => cell('Zephyr'),
    '25': () => none('the reversal investigation is not profiled'),
    '26': () => none('reads the stored results of notebooks 20–25; no passes of its own'),
    '30': () => ({ spec: pythia410, work: [beyondWork(c, 'B1')] }),
    '31': () => ({ spec: pythia410, work: [beyondWork(c, 'B2')] }),
    '32': () => none('its passes run over your two prompt files, whose size the bench cannot know'),
  };
  const f = table[nb];
  if (!f) throw new Error(`notebook ${nb}: not in the timing table (lib/src/notebooks/timing.ts)`);
  return f();
}

const duration = (s: number) =>
  s < 90 ? `${Math.round(s)} s` : s < 5400 ? `${Math.round(s / 60)} min` : `${(s / 3600).toFixed(1)} h`;

/** The newest sweep of each device kind in the bench files. */
function newest(costs: BenchCost[], gpu: boolean): BenchCost | null {
  const c = costs.filter((x) => GPU_PROVIDERS.includes(x.provider) === gpu);
  return c.length ? c[c.length - 1] : null;
}

/** Seconds of the notebook's passes on `c`'s hardware, or null with the reason. */
export function projectNotebook(notebook: string, c: BenchCost): { seconds: number | null; note?: string } {
  const w = notebookWork(notebook, c);
  if (!w.work.length || !w.spec) return { seconds: null, note: w.note };
  const ps = projectExperiments({
    measured: c.measured,
    measuredLengths: atMean(c.sentences, { items: c.sentences, tokens: c.tokens }),
    plainSecondsPerPass: c.plainSecondsPerPass,
    perturbedSecondsPerPass: c.perturbedSecondsPerPass,
    sessionSeconds: c.sessionSeconds,
    provider: c.provider,
    work: w.work,
    targets: [w.spec],
  });
  return { seconds: ps.reduce((s, p) => s + p.seconds, 0), note: w.note };
}

/**
 * Two lines for the settings cell: the notebook's projected time on the published model on a CPU
 * and on a GPU, each naming the bench run and hardware it comes from.
 */
export function notebookTime(notebook: string, benchDir?: string): string {
  const costs = readBenchCosts(benchDir);
  const line = (kind: string, gpu: boolean) => {
    const c = newest(costs, gpu);
    if (!c) return `${kind}: not measured yet (no ${gpu ? 'GPU' : 'CPU'} run recorded in bench/)`;
    const p = projectNotebook(notebook, c);
    const src = `bench/${c.file} (${c.kind}), ${c.measured.name} measured on ${c.hardware}, ${c.provider}, ${c.threads} threads`;
    if (p.seconds === null) return `${kind}: not projected (${p.note}); per-pass cost from ${src}`;
    const left = p.note ? `; ${p.note}` : '';
    return `${kind}: about ${duration(p.seconds)} from scratch, projected from ${src} (${c.date.slice(0, 10)})${left}`;
  };
  return [
    `Time on the published model (all experiments of this notebook, no stored results):`,
    line('CPU', false),
    line('GPU', true),
  ].join('\n');
}
