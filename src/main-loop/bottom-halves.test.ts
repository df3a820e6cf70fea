import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BottomHalves } from './bottom-halves.js';

test('pending bottom halves run once each, in scheduling order', () => {
  const bhs = new BottomHalves();
  const log: string[] = [];
  const a = bhs.create(() => log.push('a'));
  const b = bhs.create(() => log.push('b'));
  b.schedule();
  a.schedule();
  b.schedule(); // idempotent: keeps its place
  assert.equal(bhs.hasPending, true);
  assert.equal(bhs.poll(), 2);
  assert.deepEqual(log, ['b', 'a']);
  assert.equal(bhs.poll(), 0);
  assert.equal(bhs.hasPending, false);
});

test('cancel removes a scheduled half, also from inside a poll', () => {
  const bhs = new BottomHalves();
  const log: string[] = [];
  const c = bhs.create(() => log.push('c'));
  const a = bhs.create(() => {
    log.push('a');
    c.cancel();
  });
  const b = bhs.create(() => log.push('b'));
  b.schedule();
  b.cancel();
  assert.equal(b.pending, false);
  a.schedule();
  c.schedule();
  bhs.poll();
  assert.deepEqual(log, ['a']);
});

test('a half scheduled during a poll runs at the next poll', () => {
  const bhs = new BottomHalves();
  let n = 0;
  const self = bhs.create(() => {
    n++;
    self.schedule();
  });
  self.schedule();
  assert.equal(bhs.poll(), 1);
  assert.equal(self.pending, true);
  assert.equal(bhs.poll(), 1);
  assert.equal(n, 2);
});
