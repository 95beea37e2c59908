/**
 * How the processes that run experiments start (the CLI and the notebook kernel), for memory
 * (issue 18; measured in its note, reduced `reproduce` and mechanism-only runs on a 410M config):
 * - glibc's malloc raises its mmap threshold each time a large block is freed (up to 32 MiB) and
 *   keeps what is freed below it for reuse: ONNX Runtime's per-pass temporaries (a pass's [R, vocab]
 *   logits, its activations) then stay in the process — 66–145 MiB more RSS at 410M, for no
 *   measurable speed. A fixed threshold hands blocks of 1 MiB and more back to the system.
 *   Other C libraries ignore the variable.
 * - V8's young generation grows to 16 MiB semi-spaces; the experiments' JavaScript objects are
 *   small and short-lived (the tensors are ArrayBuffers outside the heap), so 2 MiB keep the heap
 *   ≈ 25–50 MiB smaller.
 * Both are read at start only: bin/dirmag.js restarts itself once with them, the kernel spec starts
 * the kernel with them.
 */
export const RUNTIME_ENV: Readonly<Record<string, string>> = { MALLOC_MMAP_THRESHOLD_: String(1 << 20) };
export const NODE_FLAGS: readonly string[] = ['--max-semi-space-size=2'];

/** Whether this process started without the settings above. */
export function needsRestart(
  env: NodeJS.ProcessEnv = process.env,
  execArgv: readonly string[] = process.execArgv,
): boolean {
  const missingEnv = process.platform === 'linux' && Object.keys(RUNTIME_ENV).some((k) => env[k] === undefined);
  return missingEnv || NODE_FLAGS.some((f) => !execArgv.some((a) => a.split('=')[0] === f.split('=')[0]));
}
