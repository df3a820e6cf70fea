import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';
import { Ram } from '../../memory/ram.js';
import { StateArena } from '../../memory/state-arena.js';
import * as R from '../virtio-mmio/constants.js';
import { VIRTIO_STATUS_DRIVER_OK } from './constants.js';
import { VIRTIO_BLK_T_IN } from './blk.js';
import { createVirtioDevice, type VirtioDevice, type VirtioDeviceSpec } from './index.js';
import {
  blkHeader,
  CountingEntropy,
  FakeIrq,
  FakeNotifier,
  makeMachine,
  MemoryBlockBackend,
  RAM_BASE,
  RAM_SIZE,
  TestDriver,
} from '../../../test/support/virtio/driver.js';

/** Builds the vCPU thread's instance the way the board's attach mode does: same layout, state untouched. */
function attach(arena: StateArena, ram: Ram, spec: VirtioDeviceSpec, irq: FakeIrq, notifier: FakeNotifier, logs: string[]) {
  const arena2 = new StateArena(arena.i32.length, arena.buffer);
  const ram2 = new Ram(RAM_BASE, RAM_SIZE, ram.buffer);
  const saved = arena2.u32.slice();
  const dev = createVirtioDevice(spec, { arena: arena2, ram: ram2, irq, notifier, log: (l) => logs.push(l), index: 0, name: 'virtio0' });
  arena2.u32.set(saved);
  assert.deepEqual(arena2.layout(), arena.layout(), 'same arena layout in both threads');
  return { dev, arena2, ram2 };
}

test('two instances over one arena: the vCPU one only rings the doorbell, the main one processes', () => {
  const { arena, ram, logs } = makeMachine();
  const spec = { kind: 'blk', byteLength: 32 * 512, readOnly: false } as const;
  const backend = new MemoryBlockBackend(32 * 512);
  backend.data.fill(0x5a, 512, 1024);
  const mainIrq = new FakeIrq();
  const mainNotifier = new FakeNotifier();
  const main: VirtioDevice = createVirtioDevice(spec, {
    arena,
    ram,
    irq: mainIrq,
    notifier: mainNotifier,
    log: (l) => logs.push(l),
    backend,
    index: 0,
    name: 'virtio0',
  });
  const vcpuIrq = new FakeIrq();
  const vcpuNotifier = new FakeNotifier();
  const { dev: vcpu, ram2 } = attach(arena, ram, spec, vcpuIrq, vcpuNotifier, logs);

  const drv = new TestDriver(vcpu.transport, ram2);
  assert.equal(drv.negotiate(), true);
  const q = drv.setupQueue(0, 32);
  drv.driverOk();
  assert.equal(main.transport.read(R.VIRTIO_MMIO_STATUS, 4), drv.status, 'the main instance sees the status');
  assert.deepEqual(vcpuNotifier.kicks, [0], 'DRIVER_OK rang the doorbell');
  main.processDoorbell();

  const head = q.add([{ data: blkHeader(VIRTIO_BLK_T_IN, 1) }, { len: 512, write: true }, { len: 1, write: true }]);
  q.kick();
  assert.deepEqual(vcpuNotifier.kicks, [0, 0]);
  assert.equal(main.doorbellPending, true, 'the doorbell word is shared');
  assert.equal(backend.pending.length, 0);
  main.processDoorbell();
  assert.equal(vcpu.doorbellPending, false);
  backend.run();
  assert.deepEqual(q.takeUsed(), [{ id: head, len: 513 }]);
  assert.deepEqual(q.result(head).subarray(0, 512), new Uint8Array(512).fill(0x5a));
  assert.equal(mainIrq.level, true, 'the main thread raised the line');
  assert.equal(drv.r(R.VIRTIO_MMIO_INTERRUPT_STATUS), R.VIRTIO_MMIO_INT_VRING, 'the vCPU instance sees the bit');
  drv.ack();
  assert.equal(vcpuIrq.level, false);
  assert.equal(main.transport.read(R.VIRTIO_MMIO_INTERRUPT_STATUS, 4), 0);

  // A reset on the vCPU side (status 0) drops the main side's completion of an older request.
  q.add([{ data: blkHeader(VIRTIO_BLK_T_IN, 1) }, { len: 512, write: true }, { len: 1, write: true }]);
  q.kick();
  main.processDoorbell();
  drv.w(R.VIRTIO_MMIO_STATUS, 0);
  backend.run();
  assert.equal(q.usedIdx, 1);
  assert.equal(main.transport.read(R.VIRTIO_MMIO_STATUS, 4) & VIRTIO_STATUS_DRIVER_OK, 0);
  assert.deepEqual(logs, []);
});

test('a real vCPU worker thread drives virtio-rng over the shared arena and RAM', async () => {
  const { arena, ram, logs } = makeMachine();
  const ctl = new Int32Array(new SharedArrayBuffer(8));
  const irq = new FakeIrq();
  const entropy = new CountingEntropy();
  const main = createVirtioDevice({ kind: 'rng' }, { arena, ram, irq, notifier: new FakeNotifier(), log: (l) => logs.push(l), backend: entropy, index: 0, name: 'virtio0' });
  const url = (p: string) => new URL(p, import.meta.url).href;
  const code = `
    const { parentPort, workerData: w } = require('node:worker_threads');
    (async () => {
      const td = await import(w.driver);
      const { createVirtioDevice } = await import(w.index);
      const { StateArena } = await import(w.arenaMod);
      const { Ram } = await import(w.ramMod);
      const arena = new StateArena(w.words, w.arena);
      const ram = new Ram(td.RAM_BASE, td.RAM_SIZE, w.ram);
      const ctl = new Int32Array(w.ctl);
      let seq = 0;
      const notifier = { kick() { seq++; parentPort.postMessage('kick'); while (Atomics.load(ctl, 0) < seq) Atomics.wait(ctl, 0, seq - 1, 1000); } };
      const saved = arena.u32.slice();
      const dev = createVirtioDevice({ kind: 'rng' }, { arena, ram, irq: { set() {} }, notifier, log: () => {}, index: 0, name: 'virtio0' });
      arena.u32.set(saved);
      const drv = new td.TestDriver(dev.transport, ram, new td.GuestAllocator(ram, td.RAM_BASE + 0x10000));
      if (!drv.negotiate()) throw new Error('negotiation failed');
      const q = drv.setupQueue(0);
      drv.driverOk();
      const bytes = [];
      const isr = [];
      for (let i = 0; i < 200; i++) {
        const h = q.add([{ len: 4, write: true }]);
        q.setUsedEvent(q.usedIdx); // event index: interrupt for the next used buffer (Linux's enable_cb)
        q.kick();
        const used = q.takeUsed();
        if (used.length !== 1 || used[0].id !== h || used[0].len !== 4) throw new Error('bad used ring at ' + i + ': ' + JSON.stringify(used));
        bytes.push(...q.result(h));
        isr.push(drv.ack());
      }
      parentPort.postMessage({ bytes, isr });
    })().catch((e) => parentPort.postMessage({ error: String(e && e.stack || e) }));
  `;
  const worker = new Worker(code, {
    eval: true,
    workerData: {
      driver: url('../../../test/support/virtio/driver.js'),
      index: url('./index.js'),
      arenaMod: url('../../memory/state-arena.js'),
      ramMod: url('../../memory/ram.js'),
      words: arena.i32.length,
      arena: arena.buffer,
      ram: ram.buffer,
      ctl: ctl.buffer,
    },
  });
  let kicks = 0;
  const result = await new Promise<{ bytes: number[]; isr: number[] }>((resolve, reject) => {
    worker.on('error', reject);
    worker.on('message', (m: unknown) => {
      if (m === 'kick') {
        kicks++;
        main.processDoorbell(); // the main loop, on the kick
        Atomics.add(ctl, 0, 1);
        Atomics.notify(ctl, 0);
      } else if (typeof m === 'object' && m !== null && 'error' in m) {
        reject(new Error(String((m as { error: unknown }).error)));
      } else {
        resolve(m as { bytes: number[]; isr: number[] });
      }
    });
  });
  await worker.terminate();
  assert.equal(kicks, 201, 'DRIVER_OK plus one per request');
  assert.deepEqual(result.bytes, Array.from({ length: 800 }, (_, i) => (i + 1) & 0xff));
  assert.ok(result.isr.every((b) => b === R.VIRTIO_MMIO_INT_VRING), 'the worker sees every interrupt raised by the main thread');
  assert.equal(main.transport.read(R.VIRTIO_MMIO_STATUS, 4) & VIRTIO_STATUS_DRIVER_OK, VIRTIO_STATUS_DRIVER_OK);
  assert.deepEqual(logs, []);
});
