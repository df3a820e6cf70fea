import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as R from '../virtio-mmio/constants.js';
import { featureBits, VIRTIO_F_RING_EVENT_IDX, VIRTQ_AVAIL_F_NO_INTERRUPT } from './constants.js';
import {
  VIRTIO_BLK_F_RO,
  VIRTIO_BLK_S_IOERR,
  VIRTIO_BLK_S_OK,
  VIRTIO_BLK_S_UNSUPP,
  VIRTIO_BLK_T_FLUSH,
  VIRTIO_BLK_T_GET_ID,
  VIRTIO_BLK_T_IN,
  VIRTIO_BLK_T_OUT,
} from './blk.js';
import { blkHeader, makeDevice, MemoryBlockBackend } from '../../../test/support/virtio/driver.js';

const SECTORS = 64;

function pattern(len: number, seed: number): Uint8Array {
  return Uint8Array.from({ length: len }, (_, i) => (i * 7 + seed) & 0xff);
}

function ready(options: { readOnly?: boolean; serial?: string; eventIdx?: boolean; sync?: boolean } = {}) {
  const backend = new MemoryBlockBackend(SECTORS * 512, options.readOnly ?? false);
  backend.sync = options.sync ?? false;
  const spec = {
    kind: 'blk',
    byteLength: SECTORS * 512,
    readOnly: options.readOnly ?? false,
    ...(options.serial !== undefined ? { serial: options.serial } : {}),
  } as const;
  const t = makeDevice(spec, backend);
  const eventIdx = options.eventIdx ?? false;
  assert.equal(t.drv.negotiate((f) => (eventIdx ? f : f & ~featureBits(VIRTIO_F_RING_EVENT_IDX))), true);
  const q = t.drv.setupQueue(0, 64);
  t.drv.driverOk();
  return { ...t, backend, q };
}

/** Last byte of a request's writable area: the status. */
function statusOf(result: Uint8Array): number {
  return result[result.length - 1]!;
}

test('read: data lands in the guest buffers, status OK, used length = writable bytes, interrupt', () => {
  const { dev, q, backend, irq, drv, ram } = ready();
  backend.data.set(pattern(1024, 3), 3 * 512);
  const head = q.add([{ data: blkHeader(VIRTIO_BLK_T_IN, 3) }, { len: 700, write: true }, { len: 324, write: true }, { len: 1, write: true }]);
  q.kick();
  dev.processDoorbell();
  assert.equal(q.usedIdx, 0, 'not complete before the backend answers');
  const gens = Array.from(ram.pageGeneration);
  backend.run();
  assert.deepEqual(q.takeUsed(), [{ id: head, len: 1025 }]);
  const out = q.result(head);
  assert.deepEqual(out.subarray(0, 1024), pattern(1024, 3));
  assert.equal(statusOf(out), VIRTIO_BLK_S_OK);
  assert.notDeepEqual(Array.from(ram.pageGeneration), gens, 'DMA writes bump page generations');
  assert.equal(irq.level, true);
  assert.equal(drv.ack(), R.VIRTIO_MMIO_INT_VRING);
});

test('write, then flush, then read back', () => {
  const { dev, q, backend } = ready({ sync: true });
  const data = pattern(1536, 9);
  const w = q.add([{ data: blkHeader(VIRTIO_BLK_T_OUT, 10) }, { data: data.subarray(0, 1000) }, { data: data.subarray(1000) }, { len: 1, write: true }]);
  const f = q.add([{ data: blkHeader(VIRTIO_BLK_T_FLUSH) }, { len: 1, write: true }]);
  q.kick();
  dev.processDoorbell();
  assert.deepEqual(q.takeUsed(), [
    { id: w, len: 1 },
    { id: f, len: 1 },
  ]);
  assert.equal(statusOf(q.result(w)), VIRTIO_BLK_S_OK);
  assert.equal(statusOf(q.result(f)), VIRTIO_BLK_S_OK);
  assert.deepEqual(backend.data.subarray(10 * 512, 13 * 512), data);
  assert.equal(backend.flushes, 1);
  const r = q.add([{ data: blkHeader(VIRTIO_BLK_T_IN, 11) }, { len: 512, write: true }, { len: 1, write: true }]);
  q.kick();
  dev.processDoorbell();
  assert.deepEqual(q.result(r).subarray(0, 512), data.subarray(512, 1024));
});

test('GET_ID: the serial, NUL-terminated only when shorter than 20 bytes', () => {
  for (const [serial, expect] of [
    ['replayvm-disk0', 'replayvm-disk0\0'],
    ['ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'ABCDEFGHIJKLMNOPQRST'],
  ] as const) {
    const { dev, q } = ready({ serial, sync: true });
    const head = q.add([{ data: blkHeader(VIRTIO_BLK_T_GET_ID) }, { len: 20, write: true }, { len: 1, write: true }]);
    q.kick();
    dev.processDoorbell();
    const out = q.result(head);
    assert.equal(statusOf(out), VIRTIO_BLK_S_OK);
    assert.equal(String.fromCharCode(...out.subarray(0, expect.length)), expect);
  }
});

test('out-of-range sectors and partial sectors fail with IOERR; unknown types with UNSUPP', () => {
  const { dev, q, backend } = ready({ sync: true });
  const heads = [
    q.add([{ data: blkHeader(VIRTIO_BLK_T_IN, SECTORS) }, { len: 512, write: true }, { len: 1, write: true }]),
    q.add([{ data: blkHeader(VIRTIO_BLK_T_IN, SECTORS - 1) }, { len: 1024, write: true }, { len: 1, write: true }]),
    q.add([{ data: blkHeader(VIRTIO_BLK_T_OUT, 2 ** 40) }, { data: new Uint8Array(512) }, { len: 1, write: true }]),
    q.add([{ data: blkHeader(VIRTIO_BLK_T_IN, 0) }, { len: 100, write: true }, { len: 1, write: true }]),
    q.add([{ data: blkHeader(42, 0) }, { len: 1, write: true }]),
    q.add([{ data: blkHeader(VIRTIO_BLK_T_IN, SECTORS - 1) }, { len: 512, write: true }, { len: 1, write: true }]),
  ];
  q.kick();
  dev.processDoorbell();
  const status = heads.map((h) => statusOf(q.result(h)));
  assert.deepEqual(status, [VIRTIO_BLK_S_IOERR, VIRTIO_BLK_S_IOERR, VIRTIO_BLK_S_IOERR, VIRTIO_BLK_S_IOERR, VIRTIO_BLK_S_UNSUPP, VIRTIO_BLK_S_OK]);
  assert.equal(q.takeUsed().length, 6);
  assert.equal(backend.pending.length, 0);
});

test('read-only disk: F_RO offered, writes fail with IOERR and never reach the backend', () => {
  const { dev, q, backend, drv, logs } = ready({ readOnly: true, sync: true });
  assert.notEqual(drv.offered() & featureBits(VIRTIO_BLK_F_RO), 0n);
  let writes = 0;
  const orig = backend.write.bind(backend);
  backend.write = (o, d, done) => {
    writes++;
    orig(o, d, done);
  };
  const head = q.add([{ data: blkHeader(VIRTIO_BLK_T_OUT, 0) }, { data: pattern(512, 1) }, { len: 1, write: true }]);
  q.kick();
  dev.processDoorbell();
  assert.equal(statusOf(q.result(head)), VIRTIO_BLK_S_IOERR);
  assert.equal(writes, 0);
  assert.deepEqual(backend.data.subarray(0, 512), new Uint8Array(512));
  assert.equal(dev.broken, false);
  assert.deepEqual(logs, []);
});

test('requests in flight complete out of order; the used ring follows completion order', () => {
  const { dev, q, backend } = ready();
  backend.data.set(pattern(3 * 512, 5));
  const heads = [0, 1, 2].map((s) => q.add([{ data: blkHeader(VIRTIO_BLK_T_IN, s) }, { len: 512, write: true }, { len: 1, write: true }]));
  q.kick();
  dev.processDoorbell();
  assert.equal(backend.pending.length, 3);
  backend.run([2, 0, 1]);
  assert.deepEqual(
    q.takeUsed().map((e) => e.id),
    [heads[2], heads[0], heads[1]],
  );
  heads.forEach((h, s) => assert.deepEqual(q.result(h).subarray(0, 512), pattern(3 * 512, 5).subarray(s * 512, (s + 1) * 512)));
});

test('a backend error completes with IOERR and is logged; the device keeps working', () => {
  const { dev, q, backend, logs } = ready({ sync: true });
  backend.failNext = 'EIO';
  const a = q.add([{ data: blkHeader(VIRTIO_BLK_T_IN, 1) }, { len: 512, write: true }, { len: 1, write: true }]);
  const b = q.add([{ data: blkHeader(VIRTIO_BLK_T_IN, 1) }, { len: 512, write: true }, { len: 1, write: true }]);
  q.kick();
  dev.processDoorbell();
  assert.equal(statusOf(q.result(a)), VIRTIO_BLK_S_IOERR);
  assert.equal(statusOf(q.result(b)), VIRTIO_BLK_S_OK);
  assert.deepEqual(logs, ['virtio-blk (virtio2): read of 512 bytes at sector 1 failed: EIO']);
});

test('indirect descriptors: a request through an indirect table', () => {
  const { dev, q, backend } = ready({ sync: true });
  backend.data.set(pattern(512, 77), 512 * 7);
  const head = q.add([{ data: blkHeader(VIRTIO_BLK_T_IN, 7) }, { len: 256, write: true }, { len: 256, write: true }, { len: 1, write: true }], {
    indirect: true,
  });
  q.kick();
  dev.processDoorbell();
  assert.deepEqual(q.takeUsed(), [{ id: head, len: 513 }]);
  assert.deepEqual(q.result(head).subarray(0, 512), pattern(512, 77));
  assert.equal(statusOf(q.result(head)), VIRTIO_BLK_S_OK);
});

test('event index: interrupts only when used.idx passes used_event; avail_event follows last_avail_idx', () => {
  const { dev, q, backend, irq, drv } = ready({ eventIdx: true });
  const submit = () => q.add([{ data: blkHeader(VIRTIO_BLK_T_FLUSH) }, { len: 1, write: true }]);
  for (let i = 0; i < 5; i++) submit();
  q.setUsedEvent(0);
  q.kick();
  dev.processDoorbell();
  assert.equal(q.availEvent, 5, 'avail_event = last_avail_idx after popping');
  assert.equal(backend.pending.length, 5);
  const one = () => {
    const f = backend.pending.shift()!;
    f();
  };
  one(); // used.idx 0 -> 1: the first notification is always sent
  assert.equal(irq.raises, 1);
  drv.ack();
  q.setUsedEvent(3); // interrupt once used.idx moves past 3
  one(); // -> 2
  one(); // -> 3
  assert.equal(irq.raises, 1);
  assert.equal(irq.level, false);
  one(); // -> 4: crosses used_event 3
  assert.equal(irq.raises, 2);
  drv.ack();
  one(); // -> 5: used_event still 3, already signalled
  assert.equal(irq.raises, 2);
  assert.equal(q.takeUsed().length, 5);
});

test('without event index, VIRTQ_AVAIL_F_NO_INTERRUPT suppresses the interrupt', () => {
  const { dev, q, irq, drv } = ready({ sync: true });
  q.setAvailFlags(VIRTQ_AVAIL_F_NO_INTERRUPT);
  q.add([{ data: blkHeader(VIRTIO_BLK_T_FLUSH) }, { len: 1, write: true }]);
  q.kick();
  dev.processDoorbell();
  assert.equal(q.takeUsed().length, 1);
  assert.equal(irq.level, false);
  q.setAvailFlags(0);
  q.add([{ data: blkHeader(VIRTIO_BLK_T_FLUSH) }, { len: 1, write: true }]);
  q.kick();
  dev.processDoorbell();
  assert.equal(irq.level, true);
  assert.equal(drv.ack(), R.VIRTIO_MMIO_INT_VRING);
});

test('a device reset drops completions of requests issued before it (generation)', () => {
  const { dev, q, backend, irq, drv } = ready();
  const head = q.add([{ data: blkHeader(VIRTIO_BLK_T_IN, 0) }, { len: 512, write: true }, { len: 1, write: true }]);
  q.kick();
  dev.processDoorbell();
  drv.w(R.VIRTIO_MMIO_STATUS, 0); // driver reset while the read is in flight
  backend.run();
  assert.equal(q.usedIdx, 0);
  assert.equal(statusOf(q.result(head)), 0xee, 'status byte untouched');
  assert.equal(irq.level, false);
  // Board reset too: the device comes back up and works.
  drv.negotiate();
  const q2 = drv.setupQueue(0, 8);
  drv.driverOk();
  q2.add([{ data: blkHeader(VIRTIO_BLK_T_IN, 0) }, { len: 512, write: true }, { len: 1, write: true }]);
  q2.kick();
  dev.processDoorbell();
  dev.reset();
  backend.run();
  assert.equal(q2.usedIdx, 0);
  drv.negotiate();
  const q3 = drv.setupQueue(0, 8);
  drv.driverOk();
  const h3 = q3.add([{ data: blkHeader(VIRTIO_BLK_T_IN, 0) }, { len: 512, write: true }, { len: 1, write: true }]);
  q3.kick();
  dev.processDoorbell();
  backend.run();
  assert.deepEqual(q3.takeUsed(), [{ id: h3, len: 513 }]);
});
