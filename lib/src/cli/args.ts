/** Minimal `--key value` / `--flag` parser shared by every subcommand. */
export interface ParsedArgs {
  positional: string[];
  options: Record<string, string | boolean>;
}

export function parseArgs(argv: string[], booleans: string[] = []): ParsedArgs {
  const positional: string[] = [];
  const options: Record<string, string | boolean> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) {
      positional.push(a);
      continue;
    }
    const eq = a.indexOf('=');
    const key = eq >= 0 ? a.slice(2, eq) : a.slice(2);
    if (eq >= 0) options[key] = a.slice(eq + 1);
    else if (booleans.includes(key) || i + 1 >= argv.length || argv[i + 1].startsWith('--')) options[key] = true;
    else options[key] = argv[++i];
  }
  return { positional, options };
}

export function stringOpt(args: ParsedArgs, key: string, fallback?: string): string | undefined {
  const v = args.options[key];
  if (v === undefined) return fallback;
  if (typeof v !== 'string') throw new Error(`option --${key} needs a value`);
  return v;
}

export function numberList(text: string, what: string): number[] {
  const out = text.split(',').map((s) => Number(s.trim()));
  for (const x of out)
    if (!Number.isFinite(x)) throw new Error(`${what}: '${text}' is not a comma-separated list of numbers`);
  return out;
}

/** `--key N` as a whole number ≥ `min` (default 1), or undefined when absent; one-line error otherwise. */
export function intOpt(args: ParsedArgs, key: string, min = 1): number | undefined {
  const v = stringOpt(args, key);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!/^\s*\d+\s*$/.test(v) || n < min) throw new Error(`--${key} must be a whole number ≥ ${min}, got '${v}'`);
  return n;
}
