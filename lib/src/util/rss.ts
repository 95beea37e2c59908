/** This process's memory high-water mark. */
import * as fs from 'node:fs';

/** Peak resident set size of this process in bytes (VmHWM; maxRSS where /proc is missing). */
export function peakRss(): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync('/proc/self/status', 'utf8'));
    if (m) return Number(m[1]) * 1024;
  } catch {
    /* not Linux */
  }
  return process.resourceUsage().maxRSS * 1024;
}
