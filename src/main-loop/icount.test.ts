import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Clocks } from './clocks.js';
import { TimerLists } from './timers.js';
import { FakeHostTime } from '../../test/support/main-loop/fake-host-time.js';
import {
  MAX_ICOUNT_SHIFT, ICOUNT_WOBBLE_NS, adjustAutoShift, alignSleepNs, icountConfig, icountConfigProblem,
  icountIdle, icountNsPerStep, icountRound, installAutoShiftTimers, warpToDeadline,
} from './icount.js';

test('ns per step is 2^shift', () => {
  assert.equal(icountNsPerStep(0), 1);
  assert.equal(icountNsPerStep(3), 8);
  assert.equal(icountNsPerStep(MAX_ICOUNT_SHIFT), 1024);
  assert.equal(icountRound(17, 3), 3);
  assert.equal(icountRound(16, 3), 2);
});

test('configuration checks carry QEMU messages', () => {
  assert.equal(icountConfigProblem({ shift: 3, align: true, sleep: false }), 'align=on and sleep=off are incompatible');
  assert.equal(icountConfigProblem({ shift: 'auto', align: true, sleep: true }), 'shift=auto and align=on are incompatible');
  assert.equal(icountConfigProblem({ shift: 'auto', align: false, sleep: false }), 'shift=auto and sleep=off are incompatible');
  assert.equal(icountConfigProblem({ shift: 11, align: false, sleep: true }), 'icount: Invalid shift value');
  assert.equal(icountConfigProblem({ shift: -1, align: false, sleep: true }), 'icount: Invalid shift value');
  assert.equal(icountConfigProblem({ shift: 10, align: true, sleep: true }), undefined);
});

test('shift=auto adjustment: one step at a time, within 0..MAX_ICOUNT_SHIFT, ignoring wobble', () => {
  const far = 10 * ICOUNT_WOBBLE_NS;
  assert.equal(adjustAutoShift(3, 0, far), 2); // ahead: slow down
  assert.equal(adjustAutoShift(0, 0, far), 0); // lower bound
  assert.equal(adjustAutoShift(3, 0, -far), 4); // behind: speed up
  assert.equal(adjustAutoShift(MAX_ICOUNT_SHIFT, 0, -far), MAX_ICOUNT_SHIFT); // upper bound
  assert.equal(adjustAutoShift(3, 0, ICOUNT_WOBBLE_NS / 4), 3); // within wobble
  assert.equal(adjustAutoShift(3, far * 2, far), 3); // ahead but catching up
});

test('shift=auto driven by its timers stays within bounds', () => {
  const h = new FakeHostTime();
  let steps = 0;
  const c = new Clocks(h, icountConfig('auto'), () => steps);
  const timers = new TimerLists();
  assert.equal(installAutoShiftTimers(c, timers).length, 2);
  // A very slow guest: 1 step per 10 us of real time, so virtual time lags: shift rises to 10.
  for (let i = 0; i < 3000; i++) {
    steps += 1000;
    h.advance(10_000_000);
    timers.runAll(c);
  }
  assert.equal(c.shift, MAX_ICOUNT_SHIFT);
  // A very fast guest: shift falls to 0 and no further.
  for (let i = 0; i < 400; i++) {
    steps += 100_000_000;
    h.advance(1_000_000);
    timers.runAll(c);
  }
  assert.equal(c.shift, 0);
  assert.deepEqual(installAutoShiftTimers(new Clocks(h, icountConfig(3), () => 0), timers), []);
});

test('sleep=off: idle jumps virtual time to the next virtual deadline, no host sleep', () => {
  const h = new FakeHostTime();
  const c = new Clocks(h, icountConfig(1, false, false), () => 0);
  const timers = new TimerLists();
  assert.deepEqual(icountIdle(c, timers), { kind: 'no-timers' });
  let fired = 0;
  timers.create('virtual', () => fired++).mod(5000);
  timers.create('realtime', () => undefined).mod(h.mono + 10); // not a virtual deadline
  assert.deepEqual(icountIdle(c, timers), { kind: 'warped', ns: 5000 });
  assert.equal(c.now('virtual'), 5000);
  assert.equal(c.now('virtual_rt'), 0);
  timers.list('virtual').runExpired(c.now('virtual'));
  assert.equal(fired, 1);
  const t = timers.create('virtual', () => undefined);
  t.mod(5000);
  assert.equal(warpToDeadline(c, timers), 0); // already due: no warp
  c.pause();
  assert.equal(warpToDeadline(c, timers), -1);
});

test('sleep=on: idle sleeps on the host until the deadline, virtual follows real time', () => {
  const h = new FakeHostTime();
  const c = new Clocks(h, icountConfig(1), () => 0);
  const timers = new TimerLists();
  timers.create('virtual', () => undefined).mod(4000);
  assert.deepEqual(icountIdle(c, timers), { kind: 'sleep', hostNs: 4000 });
  h.advance(4000);
  c.endIdleWarp();
  assert.equal(c.now('virtual'), 4000);
});

test('align: sleep only when ahead by more than 3 ms', () => {
  assert.equal(alignSleepNs(-5), 0);
  assert.equal(alignSleepNs(3_000_000), 0);
  assert.equal(alignSleepNs(4_000_000), 4_000_000);
});
