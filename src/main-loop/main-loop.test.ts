import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Clocks } from './clocks.js';
import { FakeHostTime } from '../../test/support/main-loop/fake-host-time.js';
import { AUTO_INITIAL_SHIFT, installAutoShiftTimers } from './icount.js';
import { MainLoop } from './main-loop.js';

function rig(icount = false): { time: FakeHostTime; clocks: Clocks; loop: MainLoop; wakes: () => number; locked: () => number; steps: { n: number } } {
  const time = new FakeHostTime();
  const steps = { n: 0 };
  const clocks = new Clocks(time, icount ? { shift: 'auto', align: false, sleep: true } : undefined, () => steps.n);
  let wakes = 0;
  let locked = 0;
  const loop = new MainLoop(clocks, (fn) => {
    locked++;
    return fn();
  }, () => wakes++);
  return { time, clocks, loop, wakes: () => wakes, locked: () => locked, steps };
}

test('bottom halves wake the loop once, run under the locks in order, and may schedule more', () => {
  const r = rig();
  const order: string[] = [];
  const b = r.loop.createBottomHalf(() => order.push('b'));
  r.loop.createBottomHalf(() => {
    order.push('a');
    b.schedule();
  }).schedule();
  assert.equal(r.wakes(), 1);
  assert.equal(r.loop.timeoutNs(), 0);
  assert.equal(r.loop.dispatch(), 2);
  assert.deepEqual(order, ['a', 'b']);
  assert.equal(r.locked(), 1);
  assert.equal(r.wakes(), 1, 'scheduling during dispatch does not wake again');
  assert.equal(r.loop.timeoutNs(), -1);
});

test('timers of the four clocks: timeout to the earliest, virtual ones frozen while the VM is stopped', () => {
  const r = rig();
  const fired: string[] = [];
  r.loop.createTimer('realtime', () => fired.push('realtime')).mod(r.clocks.now('realtime') + 5000);
  r.loop.createTimer('virtual', () => fired.push('virtual')).mod(r.clocks.now('virtual') + 2000);
  r.loop.createTimer('host', () => fired.push('host')).mod(r.clocks.now('host') + 9000);
  r.loop.createTimer('virtual_rt', () => fired.push('virtual_rt')).mod(r.clocks.now('virtual_rt') + 7000);
  assert.equal(r.loop.timeoutNs(), 2000);
  r.clocks.pause();
  assert.equal(r.loop.timeoutNs(), 5000, 'a stopped VM has no virtual deadline');
  r.time.advance(10_000);
  r.loop.dispatch();
  assert.deepEqual(fired, ['realtime', 'host'], 'virtual and virtual_rt stood still');
  r.clocks.resume();
  r.time.advance(7000);
  r.loop.dispatch();
  assert.deepEqual(fired, ['realtime', 'host', 'virtual', 'virtual_rt']);
});

test('icount shift=auto: the main loop\'s adjustment timers slow the clock down when the guest runs ahead', () => {
  const r = rig(true);
  installAutoShiftTimers(r.clocks, r.loop.timers);
  assert.equal(r.clocks.shift, AUTO_INITIAL_SHIFT);
  // The guest executes 100 M instructions (0.8 s of virtual time at shift 3) in 0.1 s of host time.
  for (let i = 0; i < 10; i++) {
    r.steps.n += 10_000_000;
    r.time.advance(10_000_000);
    r.loop.dispatch();
  }
  assert.ok(r.clocks.shift < AUTO_INITIAL_SHIFT, `shift ${r.clocks.shift} should have dropped`);
  const v = r.clocks.now('virtual');
  r.loop.dispatch();
  assert.equal(r.clocks.now('virtual'), v, 'adjustments keep the virtual clock continuous');
});
