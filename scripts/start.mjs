#!/usr/bin/env node
// `npm start`: boots the bundled Linux guest while recording, as the README describes. It works
// the same from a clone and from an installed package (`npm start --prefix node_modules/replayvm`,
// or `npm start` inside the package's folder): the guest image is found beside this script, in the
// package, whatever the current folder; the run (and so the recording's log) happens in the folder
// npm was started from (INIT_CWD), not inside node_modules.
import { existsSync } from 'node:fs';
import { isAbsolute, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL, URL } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const cli = join(root, 'dist', 'src', 'cli', 'main.js');
const image = join(root, 'guest', 'linux', 'build', 'Image.gz');
const cwd = process.env.INIT_CWD ?? process.cwd();

if (!existsSync(cli)) {
  console.error(`npm start: ${cli} is missing: build first (npm run build)`);
  process.exit(1);
}
if (!existsSync(image)) {
  console.error(`npm start: the guest image ${image} is missing (guest/README.md says how to build it)`);
  process.exit(1);
}

/** A path as short as it can be from `cwd`: relative inside it, absolute outside. */
function shown(path) {
  const r = relative(cwd, path);
  return r === '' || r.startsWith('..') || isAbsolute(r) ? path : r;
}

// The CLI runs in this process, as if started as `node dist/src/cli/main.js record -- ...` from
// `cwd` (its replay hint names main.js by path relative to the current folder).
process.chdir(cwd);
process.argv = [process.execPath, cli, 'record', '--', '-M', 'virt', '-nographic', '-bios', 'default', '-kernel', shown(image),
  '-device', 'virtio-rng-device', '-netdev', 'user,id=net0', '-device', 'virtio-net-device,netdev=net0'];
await import(pathToFileURL(cli).href);
