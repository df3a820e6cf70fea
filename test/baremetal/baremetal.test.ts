/**
 * Runs every bare-metal test program under replayvm through the CLI and checks the finisher exit
 * status and the PASS line (fail-exit: status 3).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describeRun, elfPath, runReplayvm } from '../helpers/run-vm.js';
import { PROGRAMS } from './programs.js';

const TIMEOUT_MS = 60_000;

for (const program of PROGRAMS) {
  test(`bare-metal ${program.name} on replayvm`, async () => {
    const r = await runReplayvm(elfPath(program.name), TIMEOUT_MS);
    assert.equal(r.timedOut, false, `timed out after ${TIMEOUT_MS} ms\n${describeRun(r)}`);
    assert.equal(r.status, program.status, describeRun(r));
    const lines = r.stdout.replace(/\r/g, '').split('\n');
    assert.ok(lines.includes(program.line), `missing line "${program.line}"\n${describeRun(r)}`);
    assert.ok(!lines.some((l) => l.startsWith('FAIL ') && program.status === 0), describeRun(r));
  });
}
