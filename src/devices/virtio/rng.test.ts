import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as R from '../virtio-mmio/constants.js';
import { CountingEntropy, makeDevice } from '../../../test/support/virtio/driver.js';

function ready(entropy: CountingEntropy) {
  const t = makeDevice({ kind: 'rng' }, entropy);
  assert.equal(t.drv.offered() & 0xffffffffn, 0x30000000n, 'only the ring features below bit 32');
  assert.equal(t.drv.negotiate(), true);
  const q = t.drv.setupQueue(0);
  assert.equal(q.size, 64);
  t.drv.driverOk();
  return { ...t, q };
}

test('rng fills the writable buffers with backend bytes; used length = bytes written', () => {
  const entropy = new CountingEntropy();
  const { dev, q, irq, drv } = ready(entropy);
  const head = q.add([
    { len: 10, write: true },
    { len: 6, write: true },
  ]);
  q.kick();
  dev.processDoorbell();
  assert.deepEqual(q.takeUsed(), [{ id: head, len: 16 }]);
  assert.deepEqual(Array.from(q.result(head)), Array.from({ length: 16 }, (_, i) => i + 1));
  assert.equal(irq.level, true);
  assert.equal(drv.ack(), R.VIRTIO_MMIO_INT_VRING);
});

test('rng: a backend with less entropy than asked gives a shorter used length', () => {
  const entropy = new CountingEntropy(5);
  const { dev, q } = ready(entropy);
  const a = q.add([{ len: 16, write: true }]);
  const b = q.add([{ len: 3, write: true }]);
  q.kick();
  dev.processDoorbell();
  assert.deepEqual(q.takeUsed(), [
    { id: a, len: 5 },
    { id: b, len: 3 },
  ]);
  assert.deepEqual(Array.from(q.result(a).subarray(0, 6)), [1, 2, 3, 4, 5, 0xee]);
  assert.deepEqual(Array.from(q.result(b)), [6, 7, 8]);
  assert.equal(entropy.calls, 2);
});

test('rng with an indirect table', () => {
  const entropy = new CountingEntropy();
  const { dev, q } = ready(entropy);
  const head = q.add([{ len: 4, write: true }, { len: 4, write: true }], { indirect: true });
  q.kick();
  dev.processDoorbell();
  assert.deepEqual(q.takeUsed(), [{ id: head, len: 8 }]);
  assert.deepEqual(Array.from(q.result(head)), [1, 2, 3, 4, 5, 6, 7, 8]);
});
