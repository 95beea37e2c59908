#!/usr/bin/env node
// The `dirmag` command. A committed shim so npm links it before lib/dist is built.
const path = require('node:path');
const fs = require('node:fs');
const main = path.join(__dirname, '..', 'dist', 'cli', 'main.js');
if (!fs.existsSync(main)) {
  process.stderr.write(`dirmag: ${main} is missing; build it first with: npm run build\n`);
  process.exit(1);
}
require(main).cli(process.argv.slice(2));
