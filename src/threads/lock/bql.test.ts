import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BigLock } from './bql.js';
import { Mutex } from './mutex.js';

test('BigLock counts acquisitions and hand-offs from another holder', () => {
  const words = Mutex.allocateWords();
  // Two objects over the same words stand for two threads' views (used one after the other).
  const a = new BigLock(words, 'A');
  const b = new BigLock(words, 'B');
  a.lock(); a.unlock();
  a.lock(); a.unlock();
  assert.deepEqual([a.acquisitions, a.handoffs], [2, 0]);
  b.lock(); b.unlock();
  assert.deepEqual([b.acquisitions, b.handoffs], [1, 1]);
  assert.ok(a.lockWithTimeout(100));
  a.unlock();
  a.lock(); a.unlock();
  assert.deepEqual([a.acquisitions, a.handoffs], [4, 1]);
});
