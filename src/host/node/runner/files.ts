/** Files the runner writes whole: the `dumpdtb` tree and the test hook's final state. */
import { closeSync, openSync, renameSync, unlinkSync } from 'node:fs';
import type { Machine } from '../../../board/machine-api.js';
import { errnoText } from '../errno-text.js';
import { writeAll } from '../write-all.js';
import { RunnerError } from './errors.js';

/** Writes `data` to `path` through a temporary file and a rename, as QEMU's dumpdtb. */
export function writeFileAtomically(path: string, data: Uint8Array): void {
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    const fd = openSync(tmp, 'w');
    try {
      writeAll(fd, data);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (e) {
    try {
      unlinkSync(tmp);
    } catch {
      // never created
    }
    throw new RunnerError(`-machine dumpdtb=${path}: could not write file: ${errnoText(e)}`);
  }
}

/**
 * Test hook: with REPLAYVM_FINAL_STATE=PATH, writes {"totalSteps","stateHash"} of the machine
 * at exit (both loops; the machine state is shared memory, so the main thread sees the
 * vCPU thread's final state). Determinism tests compare these across runs.
 */
export function writeFinalState(machine: Machine): void {
  const path = process.env['REPLAYVM_FINAL_STATE'];
  if (path === undefined || path === '') return;
  writeFileAtomically(path, new TextEncoder().encode(JSON.stringify({ totalSteps: machine.totalSteps, stateHash: machine.stateHash() })));
}
