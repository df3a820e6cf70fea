import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Ram } from '../memory/ram.js';
import { StateArena } from '../memory/state-arena.js';
import { restoreMachineState, saveMachineState } from '../memory/state-walk.js';
import { Clocks, ClocksError, clockStoreIn } from './clocks.js';
import { FakeHostTime } from '../../test/support/main-loop/fake-host-time.js';
import { IcountError, icountConfig } from './icount.js';

test('realtime and host read the host; virtual and virtual_rt start at 0', () => {
  const h = new FakeHostTime();
  const c = new Clocks(h, undefined, () => 0);
  assert.equal(c.now('realtime'), h.mono);
  assert.equal(c.now('host'), h.wall);
  assert.equal(c.now('virtual'), 0);
  assert.equal(c.now('virtual_rt'), 0);
  h.advance(500);
  assert.equal(c.now('virtual'), 500);
  assert.equal(c.now('virtual_rt'), 500);
  h.wall -= 10_000; // host wall clock set back: host follows, the others do not
  assert.equal(c.now('host'), h.wall);
  assert.equal(c.now('virtual'), 500);
});

test('pause stops the virtual clocks, not realtime; resume continues', () => {
  const h = new FakeHostTime();
  const c = new Clocks(h, undefined, () => 0);
  h.advance(100);
  c.pause();
  assert.equal(c.running, false);
  const rt = c.now('realtime');
  h.advance(1000);
  assert.equal(c.now('virtual'), 100);
  assert.equal(c.now('virtual_rt'), 100);
  assert.equal(c.now('realtime'), rt + 1000);
  c.pause(); // idempotent
  c.resume();
  c.resume();
  h.advance(50);
  assert.equal(c.now('virtual'), 150);
});

test('a machine created stopped starts its clocks at resume', () => {
  const h = new FakeHostTime();
  const c = new Clocks(h, undefined, () => 0, { running: false });
  h.advance(999);
  assert.equal(c.now('virtual'), 0);
  c.resume();
  h.advance(1);
  assert.equal(c.now('virtual'), 1);
});

test('icount: virtual = steps << shift + warps, independent of host time', () => {
  const h = new FakeHostTime();
  let steps = 10;
  const c = new Clocks(h, icountConfig(3), () => steps);
  assert.equal(c.now('virtual'), 0); // counted from creation
  steps = 110;
  h.advance(123_456);
  assert.equal(c.now('virtual'), 800);
  assert.equal(c.now('virtual_rt'), 123_456);
  c.warp(200);
  assert.equal(c.now('virtual'), 1000);
  assert.equal(c.stepsUntil(17), 3);
  assert.equal(c.alignAheadNs(), 1000 - 123_456);
  assert.throws(() => c.warp(-1), ClocksError);
});

test('warp without icount is refused', () => {
  const c = new Clocks(new FakeHostTime(), undefined, () => 0);
  assert.throws(() => c.warp(1), /needs icount/);
});

test('invalid icount configurations are refused', () => {
  const h = new FakeHostTime();
  assert.throws(() => new Clocks(h, { shift: 11, align: false, sleep: true }, () => 0), IcountError);
  assert.throws(() => new Clocks(h, { shift: 'auto', align: true, sleep: true }, () => 0), /shift=auto and align=on/);
});

test('sleep=on idle warp adds the real time spent idle', () => {
  const h = new FakeHostTime();
  const c = new Clocks(h, icountConfig(0), () => 0);
  c.startIdleWarp();
  assert.equal(c.idleWarping, true);
  h.advance(5000);
  assert.equal(c.endIdleWarp(), 5000);
  assert.equal(c.now('virtual'), 5000);
  assert.equal(c.endIdleWarp(), 0);
});

test('shift=auto idle warp never overtakes real time', () => {
  const h = new FakeHostTime();
  let steps = 0;
  const c = new Clocks(h, icountConfig('auto'), () => steps);
  steps = 1000; // 8000 ns of virtual time at shift 3, with no real time passed
  c.startIdleWarp();
  h.advance(10_000);
  assert.equal(c.endIdleWarp(), 2000); // real 10000 - virtual 8000
  assert.equal(c.now('virtual'), 10_000);
});

test('the arena words are the clocks\' state: a restore of the state walk brings the virtual clock back', () => {
  const h = new FakeHostTime();
  const arena = new StateArena(256);
  const ram = new Ram(0x8000_0000, 4096);
  const stepsWord = arena.allocate('board', 'steps', 1);
  const stepsNow = (): number => arena.u32[stepsWord]!;
  const c = new Clocks(h, icountConfig(2), stepsNow, { store: clockStoreIn(arena) });
  arena.u32[stepsWord] = 50;
  c.warp(7);
  h.advance(300);
  assert.equal(c.now('virtual'), 207);
  const saved = saveMachineState(arena, ram);
  arena.u32[stepsWord] = 90;
  c.warp(1000);
  c.startIdleWarp();
  assert.equal(c.now('virtual'), 1367);
  restoreMachineState(arena, ram, saved);
  c.stateReplaced();
  assert.equal(c.now('virtual'), 207);
  assert.equal(c.idleWarping, false, 'a warp in progress is dropped');
  arena.u32[stepsWord] = 51;
  assert.equal(c.now('virtual'), 211);

  // A state with another fixed shift does not fit this machine.
  const arena5 = new StateArena(256);
  arena5.allocate('board', 'steps', 1);
  const other = new Clocks(h, icountConfig(5), () => 0, { store: clockStoreIn(arena5) });
  restoreMachineState(arena5, ram, saved);
  assert.throws(() => other.stateReplaced(), /icount shift 2, this machine uses 5/);
});

test('shift=auto adjustment keeps the virtual clock continuous', () => {
  const h = new FakeHostTime();
  let steps = 0;
  const c = new Clocks(h, icountConfig('auto'), () => steps);
  assert.equal(c.shift, 3);
  // The guest runs far ahead of real time: 1e8 steps = 0.8 s virtual in 0.1 s real.
  steps = 100_000_000;
  h.advance(100_000_000);
  const before = c.now('virtual');
  c.adjustAutoShift();
  assert.equal(c.shift, 2);
  assert.equal(c.now('virtual'), before);
  steps += 1;
  assert.equal(c.now('virtual'), before + 4);
});

test('shift=auto: adjustAutoShift reports a change only; setShift (replay) gives the same clock to the bit', () => {
  const h = new FakeHostTime();
  let steps = 0;
  const recorded = new Clocks(h, icountConfig('auto'), () => steps);
  const replayed = new Clocks(new FakeHostTime(), icountConfig('auto'), () => steps);
  steps = 100_000_000;
  h.advance(100_000_000);
  const changed = recorded.adjustAutoShift();
  assert.equal(changed, 2);
  replayed.setShift(changed);
  assert.equal(replayed.now('virtual'), recorded.now('virtual'));
  steps += 12_345;
  assert.equal(replayed.now('virtual'), recorded.now('virtual'));
  // Virtual time now close to real time: no change, nothing to log.
  h.advance(recorded.now('virtual') - recorded.now('virtual_rt'));
  assert.equal(recorded.adjustAutoShift(), undefined);
  assert.throws(() => replayed.setShift(11), ClocksError);
  assert.throws(() => new Clocks(h, icountConfig(4), () => 0).setShift(3), /shift=auto/);
});

test('the last shift=auto delta is host-derived state, not guest state (a replay never measures it)', () => {
  const h = new FakeHostTime();
  let steps = 0;
  const store = { guest: new Float64Array(2), host: new Float64Array(4), seq: new Int32Array(new SharedArrayBuffer(4)) };
  const c = new Clocks(h, icountConfig('auto'), () => steps, { store });
  steps = 100_000_000;
  h.advance(100_000_000);
  const guestBefore = store.guest.slice();
  c.adjustAutoShift();
  assert.notEqual(store.host[3], 0, 'the delta is kept among the host fields');
  assert.equal(store.guest[1], 2, 'the shift is guest state');
  assert.notDeepEqual(store.guest, guestBefore);
});
