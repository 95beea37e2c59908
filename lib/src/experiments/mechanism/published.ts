/**
 * The original notebook's mechanism numbers (EXPERIMENTS.md idx 10, 12–15, 17, 24 and §3), for
 * published-vs-reproduced tables in REPORT.md. Pythia-410M on a Tesla T4 unless `model` says
 * otherwise. "±" = population std over seed-level values.
 */
export const PUBLISHED_MECHANISM = {
  E3: {
    cell: 'idx 10 (Cell 11)',
    model: 'EleutherAI/pythia-410m',
    sentences: 100,
    seeds: 5,
    baseline: 1.0312,
    angle: { mean: 1.16, std: 0.0081, perSeed: [1.1678, 1.1581, 1.1572, 1.1695, 1.1472] },
    magnitude: { mean: 1.0563, std: 0.0012, perSeed: [1.0565, 1.0543, 1.0582, 1.0562, 1.0562] },
    dAngle: { mean: 0.1287, std: 0.0081 },
    dMagnitude: { mean: 0.0251, std: 0.0012 },
    ratio: 5.1,
    t: 25.38,
    pOneSided: 7.2e-6,
    /** idx 10's "Cohen's d" (pooled population stds) */
    d: 17.94,
    /** ΔH per layer (layers 0–8 are 0) */
    perLayer: {
      angle: { 9: 0.0253, 10: 0.0734, 11: 0.1416, 12: 0.2273, 13: 0.2723, 14: 0.2974, 15: 0.368, 16: 0.6149, 17: 0.2532, 18: 0.2474, 19: 0.2407, 20: 0.2329, 21: -0.0343, 22: -0.0437, 23: 0.1732 } as Record<number, number>,
      magnitude: { 9: 0, 10: 0.0254, 11: 0.056, 12: 0.0513, 13: 0.0377, 14: 0.0401, 15: 0.0397, 16: 0.0984, 17: 0.0545, 18: -0.0263, 19: 0.0484, 20: 0.032, 21: 0.0454, 22: 0.0537, 23: 0.045 } as Record<number, number>,
    },
  },
  E4: {
    cell: 'idx 12 (Cell 13)',
    model: 'EleutherAI/pythia-410m',
    sentences: 100,
    seeds: 5,
    baseline: 4.21,
    angle: {
      unrepaired: { mean: 7.819, std: 0.088, perSeed: [7.855, 7.765, 7.967, 7.799, 7.707] },
      repaired: { mean: 6.793, std: 0.046, perSeed: [6.796, 6.783, 6.869, 6.793, 6.726] },
      damage: 3.608,
      repairedDamage: 2.583,
      recovery: { mean: 28.4, std: 0.6 },
    },
    magnitude: {
      unrepaired: { mean: 4.891, std: 0.038, perSeed: [4.84, 4.943, 4.922, 4.885, 4.864] },
      repaired: { mean: 4.786, std: 0.035, perSeed: [4.732, 4.809, 4.784, 4.77, 4.836] },
      damage: 0.68,
      repairedDamage: 0.576,
      recovery: { mean: 15.2, std: 5.5, perSeed: [17.1, 18.3, 19.4, 17.0, 4.3] },
    },
    test1: { t: 44.789, p: 1e-6, recoveryNats: 1.025, recoveryNatsStd: 0.046 },
    test2: { t: 5.242, p: 0.00633, recoveryNats: 0.104, recoveryNatsStd: 0.04 },
    test3: { t: 4.927, pOneSided: 0.003945 },
  },
  E5: {
    cell: 'idx 13 (Cell 14)',
    model: 'EleutherAI/pythia-410m',
    sentences: 50,
    seeds: 3,
    ranking: [15, 13, 14, 12, 11, 10, 9, 8],
    layerSums: { 15: 4.585, 13: 4.442, 14: 3.568, 12: 3.271, 11: 2.25, 10: 0.965, 9: 0.279, 8: 0 } as Record<number, number>,
    topHeads: [
      [14, 8, 0.6646], [15, 0, 0.5619], [13, 9, 0.555], [15, 1, 0.5321], [14, 6, 0.5057],
      [14, 14, 0.5024], [14, 4, 0.4935], [12, 3, 0.4536], [15, 5, 0.4412], [15, 9, 0.4088],
    ] as [number, number, number][],
    /** top-k layer repair, R-seed without ε; "% of full" divided by the hard-coded 28.4 */
    topK: {
      2: { layers: [15, 13], mean: 18.2, std: 1.2, pctOfFull: 64 },
      4: { layers: [15, 13, 14, 12], mean: 25.5, std: 0.4, pctOfFull: 90 },
      6: { layers: [15, 13, 14, 12, 11, 10], mean: 29.4, std: 0.8, pctOfFull: 103 },
      8: { layers: [8, 9, 10, 11, 12, 13, 14, 15], mean: 29.5, std: 0.8, pctOfFull: 104 },
    } as Record<number, { layers: number[]; mean: number; std: number; pctOfFull: number }>,
    fullRepairDivisor: 28.4,
  },
  E6: {
    cell: 'idx 14 (Cell 15)',
    model: 'EleutherAI/pythia-410m',
    sentences: 50,
    seeds: 3,
    sets: {
      top: { layers: [12, 13, 14, 15], mean: 25.0, std: 0.6 },
      middle: { layers: [10, 11, 12, 14], mean: 13.2, std: 0.6 },
      bottom: { layers: [8, 9, 10, 11], mean: 6.4, std: 0.3 },
      random1: { layers: [10, 11, 14, 15], mean: 20.4, std: 0.5 },
      random2: { layers: [10, 12, 13, 14], mean: 17.0, std: 0.2 },
      random3: { layers: [9, 11, 12, 14], mean: 11.9, std: 0.6 },
    } as Record<string, { layers: number[]; mean: number; std: number }>,
    /** NumPy `np.random.seed(999)` draws of the original, valid for the layer range 8–15 only */
    randomSetsNumpy999: [[10, 11, 14, 15], [10, 12, 13, 14], [9, 11, 12, 14]],
    randomMean: 16.4,
    randomStdOfSetMeans: 3.5,
    topVsBottom: { t: 40.475, pOneSided: 1e-4, note: 'printed p < 1e-4; independent t, 3 vs 3' },
    topVsRandom: { t: 3.806, pTwoSided: 0.0035, note: 'independent t, 3 vs 9 per-seed values' },
  },
  E7: {
    cell: 'idx 15 (Cell 16)',
    model: 'EleutherAI/pythia-410m',
    sentences: 50,
    seeds: 3,
    layers: [12, 13, 14, 15],
    baseline: -0.0626,
    angle: { mean: -0.0565, std: 0.0025, perSeed: [-0.0574, -0.059, -0.0532] },
    magnitude: { mean: -0.0626, std: 0.0003, perSeed: [-0.063, -0.0626, -0.0623] },
    dropAngle: -0.0061,
    dropMagnitude: 0.0,
    t: -3.844,
    pOneSided: 0.969,
    perLayer: { 12: [0.0012, 0.0022, 0.0012], 13: [0.086, 0.093, 0.0878], 14: [-0.2806, -0.2771, -0.2805], 15: [-0.057, -0.0442, -0.059] } as Record<number, [number, number, number]>,
  },
  E9: {
    cell: 'idx 17 (Cell 18)',
    model: 'EleutherAI/pythia-1.4b',
    sentences: 50,
    seeds: 3,
    baseline: 3.921,
    angle: { unrepaired: 4.854, attn: 4.631, mlp: 4.93, both: 4.691, recovery: { attn: 23.8, mlp: -8.2, both: 17.4 } },
    magnitude: { unrepaired: 3.956, attn: 3.955, mlp: 3.951, both: 3.953, recovery: { attn: 2.0, mlp: 12.2, both: 8.3 } },
    /** paired t of per-seed (U − R_mlp) vs (U − R_attn), angle, one-sided H1: MLP recovers more */
    t: -22.701,
    pOneSided: 0.999,
  },
  E11: {
    cell: 'idx 24 (Cell 25)',
    model: 'EleutherAI/pythia-410m',
    sentences: 100,
    seeds: 5,
    baseline: 4.21,
    angle: { unrepaired: 7.816, repaired: 7.322, damage: 3.605, repairedDamage: 3.112, recovery: { mean: 13.7, std: 0.8, perSeed: [14.0, 14.5, 12.8, 14.5, 12.7] } },
    magnitude: { unrepaired: 4.89, repaired: 4.686, damage: 0.68, repairedDamage: 0.476, recovery: { mean: 29.9, std: 5.6, perSeed: [30.5, 35.1, 19.2, 33.1, 31.7] } },
    /** paired t of magnitude vs angular recovery, one-sided H1: magnitude larger */
    t: 6.399,
    pOneSided: 0.00153,
  },
  figure2: {
    cell: 'idx 19 (Cell 20)',
    bug: "panel A's unrepaired bars show Pythia-1.4B's E9 scalars (0.93, 0.03) next to 410M's repaired damage; the correct unrepaired values are 3.608 ± 0.088 / 0.680 ± 0.038",
    panelA: { angular: { unrepaired: 3.608, unrepairedStd: 0.088, repaired: 2.583, repairedStd: 0.046 }, magnitude: { unrepaired: 0.68, unrepairedStd: 0.038, repaired: 0.576, repairedStd: 0.035 } },
    panelB: { top: 25.5, topStd: 0.4, middle: 13.2, middleStd: 0.6, bottom: 6.4, bottomStd: 0.3, random: 16.4, randomStd: 3.5, topFrom: 'E5 k=4 (not E6)' },
  },
} as const;
