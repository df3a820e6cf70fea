import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Machine, SliceResult } from '../../board/machine-api.js';
import type { HostTime } from '../../main-loop/clock.js';
import { RunLoop } from './run-loop.js';

/** A machine whose slices return the scripted results (then repeat the last). */
function fakeMachine(results: SliceResult[], budgets: number[] = []): Machine {
  let i = 0;
  const m: Pick<Machine, 'runSlice'> = {
    runSlice(maxSteps: number): SliceResult {
      budgets.push(maxSteps);
      const r = results[Math.min(i, results.length - 1)];
      i++;
      if (r === undefined) throw new Error('fakeMachine needs at least one slice result');
      return r;
    },
  };
  return m as Machine;
}

const realTime: HostTime = {
  monotonicNs: () => Number(process.hrtime.bigint()),
  realtimeNs: () => Date.now() * 1e6,
};

test('runs slices until the machine shuts down', async () => {
  const budgets: number[] = [];
  const loop = new RunLoop(fakeMachine([{ kind: 'running' }, { kind: 'running' },
    { kind: 'shutdown', cause: 'finisher-fail', exitCode: 7 }], budgets), realTime, { initialBudget: 1000 });
  assert.deepEqual(await loop.run(), { cause: 'finisher-fail', exitCode: 7 });
  assert.equal(budgets.length, 3);
  assert.ok((budgets[1] ?? 0) >= 1000, 'a fast slice grows the budget');
});

test('an idle machine sleeps until its wake time', async () => {
  const now = realTime.monotonicNs();
  let calls = 0;
  const m = fakeMachine([]);
  m.runSlice = () => {
    calls++;
    if (calls === 1) return { kind: 'idle', wakeAtHostNs: realTime.monotonicNs() + 50e6 };
    return { kind: 'shutdown', cause: 'guest-shutdown', exitCode: 0 };
  };
  await new RunLoop(m, realTime).run();
  assert.equal(calls, 2);
  assert.ok(realTime.monotonicNs() - now >= 45e6, 'waited about 50 ms');
});

test('waiting for input only: wake() resumes, stop() ends with host-request', async () => {
  let calls = 0;
  const m = fakeMachine([]);
  m.runSlice = () => {
    calls++;
    return calls === 2 ? { kind: 'shutdown', cause: 'guest-shutdown', exitCode: 5 } : { kind: 'idle', wakeAtHostNs: Infinity };
  };
  const loop = new RunLoop(m, realTime);
  const done = loop.run();
  try {
    // The first slice runs soon (give a loaded machine time), then nothing until wake().
    for (let i = 0; i < 200 && calls === 0; i++) await new Promise((r) => setTimeout(r, 10));
    await new Promise((r) => setTimeout(r, 30));
    assert.equal(calls, 1, 'no busy loop while idle');
    loop.wake();
    assert.deepEqual(await done, { cause: 'guest-shutdown', exitCode: 5 });
  } finally {
    loop.stop(0); // a failed check must not leave the loop keeping the test process alive
  }

  const loop2 = new RunLoop(fakeMachine([{ kind: 'idle', wakeAtHostNs: Infinity }]), realTime);
  const done2 = loop2.run();
  setTimeout(() => loop2.stop(0), 10);
  assert.deepEqual(await done2, { cause: 'host-request', exitCode: 0 });
});

test('an exception in a slice rejects the run', async () => {
  const m = fakeMachine([]);
  m.runSlice = () => {
    throw new Error('boom');
  };
  await assert.rejects(new RunLoop(m, realTime).run(), /boom/);
});
