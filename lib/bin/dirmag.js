#!/usr/bin/env node
// The `dirmag` command. A committed shim so npm links it before lib/dist is built.
const path = require('node:path');
const fs = require('node:fs');
const dist = path.join(__dirname, '..', 'dist');
const main = path.join(dist, 'cli', 'main.js');
if (!fs.existsSync(main)) {
  process.stderr.write(`dirmag: ${main} is missing; build it first with: npm run build\n`);
  process.exit(1);
}
const { RUNTIME_ENV, NODE_FLAGS, needsRestart } = require(path.join(dist, 'util', 'runtime.js'));
if (needsRestart()) {
  // malloc and V8 read their settings at start only (util/runtime.ts): run once more with them, as a child
  // that owns the terminal's signals too; its exit is this command's
  const { spawn } = require('node:child_process');
  const child = spawn(process.execPath, [...NODE_FLAGS, ...process.execArgv, __filename, ...process.argv.slice(2)], {
    stdio: 'inherit',
    env: { ...process.env, ...RUNTIME_ENV },
  });
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => child.kill(sig));
  child.on('exit', (code, signal) => {
    if (signal) process.kill(process.pid, signal);
    else process.exit(code ?? 1);
  });
} else {
  require(main).cli(process.argv.slice(2));
}
