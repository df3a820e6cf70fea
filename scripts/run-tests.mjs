#!/usr/bin/env node
// Runs node's test runner on exactly the compiled `*.test.js` files under dist/ (each test at most
// 10 minutes, and a file whose tests are done exits even if a handle is left open: a broken test
// must fail CI, never hang it).
// (Given a directory, Node 20 also runs every .js file under any `test/` folder and every
// `test-*.js` file, which would execute helper modules and worker scripts as tests.)
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

function collect(dir, out) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) collect(path, out);
    else if (entry.name.endsWith('.test.js')) out.push(path);
  }
  return out;
}

const roots = process.argv.slice(2);
const files = roots.length > 0 ? roots.flatMap((r) => (r.endsWith('.js') ? [r] : collect(r, []))) : collect('dist', []);
if (files.length === 0) {
  console.error('run-tests: no *.test.js files found (did tsc run?)');
  process.exit(1);
}
files.sort();
const r = spawnSync(process.execPath, ['--test', '--test-concurrency=2', '--test-timeout=600000', '--test-force-exit', ...files], { stdio: 'inherit' });
process.exit(r.status ?? 1);
