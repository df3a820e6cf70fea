import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as R from '../virtio-mmio/constants.js';
import { featureBits } from './constants.js';
import { defaultVirtioNetMac, parseMac, VIRTIO_NET_F_MAC, VIRTIO_NET_F_MRG_RXBUF, VIRTIO_NET_F_STATUS } from './net.js';
import { FakeNet, makeDevice } from '../../../test/support/virtio/driver.js';

function frame(len: number, seed: number): Uint8Array {
  return Uint8Array.from({ length: len }, (_, i) => (i * 3 + seed) & 0xff);
}

function ready(options: { mrg?: boolean; mac?: string } = {}) {
  const net = new FakeNet();
  const t = makeDevice({ kind: 'net', ...(options.mac !== undefined ? { mac: options.mac } : {}) }, net);
  assert.equal(t.drv.negotiate((f) => (options.mrg === true ? f : f & ~featureBits(VIRTIO_NET_F_MRG_RXBUF))), true);
  const rx = t.drv.setupQueue(0, 32);
  const tx = t.drv.setupQueue(1, 32);
  t.drv.driverOk();
  t.dev.processDoorbell(); // DRIVER_OK rang the status doorbell
  return { ...t, net, rx, tx };
}

test('net config: MAC (default 52:54:00:12:34:56 or given) and link status; features', () => {
  const { drv } = makeDevice({ kind: 'net' });
  assert.deepEqual([0, 1, 2, 3, 4, 5].map((i) => drv.config(i, 1)), [0x52, 0x54, 0x00, 0x12, 0x34, 0x56]);
  assert.equal(drv.config(6, 2), 1);
  assert.equal(drv.config(8, 2), 0xffff, 'config space is 8 bytes');
  const offered = drv.offered();
  for (const b of [VIRTIO_NET_F_MAC, VIRTIO_NET_F_STATUS, VIRTIO_NET_F_MRG_RXBUF]) assert.notEqual(offered & featureBits(b), 0n);
  const other = makeDevice({ kind: 'net', mac: defaultVirtioNetMac(1) }).drv;
  assert.equal(other.config(5, 1), 0x57);
  const custom = makeDevice({ kind: 'net', mac: '02:00:00:aa:bb:cc' }).drv;
  assert.equal(custom.config(0, 4), 0xaa000002);
  assert.equal(custom.config(4, 2), 0xccbb);
  assert.throws(() => parseMac('02:00:00:aa:bb'), RangeError);
});

test('net tx: the header is stripped, the frame goes to the backend, used length 0', () => {
  const { dev, tx, net, irq, drv } = ready();
  const f = frame(60, 1);
  const packet = new Uint8Array(12 + f.length);
  packet.set(f, 12);
  const a = tx.add([{ data: packet.subarray(0, 12) }, { data: packet.subarray(12, 30) }, { data: packet.subarray(30) }]);
  const b = tx.add([{ data: packet }], { indirect: true });
  tx.kick();
  dev.processDoorbell();
  assert.deepEqual(net.sent, [f, f]);
  assert.deepEqual(tx.takeUsed(), [
    { id: a, len: 0 },
    { id: b, len: 0 },
  ]);
  assert.equal(irq.level, true);
  assert.equal(drv.ack(), R.VIRTIO_MMIO_INT_VRING);
});

test('net rx: refused without buffers, delivered after the guest adds buffers and notifies', () => {
  const net = new FakeNet();
  const { dev, drv } = makeDevice({ kind: 'net' }, net);
  const f1 = frame(64, 7);
  assert.equal(net.deliver(f1), false, 'before DRIVER_OK the device has no buffer');
  drv.negotiate();
  const rx = drv.setupQueue(0, 16);
  drv.setupQueue(1, 16);
  drv.driverOk();
  dev.processDoorbell(); // DRIVER_OK: the backend retries, the ring is still empty
  assert.equal(net.wakeups, 1);
  assert.equal(net.queued.length, 1);
  assert.equal(net.deliver(frame(70, 9)), false, 'queued behind the first frame');
  const a = rx.add([{ len: 1526, write: true }]);
  const b = rx.add([{ len: 1526, write: true }]);
  rx.kick();
  dev.processDoorbell();
  assert.equal(net.wakeups, 2);
  assert.equal(net.queued.length, 0);
  assert.deepEqual(rx.takeUsed(), [
    { id: a, len: 12 + 64 },
    { id: b, len: 12 + 70 },
  ]);
  const got = rx.result(a);
  assert.deepEqual(Array.from(got.subarray(0, 12)), [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0], 'zero header, num_buffers 1');
  assert.deepEqual(got.subarray(12, 12 + 64), f1);
  assert.equal(dev.receive(frame(10, 0)), false, 'ring empty again');
});

test('net rx without MRG_RXBUF: a frame larger than the buffer is dropped and the buffer kept', () => {
  const { dev, rx, net } = ready();
  const small = rx.add([{ len: 100, write: true }]);
  assert.equal(net.deliver(frame(200, 1)), true, 'dropped, not queued');
  assert.equal(rx.usedIdx, 0);
  assert.equal(net.deliver(frame(80, 2)), true);
  assert.deepEqual(rx.takeUsed(), [{ id: small, len: 92 }]);
  assert.equal(dev.broken, false);
});

test('net rx with MRG_RXBUF: a frame spans several buffers and num_buffers counts them', () => {
  const { dev, rx, net } = ready({ mrg: true });
  const heads = [0, 1, 2].map(() => rx.add([{ len: 512, write: true }]));
  const f = frame(1200, 5);
  assert.equal(net.deliver(f), true);
  assert.deepEqual(rx.takeUsed(), [
    { id: heads[0], len: 512 },
    { id: heads[1], len: 512 },
    { id: heads[2], len: 188 },
  ]);
  const bytes = new Uint8Array(1536);
  heads.forEach((h, i) => bytes.set(rx.result(h), i * 512));
  assert.equal(bytes[10], 3, 'num_buffers');
  assert.deepEqual(bytes.subarray(12, 12 + 1200), f);
  // Not enough room in what is left: refused and the buffers are given back.
  const d = rx.add([{ len: 512, write: true }]);
  assert.equal(net.deliver(frame(600, 1)), false);
  assert.equal(rx.usedIdx, 3);
  const e = rx.add([{ len: 512, write: true }]);
  rx.kick();
  assert.equal(net.queued.length, 1, 'nothing happens before the main loop processes the doorbell');
  dev.processDoorbell();
  assert.equal(net.queued.length, 0);
  assert.deepEqual(rx.takeUsed(), [
    { id: d, len: 512 },
    { id: e, len: 100 },
  ]);
  assert.equal(rx.result(d)[10], 2);
});

test('net link down: frames are dropped and the config says so', () => {
  const { dev, rx, net, drv, irq } = ready();
  rx.add([{ len: 1526, write: true }]);
  dev.setLinkUp(false);
  assert.equal(drv.config(6, 2), 0);
  assert.equal(irq.level, true);
  assert.equal(drv.ack(), R.VIRTIO_MMIO_INT_CONFIG);
  assert.equal(net.deliver(frame(60, 0)), true);
  assert.equal(rx.usedIdx, 0);
  dev.setLinkUp(true);
  assert.equal(net.deliver(frame(60, 0)), true);
  assert.equal(rx.usedIdx, 1);
});
