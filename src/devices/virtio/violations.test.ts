import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as R from '../virtio-mmio/constants.js';
import {
  VIRTIO_STATUS_DEVICE_NEEDS_RESET,
  VIRTIO_STATUS_DRIVER_OK,
  VIRTQ_DESC_F_INDIRECT,
  VIRTQ_DESC_F_NEXT,
  VIRTQ_DESC_F_WRITE,
} from './constants.js';
import { VIRTIO_BLK_T_IN } from './blk.js';
import {
  blkHeader,
  CountingEntropy,
  FakeNet,
  makeDevice,
  MemoryBlockBackend,
  RAM_BASE,
  type GuestAllocator,
  type TestQueue,
} from '../../../test/support/virtio/driver.js';
import type { VirtioDeviceSpec } from './index.js';

const NEXT = VIRTQ_DESC_F_NEXT;
const WRITE = VIRTQ_DESC_F_WRITE;
const INDIRECT = VIRTQ_DESC_F_INDIRECT;

interface Case {
  readonly name: string;
  readonly device: 'blk' | 'net' | 'rng';
  /** Queue the bad chain goes to. */
  readonly queue?: number;
  /** Lays out the malformed chain (descriptors written by hand) and publishes it. */
  readonly build: (q: TestQueue, alloc: GuestAllocator, header: number) => void;
  readonly message: string | RegExp;
}

const cases: Case[] = [
  {
    name: 'head descriptor index out of range',
    device: 'blk',
    build: (q) => q.publish(300),
    message: 'virtio-blk (virtio2): queue 0: descriptor index 300 out of range (queue size 256)',
  },
  {
    name: 'next descriptor index out of range',
    device: 'blk',
    build: (q, _a, h) => {
      q.writeDesc(0, h, 16, NEXT, 999);
      q.publish(0);
    },
    message: 'virtio-blk (virtio2): queue 0: descriptor index 999 out of range (queue size 256)',
  },
  {
    name: 'a loop in the chain',
    device: 'blk',
    build: (q, a, h) => {
      const status = a.alloc(1);
      q.writeDesc(0, h, 16, NEXT, 1);
      q.writeDesc(1, status, 1, WRITE | NEXT, 2);
      q.writeDesc(2, status, 1, WRITE | NEXT, 1);
      q.publish(0);
    },
    message: 'virtio-blk (virtio2): queue 0: descriptor chain starting at 0 is longer than 256 descriptors (a loop)',
  },
  {
    name: 'a buffer outside RAM',
    device: 'blk',
    build: (q) => {
      q.writeDesc(0, 0x1000, 16, 0, 0);
      q.publish(0);
    },
    message: /queue 0: buffer at 0x1000 \(16 bytes\) of descriptor 0 is outside RAM/,
  },
  {
    name: 'a buffer above 4 GiB (64-bit address whose low word is in RAM)',
    device: 'blk',
    build: (q) => {
      q.writeDesc(0, 0x1_0000_0000 + RAM_BASE + 0x8000, 16, 0, 0);
      q.publish(0);
    },
    message: /buffer at 0x180008000 \(16 bytes\) of descriptor 0 is outside RAM/,
  },
  {
    name: 'a buffer that starts in RAM and runs past its end',
    device: 'blk',
    build: (q) => {
      q.writeDesc(0, RAM_BASE + (1 << 20) - 8, 16, 0, 0);
      q.publish(0);
    },
    message: /is outside RAM/,
  },
  {
    name: 'a device-readable descriptor after a device-writable one',
    device: 'blk',
    build: (q, a, h) => {
      q.writeDesc(0, a.alloc(1), 1, WRITE | NEXT, 1);
      q.writeDesc(1, h, 16, 0, 0);
      q.publish(0);
    },
    message: /queue 0: device-readable descriptor 1 follows a device-writable one/,
  },
  {
    name: 'a zero-length buffer',
    device: 'blk',
    build: (q, _a, h) => {
      q.writeDesc(0, h, 0, 0, 0);
      q.publish(0);
    },
    message: /descriptor 0 has a zero-length buffer/,
  },
  {
    name: 'avail.idx moved by more than the queue size',
    device: 'blk',
    build: (q) => q.setAvailIdx(300),
    message: /queue 0: available index moved from 0 to 300 \(more than the queue size 256\)/,
  },
  {
    name: 'an indirect table whose length is not a multiple of 16',
    device: 'blk',
    build: (q, a) => {
      q.writeDesc(0, a.alloc(32), 20, INDIRECT, 0);
      q.publish(0);
    },
    message: /indirect table of 20 bytes in descriptor 0 is not a non-zero multiple of 16/,
  },
  {
    name: 'an indirect table outside RAM',
    device: 'blk',
    build: (q) => {
      q.writeDesc(0, 0x2000, 32, INDIRECT, 0);
      q.publish(0);
    },
    message: /indirect table at 0x2000 \(32 bytes\) in descriptor 0 is outside RAM/,
  },
  {
    name: 'an indirect table inside an indirect table',
    device: 'blk',
    build: (q, a, h) => {
      const table = a.alloc(32);
      q.writeDesc(0, h, 16, NEXT, 1, table);
      q.writeDesc(1, a.alloc(32), 32, INDIRECT, 0, table);
      q.writeDesc(0, table, 32, INDIRECT, 0);
      q.publish(0);
    },
    message: /indirect descriptor 1 points to another indirect table/,
  },
  {
    name: 'an indirect next index out of the table',
    device: 'blk',
    build: (q, a, h) => {
      const table = a.alloc(32);
      q.writeDesc(0, h, 16, NEXT, 5, table);
      q.writeDesc(0, table, 32, INDIRECT, 0);
      q.publish(0);
    },
    message: /indirect descriptor index 5 out of range \(table of 2\)/,
  },
  {
    name: 'a blk header in a device-writable descriptor',
    device: 'blk',
    build: (q, a, h) => {
      q.writeDesc(0, h, 16, WRITE | NEXT, 1);
      q.writeDesc(1, a.alloc(1), 1, WRITE, 0);
      q.publish(0);
    },
    message: /request 0 has no device-readable header or no device-writable status byte/,
  },
  {
    name: 'a blk request without a status byte',
    device: 'blk',
    build: (q, _a, h) => {
      q.writeDesc(0, h, 16, 0, 0);
      q.publish(0);
    },
    message: /request 0 has no device-readable header or no device-writable status byte/,
  },
  {
    name: 'a blk header shorter than 16 bytes',
    device: 'blk',
    build: (q, a, h) => {
      q.writeDesc(0, h, 8, NEXT, 1);
      q.writeDesc(1, a.alloc(1), 1, WRITE, 0);
      q.publish(0);
    },
    message: /request 0: header is 8 bytes, needs 16/,
  },
  {
    name: 'a net transmit buffer that is device-writable',
    device: 'net',
    queue: 1,
    build: (q, a) => {
      q.writeDesc(0, a.alloc(80), 80, WRITE, 0);
      q.publish(0);
    },
    message: 'virtio-net (virtio2): transmit buffer 0 has no device-readable descriptors',
  },
  {
    name: 'a net transmit buffer shorter than the header',
    device: 'net',
    queue: 1,
    build: (q, a) => {
      q.writeDesc(0, a.alloc(8), 8, 0, 0);
      q.publish(0);
    },
    message: /transmit buffer 0 is 8 bytes, shorter than the 12-byte header/,
  },
  {
    name: 'a net receive buffer that is device-readable',
    device: 'net',
    queue: 0,
    build: (q, a) => {
      q.writeDesc(0, a.alloc(1526), 1526, 0, 0);
      q.publish(0);
    },
    message: /receive buffer 0 has no device-writable descriptors/,
  },
  {
    name: 'an rng request with a descriptor loop',
    device: 'rng',
    build: (q, a) => {
      q.writeDesc(0, a.alloc(8), 8, WRITE | NEXT, 0);
      q.publish(0);
    },
    message: /virtio-rng \(virtio2\): queue 0: descriptor chain starting at 0 is longer than 64 descriptors/,
  },
];

function build(device: Case['device']) {
  const net = new FakeNet();
  const spec: VirtioDeviceSpec =
    device === 'blk' ? { kind: 'blk', byteLength: 16 * 512, readOnly: false } : device === 'net' ? { kind: 'net' } : { kind: 'rng' };
  const backend = device === 'blk' ? new MemoryBlockBackend(16 * 512) : device === 'net' ? net : new CountingEntropy();
  if (backend instanceof MemoryBlockBackend) backend.sync = true;
  const t = makeDevice(spec, backend);
  const setup = () => {
    assert.equal(t.drv.negotiate(), true);
    const queues = device === 'net' ? [t.drv.setupQueue(0, 256), t.drv.setupQueue(1, 256)] : [t.drv.setupQueue(0)];
    t.drv.driverOk();
    t.dev.processDoorbell();
    return queues;
  };
  return { ...t, net, setup };
}

for (const c of cases) {
  test(`driver error marks the device broken: ${c.name}`, () => {
    const t = build(c.device);
    const queues = t.setup();
    const q = queues[c.queue ?? 0]!;
    const header = t.drv.alloc.alloc(16);
    t.drv.mem.write(header, blkHeader(VIRTIO_BLK_T_IN, 0));
    c.build(q, t.drv.alloc, header);
    if (c.device === 'net' && (c.queue ?? 0) === 0) {
      assert.equal(t.net.deliver(new Uint8Array(60)), true, 'the frame is consumed (dropped) by a broken device');
    } else {
      q.kick();
      assert.doesNotThrow(() => t.dev.processDoorbell());
    }
    assert.equal(t.dev.broken, true);
    assert.equal(t.logs.length, 1, 'exactly one line');
    if (typeof c.message === 'string') assert.equal(t.logs[0], c.message);
    else assert.match(t.logs[0]!, c.message);
    assert.equal(t.drv.status & VIRTIO_STATUS_DEVICE_NEEDS_RESET, VIRTIO_STATUS_DEVICE_NEEDS_RESET);
    assert.equal(t.drv.status & VIRTIO_STATUS_DRIVER_OK, VIRTIO_STATUS_DRIVER_OK);
    assert.equal(t.irq.level, true, 'configuration interrupt');
    assert.equal(t.drv.r(R.VIRTIO_MMIO_INTERRUPT_STATUS) & R.VIRTIO_MMIO_INT_CONFIG, R.VIRTIO_MMIO_INT_CONFIG);
    assert.equal(t.drv.r(R.VIRTIO_MMIO_CONFIG_GENERATION), 1);
    // The driver cannot clear NEEDS_RESET by writing the status; the device stays stopped.
    t.drv.w(R.VIRTIO_MMIO_STATUS, t.drv.status & ~VIRTIO_STATUS_DEVICE_NEEDS_RESET);
    assert.equal(t.drv.status & VIRTIO_STATUS_DEVICE_NEEDS_RESET, VIRTIO_STATUS_DEVICE_NEEDS_RESET);
    const used = q.usedIdx;
    q.kick();
    t.dev.processDoorbell();
    assert.equal(q.usedIdx, used);
    assert.equal(t.logs.length, 1);
    // A reset brings it back.
    const fresh = t.setup();
    assert.equal(t.dev.broken, false);
    assert.equal(t.drv.status & VIRTIO_STATUS_DEVICE_NEEDS_RESET, 0);
    assert.equal(t.irq.level, false);
    const q0 = fresh[c.device === 'net' ? 1 : 0]!;
    const ok =
      c.device === 'blk'
        ? q0.add([{ data: blkHeader(VIRTIO_BLK_T_IN, 0) }, { len: 512, write: true }, { len: 1, write: true }])
        : c.device === 'net'
          ? q0.add([{ data: new Uint8Array(72) }])
          : q0.add([{ len: 8, write: true }]);
    q0.kick();
    t.dev.processDoorbell();
    assert.equal(q0.takeUsed()[0]?.id, ok);
  });
}

test('rings outside RAM are reported when the queue is made ready (vCPU side), before DRIVER_OK', () => {
  const t = build('blk');
  t.drv.negotiate();
  t.drv.w(R.VIRTIO_MMIO_QUEUE_SEL, 0);
  t.drv.w(R.VIRTIO_MMIO_QUEUE_NUM, 256);
  t.drv.w(R.VIRTIO_MMIO_QUEUE_DESC_LOW, RAM_BASE + (1 << 20) - 0x100);
  t.drv.w(R.VIRTIO_MMIO_QUEUE_DRIVER_LOW, RAM_BASE + 0x1000);
  t.drv.w(R.VIRTIO_MMIO_QUEUE_DEVICE_LOW, RAM_BASE + 0x2000);
  t.drv.w(R.VIRTIO_MMIO_QUEUE_READY, 1);
  assert.deepEqual(t.logs, ['virtio-blk (virtio2): queue 0: descriptor table at 0x800fff00 (4096 bytes) is outside RAM']);
  assert.equal(t.dev.broken, true);
  assert.equal(t.drv.status & VIRTIO_STATUS_DEVICE_NEEDS_RESET, VIRTIO_STATUS_DEVICE_NEEDS_RESET);
  assert.equal(t.irq.level, false, 'no configuration interrupt before DRIVER_OK');
  t.drv.driverOk();
  t.drv.w(R.VIRTIO_MMIO_QUEUE_NOTIFY, 0);
  assert.doesNotThrow(() => t.dev.processDoorbell());
});
