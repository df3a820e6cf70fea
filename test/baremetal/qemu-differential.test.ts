/**
 * Differential test: each bare-metal program runs on the reference qemu-system-riscv32 (with
 * `-icount shift=0`) and on replayvm; the UART output (machine-specific `INFO*` lines excluded)
 * and the exit status must be equal. QEMU is required: without it this test fails.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { comparableOutput, describeRun, elfPath, qemuAvailable, runQemu, runReplayvm, QEMU } from '../helpers/run-vm.js';
import { PROGRAMS } from './programs.js';

const TIMEOUT_MS = 60_000;
const haveQemu = qemuAvailable();

test('qemu-system-riscv32 is installed', () => {
  assert.ok(haveQemu,
    `${QEMU} is required for the differential test (CI installs it: apt-get install qemu-system-misc)`);
});

for (const program of PROGRAMS) {
  test(`bare-metal ${program.name}: replayvm matches QEMU`, async () => {
    assert.ok(haveQemu, `${QEMU} is required for the differential test (CI installs it)`);
    const elf = elfPath(program.name);
    const ref = await runQemu(elf, TIMEOUT_MS, true);
    assert.equal(ref.timedOut, false, `QEMU timed out\n${describeRun(ref)}`);
    assert.equal(ref.status, program.status, `QEMU itself did not give the expected status\n${describeRun(ref)}`);
    const ours = await runReplayvm(elf, TIMEOUT_MS);
    assert.equal(ours.timedOut, false, `replayvm timed out\n${describeRun(ours)}`);
    assert.deepEqual(comparableOutput(ours.stdout), comparableOutput(ref.stdout),
      `UART output differs\nQEMU:\n${ref.stdout}\nreplayvm:\n${describeRun(ours)}`);
    assert.equal(ours.status, ref.status, describeRun(ours));
  });
}
