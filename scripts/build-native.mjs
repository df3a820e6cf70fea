#!/usr/bin/env node
// npm's install step (`npm ci`, `npm install`, and the install of the packed package): builds
// the native addon under native/ (Linux OFD byte-range locks for disk images, as QEMU takes
// them) with node-gyp, which npm puts on PATH for its scripts. A machine without a C compiler
// still installs: replayvm then runs without image locking and says so when it opens a disk.
import { spawnSync } from 'node:child_process';

const r = spawnSync('node-gyp', ['rebuild'], { stdio: 'inherit', shell: process.platform === 'win32' });
if (r.status !== 0) {
  const why = r.error !== undefined ? r.error.message : `node-gyp exited with status ${r.status ?? r.signal}`;
  console.warn(`replayvm: warning: the native addon (image locking) was not built: ${why}`);
}
