// Issue 4: with -icount shift=N,sleep=off and no external input, runs of the same guest (timer and
// external interrupts, WFI idle, RTC alarms) end with the same instruction count and state
// hash, whether the harts run in the vCPU worker thread or on the main thread. The RTC base is
// fixed (-rtc base=DATE) so the wall clock does not enter the machine.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI_PATH, elfPath, runProcess } from '../helpers/run-vm.js';

interface FinalState {
  readonly totalSteps: number;
  readonly stateHash: string;
}

const tmp = mkdtempSync(join(tmpdir(), 'replayvm-icount-'));
test.after(() => rmSync(tmp, { recursive: true, force: true }));

async function finalState(run: number, threaded: boolean): Promise<FinalState> {
  const path = join(tmp, `state-${run}.json`);
  const args = [CLI_PATH, '-M', 'virt', '-nographic', '-bios', 'none', '-icount', 'shift=0,sleep=off', '-rtc', 'base=2026-01-01',
    '-kernel', elfPath('interrupts')];
  const r = await runProcess(process.execPath, args, {
    timeoutMs: 30_000,
    env: { ...process.env, REPLAYVM_THREADS: threaded ? '1' : '0', REPLAYVM_FINAL_STATE: path },
  });
  assert.equal(r.timedOut, false, `run ${run} timed out`);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /PASS interrupts/);
  return JSON.parse(readFileSync(path, 'utf8')) as FinalState;
}

test('five threaded -icount runs of interrupts.elf and a single-thread run end identical', async () => {
  const reference = await finalState(0, false);
  assert.ok(reference.totalSteps > 10_000, `suspiciously short run: ${reference.totalSteps} steps`);
  for (let run = 1; run <= 5; run++) {
    assert.deepEqual(await finalState(run, true), reference, `threaded run ${run} differs from the single-thread run`);
  }
});
