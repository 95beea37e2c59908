/**
 * glibc's malloc raises its mmap threshold each time a large block is freed (up to 32 MiB) and keeps
 * what is freed below it for reuse: ONNX Runtime's per-pass temporaries (a pass's [N, vocab] logits,
 * its activations) then stay in the process for good — 66–145 MiB more RSS on a 410M run, for no
 * measurable speed (issue 18 note: scratch A/B of plain and perturbed passes, best of 5). A fixed
 * threshold hands blocks of 1 MiB and more back to the system when freed. glibc reads it once, at
 * start, so it is set in the environment: by bin/dirmag.js (which restarts itself once with it) and
 * by the notebook kernel's spec. Other C libraries ignore it.
 */
export const MALLOC_ENV: Readonly<Record<string, string>> = { MALLOC_MMAP_THRESHOLD_: String(1 << 20) };

/** Whether this process started without the setting (and so would keep freed temporaries). */
export function needsMallocEnv(env: NodeJS.ProcessEnv = process.env): boolean {
  return process.platform === 'linux' && Object.keys(MALLOC_ENV).some((k) => env[k] === undefined);
}
