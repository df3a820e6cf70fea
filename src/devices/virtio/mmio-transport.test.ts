import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as R from '../virtio-mmio/constants.js';
import {
  featureBits,
  VIRTIO_F_RING_EVENT_IDX,
  VIRTIO_F_RING_INDIRECT_DESC,
  VIRTIO_F_VERSION_1,
  VIRTIO_STATUS_ACKNOWLEDGE,
  VIRTIO_STATUS_DRIVER,
  VIRTIO_STATUS_DRIVER_OK,
  VIRTIO_STATUS_FEATURES_OK,
} from './constants.js';
import { VIRTIO_BLK_F_BLK_SIZE, VIRTIO_BLK_F_FLUSH, VIRTIO_BLK_F_RO, VIRTIO_BLK_F_SEG_MAX } from './blk.js';
import { makeDevice, MemoryBlockBackend } from '../../../test/support/virtio/driver.js';

const BLK = { kind: 'blk', byteLength: 64 * 512, readOnly: false } as const;

test('probe: magic, version 2, device and vendor IDs, QueueNumMax per queue', () => {
  const cases = [
    { spec: { kind: 'blk', byteLength: 512, readOnly: false } as const, id: 2, queues: [256] },
    { spec: { kind: 'net' } as const, id: 1, queues: [256, 256] },
    { spec: { kind: 'rng' } as const, id: 4, queues: [64] },
  ];
  for (const c of cases) {
    const { drv } = makeDevice(c.spec);
    assert.equal(drv.r(R.VIRTIO_MMIO_MAGIC_VALUE), 0x74726976);
    assert.equal(drv.r(R.VIRTIO_MMIO_VERSION), 2);
    assert.equal(drv.r(R.VIRTIO_MMIO_DEVICE_ID), c.id);
    assert.equal(drv.r(R.VIRTIO_MMIO_VENDOR_ID), 0x554d4551);
    c.queues.forEach((size, q) => {
      drv.w(R.VIRTIO_MMIO_QUEUE_SEL, q);
      assert.equal(drv.r(R.VIRTIO_MMIO_QUEUE_NUM_MAX), size);
      assert.equal(drv.r(R.VIRTIO_MMIO_QUEUE_READY), 0);
    });
    drv.w(R.VIRTIO_MMIO_QUEUE_SEL, c.queues.length);
    assert.equal(drv.r(R.VIRTIO_MMIO_QUEUE_NUM_MAX), 0, 'a queue that does not exist has max 0');
    assert.equal(drv.r(R.VIRTIO_MMIO_STATUS), 0);
    assert.equal(drv.r(R.VIRTIO_MMIO_INTERRUPT_STATUS), 0);
    assert.equal(drv.r(R.VIRTIO_MMIO_CONFIG_GENERATION), 0);
    assert.equal(drv.r(R.VIRTIO_MMIO_SHM_LEN_LOW), 0xffffffff, 'no shared memory regions');
  }
});

test('feature negotiation: VERSION_1, INDIRECT_DESC, EVENT_IDX and the blk features are offered and accepted', () => {
  const { drv } = makeDevice(BLK);
  const offered = drv.offered();
  const want = featureBits(
    VIRTIO_F_VERSION_1,
    VIRTIO_F_RING_INDIRECT_DESC,
    VIRTIO_F_RING_EVENT_IDX,
    VIRTIO_BLK_F_SEG_MAX,
    VIRTIO_BLK_F_BLK_SIZE,
    VIRTIO_BLK_F_FLUSH,
  );
  assert.equal(offered, want);
  assert.equal(offered & featureBits(VIRTIO_BLK_F_RO), 0n);
  drv.w(R.VIRTIO_MMIO_DEVICE_FEATURES_SEL, 2);
  assert.equal(drv.r(R.VIRTIO_MMIO_DEVICE_FEATURES), 0, 'feature words past 63 are 0');
  assert.equal(drv.negotiate(), true);
  assert.equal(drv.status, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
  drv.driverOk();
  assert.equal(drv.status & VIRTIO_STATUS_DRIVER_OK, VIRTIO_STATUS_DRIVER_OK);
});

test('FEATURES_OK is refused for features not offered or without VERSION_1, then accepted after a reset', () => {
  const { drv, guestErrors } = makeDevice(BLK);
  assert.equal(drv.negotiate((f) => f & ~featureBits(VIRTIO_F_VERSION_1)), false);
  assert.equal(drv.status & VIRTIO_STATUS_FEATURES_OK, 0);
  assert.match(guestErrors.at(-1)!, /FEATURES_OK refused: .*VIRTIO_F_VERSION_1/);
  assert.equal(drv.negotiate((f) => f | featureBits(40)), false);
  assert.match(guestErrors.at(-1)!, /not offered/);
  assert.equal(drv.negotiate((f) => f & ~featureBits(VIRTIO_F_RING_EVENT_IDX)), true, 'a subset is fine');
});

test('register access rules: 32-bit only, write-only reads 0, read-only writes ignored, config bytes', () => {
  const { drv, dev, guestErrors } = makeDevice(BLK);
  assert.equal(dev.transport.read(R.VIRTIO_MMIO_MAGIC_VALUE, 2), 0);
  assert.match(guestErrors.at(-1)!, /2-byte read/);
  drv.w(R.VIRTIO_MMIO_DEVICE_ID, 7);
  assert.equal(drv.r(R.VIRTIO_MMIO_DEVICE_ID), 2);
  assert.equal(drv.r(R.VIRTIO_MMIO_QUEUE_NOTIFY), 0);
  assert.match(guestErrors.at(-1)!, /write-only/);
  drv.w(R.VIRTIO_MMIO_QUEUE_PFN, 1);
  assert.match(guestErrors.at(-1)!, /legacy register/);
  // capacity = 64 sectors, little-endian, readable byte by byte.
  assert.equal(drv.config(0, 1), 64);
  assert.equal(drv.config(0, 4), 64);
  assert.equal(drv.config(4, 4), 0);
  assert.equal(drv.config(12, 4), 254, 'seg_max = queue size - 2');
  assert.equal(drv.config(20, 4), 512, 'blk_size');
  assert.equal(drv.config(20, 2), 512);
  assert.equal(drv.config(36, 4), 0xffffffff, 'past the config space reads all ones');
  assert.equal(drv.config(35, 2), 0xffff);
  drv.dev.write(R.VIRTIO_MMIO_CONFIG, 4, 0x1234);
  assert.equal(drv.config(0, 4), 64, 'config space is read-only');
});

test('queue registers: size limits, no changes while ready, notify only rings the doorbell', () => {
  const backend = new MemoryBlockBackend(64 * 512);
  const { drv, dev, notifier, guestErrors } = makeDevice(BLK, backend);
  drv.negotiate();
  drv.w(R.VIRTIO_MMIO_QUEUE_SEL, 0);
  drv.w(R.VIRTIO_MMIO_QUEUE_NUM, 1024);
  assert.match(guestErrors.at(-1)!, /size 1024 is not in 1\.\.256/);
  const q = drv.setupQueue(0, 16);
  assert.equal(drv.r(R.VIRTIO_MMIO_QUEUE_READY), 1);
  drv.w(R.VIRTIO_MMIO_QUEUE_NUM, 8);
  assert.match(guestErrors.at(-1)!, /while queue 0 is ready/);
  drv.w(R.VIRTIO_MMIO_QUEUE_DESC_LOW, 0);
  assert.match(guestErrors.at(-1)!, /while queue 0 is ready/);
  drv.driverOk();
  notifier.kicks.length = 0;
  const hdr = new Uint8Array(16); // IN, sector 0
  const head = q.add([{ data: hdr }, { len: 512, write: true }, { len: 1, write: true }]);
  q.kick();
  assert.deepEqual(notifier.kicks, [2], 'the notifier is kicked with the transport index');
  assert.equal(dev.doorbellPending, true);
  assert.equal(backend.pending.length, 0, 'nothing is processed inside the register write');
  drv.w(R.VIRTIO_MMIO_QUEUE_NOTIFY, 5);
  assert.match(guestErrors.at(-1)!, /queue 5, which does not exist/);
  dev.processDoorbell();
  assert.equal(dev.doorbellPending, false);
  assert.equal(backend.pending.length, 1);
  backend.run();
  assert.deepEqual(q.takeUsed(), [{ id: head, len: 513 }]);
});

test('interrupts: level while InterruptStatus != 0, ACK lowers it; status 0 resets the device', () => {
  const backend = new MemoryBlockBackend(64 * 512);
  backend.sync = true;
  const { drv, dev, irq } = makeDevice(BLK, backend);
  drv.negotiate();
  const q = drv.setupQueue(0, 8);
  drv.driverOk();
  q.add([{ data: new Uint8Array(16) }, { len: 1, write: true }]);
  q.kick();
  dev.processDoorbell();
  assert.equal(irq.level, true);
  assert.equal(drv.r(R.VIRTIO_MMIO_INTERRUPT_STATUS), R.VIRTIO_MMIO_INT_VRING);
  drv.w(R.VIRTIO_MMIO_INTERRUPT_ACK, 2); // wrong bit: stays high
  assert.equal(irq.level, true);
  assert.equal(drv.ack(), R.VIRTIO_MMIO_INT_VRING);
  assert.equal(irq.level, false);
  drv.w(R.VIRTIO_MMIO_STATUS, 0);
  assert.equal(drv.status, 0);
  assert.equal(drv.r(R.VIRTIO_MMIO_QUEUE_READY), 0);
  drv.w(R.VIRTIO_MMIO_QUEUE_SEL, 0);
  assert.equal(drv.r(R.VIRTIO_MMIO_QUEUE_NUM_MAX), 256);
});

test('configuration change: ConfigGeneration moves and the config interrupt is raised after DRIVER_OK', () => {
  const { drv, dev, irq } = makeDevice({ kind: 'net' });
  assert.equal(drv.config(6, 2), 1, 'link up');
  dev.setLinkUp(false);
  assert.equal(drv.r(R.VIRTIO_MMIO_CONFIG_GENERATION), 1);
  assert.equal(irq.level, false, 'no interrupt before DRIVER_OK');
  drv.negotiate(); // resets the device: ConfigGeneration back to 0, the link state stays
  assert.equal(drv.r(R.VIRTIO_MMIO_CONFIG_GENERATION), 0);
  assert.equal(drv.config(6, 2), 0);
  drv.driverOk();
  dev.setLinkUp(true);
  assert.equal(drv.config(6, 2), 1);
  assert.equal(drv.r(R.VIRTIO_MMIO_CONFIG_GENERATION), 1);
  assert.equal(irq.level, true);
  assert.equal(drv.ack(), R.VIRTIO_MMIO_INT_CONFIG);
  assert.equal(irq.level, false);
});
