import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Clocks } from './clocks.js';
import { TimerError, TimerList, TimerLists } from './timers.js';
import { FakeHostTime } from '../../test/support/main-loop/fake-host-time.js';
import { icountConfig } from './icount.js';

test('expired timers run in expiry order, ties in arming order', () => {
  const l = new TimerList('virtual');
  const log: string[] = [];
  const a = l.create(() => log.push('a'));
  const b = l.create(() => log.push('b'));
  const c = l.create(() => log.push('c'));
  const d = l.create(() => log.push('d'));
  c.mod(20);
  a.mod(10);
  b.mod(10);
  d.mod(30);
  assert.equal(l.deadlineNs(), 10);
  assert.equal(l.runExpired(20), 3);
  assert.deepEqual(log, ['a', 'b', 'c']);
  assert.equal(a.pending, false);
  assert.equal(d.pending, true);
  assert.equal(l.deadlineNs(), 30);
});

test('re-arming moves a timer behind equal expiries; delete disarms', () => {
  const l = new TimerList('realtime');
  const log: string[] = [];
  const a = l.create(() => log.push('a'));
  const b = l.create(() => log.push('b'));
  a.mod(5);
  b.mod(5);
  a.mod(5);
  b.del();
  b.del();
  assert.equal(l.size, 1);
  l.runExpired(5);
  assert.deepEqual(log, ['a']);
  assert.equal(l.deadlineNs(), undefined);
});

test('callbacks may re-arm; a timer armed in the past runs in the same pass', () => {
  const l = new TimerList('virtual');
  let n = 0;
  const t = l.create(() => {
    n++;
    if (n < 3) t.mod(n);
  });
  t.mod(0);
  assert.equal(l.runExpired(10), 3);
  assert.equal(t.pending, false);
});

test('bad expiries and foreign timers are refused', () => {
  const l = new TimerList('virtual');
  const other = new TimerList('host');
  assert.throws(() => l.create(() => undefined).mod(NaN), TimerError);
  assert.throws(() => l.mod(other.create(() => undefined), 1), /belongs to the host list/);
});

test('nextDeadline: earliest over clocks, virtual only while running', () => {
  const h = new FakeHostTime();
  const clocks = new Clocks(h, undefined, () => 0);
  const timers = new TimerLists();
  assert.equal(timers.nextDeadline(clocks), -1);
  timers.create('realtime', () => undefined).mod(h.mono + 900);
  timers.create('virtual', () => undefined).mod(300);
  timers.create('host', () => undefined).mod(h.wall + 700);
  assert.equal(timers.nextDeadline(clocks), 300);
  assert.equal(timers.deadlineNs('virtual', clocks), 300);
  clocks.pause();
  assert.equal(timers.deadlineNs('virtual', clocks), -1);
  assert.equal(timers.nextDeadline(clocks), 700);
  h.advance(800);
  assert.equal(timers.nextDeadline(clocks), 0);
  assert.equal(timers.runAll(clocks), 1); // host only: virtual is stopped, realtime not due
  clocks.resume();
  h.advance(300);
  assert.equal(timers.runAll(clocks), 2);
});

test('with icount, virtual deadlines do not bound the host sleep', () => {
  const h = new FakeHostTime();
  const clocks = new Clocks(h, icountConfig(0), () => 0);
  const timers = new TimerLists();
  timers.create('virtual', () => undefined).mod(100);
  assert.equal(timers.nextDeadline(clocks), -1);
  assert.equal(timers.deadlineNs('virtual', clocks), 100);
  timers.create('virtual_rt', () => undefined).mod(400);
  assert.equal(timers.nextDeadline(clocks), 400);
});
