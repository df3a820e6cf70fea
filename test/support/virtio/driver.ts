/**
 * Test helper: a tiny virtio driver acting as the guest. It talks to a transport only through
 * its MMIO registers, lays out split virtqueues in a `Ram`, submits descriptor chains and reads
 * the used ring back. Also fake interrupt lines, notifiers and backends. Not a test file itself.
 */
import type { MmioDevice } from '../../../src/memory/address-map.js';
import { Ram } from '../../../src/memory/ram.js';
import { StateArena } from '../../../src/memory/state-arena.js';
import type { IrqLine } from '../../../src/devices/irq.js';
import * as R from '../../../src/devices/virtio-mmio/constants.js';
import {
  VIRTIO_STATUS_ACKNOWLEDGE,
  VIRTIO_STATUS_DRIVER,
  VIRTIO_STATUS_DRIVER_OK,
  VIRTIO_STATUS_FEATURES_OK,
  VIRTQ_DESC_F_INDIRECT,
  VIRTQ_DESC_F_NEXT,
  VIRTQ_DESC_F_WRITE,
} from '../../../src/devices/virtio/constants.js';
import type { BlockBackend, EntropyBackend, NetBackend, NetReceiver, VirtioNotifier } from '../../../src/devices/virtio/device-api.js';
import { createVirtioDevice, type VirtioBackend, type VirtioDevice, type VirtioDeviceSpec, type VirtioNetDevice, type VirtioNetSpec } from '../../../src/devices/virtio/index.js';

export const RAM_BASE = 0x80000000;
export const RAM_SIZE = 1 << 20;

/** An interrupt line that remembers its level and counts rising edges. */
export class FakeIrq implements IrqLine {
  level = false;
  raises = 0;
  set(level: boolean): void {
    if (level && !this.level) this.raises++;
    this.level = level;
  }
}

/** A notifier that records kicks and optionally runs a callback (e.g. processDoorbell). */
export class FakeNotifier implements VirtioNotifier {
  kicks: number[] = [];
  onKick: ((index: number) => void) | undefined;
  kick(index: number): void {
    this.kicks.push(index);
    this.onKick?.(index);
  }
}

/** A fresh arena and RAM, plus collected log lines. */
export function makeMachine(): { arena: StateArena; ram: Ram; logs: string[]; guestErrors: string[] } {
  return { arena: new StateArena(1 << 14), ram: new Ram(RAM_BASE, RAM_SIZE), logs: [], guestErrors: [] };
}

/** One buffer of a chain: device-readable with `data`, or device-writable of `len` bytes. */
export type DriverBuffer = { readonly data: Uint8Array } | { readonly len: number; readonly write: true };

/** One used ring entry. */
export interface UsedEntry {
  readonly id: number;
  readonly len: number;
}

/** A bump allocator over guest RAM. */
export class GuestAllocator {
  private next: number;
  constructor(private readonly ram: Ram, start = RAM_BASE + 0x1000) {
    this.next = start;
  }

  alloc(len: number, align = 16): number {
    this.next = Math.ceil(this.next / align) * align;
    const a = this.next;
    this.next += Math.max(len, 1);
    if (!this.ram.contains(a, len)) throw new Error('test allocator out of RAM');
    return a;
  }
}

/** Little-endian accessors over RAM for the driver side. */
export class DriverMemory {
  constructor(readonly ram: Ram) {}
  private o(a: number): number {
    return a - this.ram.base;
  }
  r16(a: number): number {
    const u = this.ram.u8;
    const o = this.o(a);
    return u[o]! | (u[o + 1]! << 8);
  }
  r32(a: number): number {
    return (this.r16(a) | (this.r16(a + 2) << 16)) >>> 0;
  }
  w16(a: number, v: number): void {
    const o = this.o(a);
    this.ram.u8[o] = v & 0xff;
    this.ram.u8[o + 1] = (v >>> 8) & 0xff;
  }
  w32(a: number, v: number): void {
    this.w16(a, v & 0xffff);
    this.w16(a + 2, v >>> 16);
  }
  w64(a: number, v: number): void {
    this.w32(a, v % 0x1_0000_0000);
    this.w32(a + 4, Math.floor(v / 0x1_0000_0000));
  }
  read(a: number, len: number): Uint8Array {
    return this.ram.u8.slice(this.o(a), this.o(a) + len);
  }
  write(a: number, data: Uint8Array): void {
    this.ram.u8.set(data, this.o(a));
  }
}

/** The driver's view of one split virtqueue. */
export class TestQueue {
  readonly desc: number;
  readonly avail: number;
  readonly used: number;
  private nextDesc = 0;
  private availIdx = 0;
  private lastUsed = 0;
  /** Writable buffers of each submitted head, for reading results back. */
  readonly writable = new Map<number, { addr: number; len: number }[]>();

  constructor(
    private readonly driver: TestDriver,
    readonly index: number,
    readonly size: number,
  ) {
    const alloc = driver.alloc;
    this.desc = alloc.alloc(16 * size, 16);
    this.avail = alloc.alloc(6 + 2 * size, 2);
    this.used = alloc.alloc(6 + 8 * size, 4);
  }

  private get m(): DriverMemory {
    return this.driver.mem;
  }

  /** Writes descriptor `i` verbatim (for malformed chains). */
  writeDesc(i: number, addr: number, len: number, flags: number, next: number, table = this.desc): void {
    const a = table + 16 * i;
    this.m.w64(a, addr);
    this.m.w32(a + 8, len);
    this.m.w16(a + 12, flags);
    this.m.w16(a + 14, next);
  }

  /** Puts `head` into the available ring and moves avail.idx (no notification). */
  publish(head: number): void {
    this.m.w16(this.avail + 4 + 2 * (this.availIdx % this.size), head);
    this.availIdx = (this.availIdx + 1) & 0xffff;
    this.m.w16(this.avail + 2, this.availIdx);
  }

  /** Sets avail.idx directly (for bogus-index tests). */
  setAvailIdx(v: number): void {
    this.availIdx = v & 0xffff;
    this.m.w16(this.avail + 2, this.availIdx);
  }

  /** Places a chain of buffers (directly, or through an indirect table) and publishes it; returns the head. */
  add(buffers: readonly DriverBuffer[], options: { indirect?: boolean } = {}): number {
    const alloc = this.driver.alloc;
    const segs: { addr: number; len: number; write: boolean }[] = [];
    const writable: { addr: number; len: number }[] = [];
    for (const b of buffers) {
      if ('data' in b) {
        const a = alloc.alloc(b.data.length, 1);
        this.m.write(a, b.data);
        segs.push({ addr: a, len: b.data.length, write: false });
      } else {
        const a = alloc.alloc(b.len, 1);
        this.m.write(a, new Uint8Array(b.len).fill(0xee));
        segs.push({ addr: a, len: b.len, write: true });
        writable.push({ addr: a, len: b.len });
      }
    }
    let head: number;
    if (options.indirect === true) {
      const table = alloc.alloc(16 * segs.length, 16);
      segs.forEach((s, i) => {
        const last = i === segs.length - 1;
        this.writeDesc(i, s.addr, s.len, (s.write ? VIRTQ_DESC_F_WRITE : 0) | (last ? 0 : VIRTQ_DESC_F_NEXT), last ? 0 : i + 1, table);
      });
      head = this.take();
      this.writeDesc(head, table, 16 * segs.length, VIRTQ_DESC_F_INDIRECT, 0);
    } else {
      const ids = segs.map(() => this.take());
      head = ids[0]!;
      segs.forEach((s, i) => {
        const last = i === segs.length - 1;
        this.writeDesc(ids[i]!, s.addr, s.len, (s.write ? VIRTQ_DESC_F_WRITE : 0) | (last ? 0 : VIRTQ_DESC_F_NEXT), last ? 0 : ids[i + 1]!);
      });
    }
    this.writable.set(head, writable);
    this.publish(head);
    return head;
  }

  /** Takes the next descriptor index (descriptors are never reused by these tests beyond wrap). */
  take(): number {
    const i = this.nextDesc;
    this.nextDesc = (this.nextDesc + 1) % this.size;
    return i;
  }

  /** Writes QueueNotify for this queue. */
  kick(): void {
    this.driver.w(R.VIRTIO_MMIO_QUEUE_NOTIFY, this.index);
  }

  /** The used entries added since the last call. */
  takeUsed(): UsedEntry[] {
    const idx = this.m.r16(this.used + 2);
    const out: UsedEntry[] = [];
    while (this.lastUsed !== idx) {
      const e = this.used + 4 + 8 * (this.lastUsed % this.size);
      out.push({ id: this.m.r32(e), len: this.m.r32(e + 4) });
      this.lastUsed = (this.lastUsed + 1) & 0xffff;
    }
    return out;
  }

  /** used.idx as the device wrote it. */
  get usedIdx(): number {
    return this.m.r16(this.used + 2);
  }

  /** The concatenated writable buffers of `head`. */
  result(head: number): Uint8Array {
    const segs = this.writable.get(head) ?? [];
    const out = new Uint8Array(segs.reduce((n, s) => n + s.len, 0));
    let off = 0;
    for (const s of segs) {
      out.set(this.m.read(s.addr, s.len), off);
      off += s.len;
    }
    return out;
  }

  /** Sets used_event (avail->ring[size]), for VIRTIO_F_EVENT_IDX. */
  setUsedEvent(v: number): void {
    this.m.w16(this.avail + 4 + 2 * this.size, v);
  }

  /** avail_event (used->ring[size]) as the device wrote it. */
  get availEvent(): number {
    return this.m.r16(this.used + 4 + 8 * this.size);
  }

  /** Sets avail.flags (VIRTQ_AVAIL_F_NO_INTERRUPT). */
  setAvailFlags(v: number): void {
    this.m.w16(this.avail, v);
  }
}

/** Drives a virtio-mmio transport through its registers. */
export class TestDriver {
  readonly mem: DriverMemory;
  readonly alloc: GuestAllocator;

  constructor(
    readonly dev: MmioDevice,
    readonly ram: Ram,
    alloc?: GuestAllocator,
  ) {
    this.mem = new DriverMemory(ram);
    this.alloc = alloc ?? new GuestAllocator(ram);
  }

  r(offset: number): number {
    return this.dev.read(offset, 4);
  }

  w(offset: number, value: number): void {
    this.dev.write(offset, 4, value >>> 0);
  }

  /** The features the device offers (64-bit). */
  offered(): bigint {
    this.w(R.VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
    const lo = this.r(R.VIRTIO_MMIO_DEVICE_FEATURES);
    this.w(R.VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
    const hi = this.r(R.VIRTIO_MMIO_DEVICE_FEATURES);
    return (BigInt(hi) << 32n) | BigInt(lo);
  }

  /**
   * Reset, ACKNOWLEDGE, DRIVER, write `accept(offered)` as the driver features, FEATURES_OK;
   * returns whether FEATURES_OK stuck.
   */
  negotiate(accept: (offered: bigint) => bigint = (f) => f): boolean {
    this.w(R.VIRTIO_MMIO_STATUS, 0);
    this.w(R.VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE);
    this.w(R.VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
    const features = accept(this.offered());
    this.w(R.VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
    this.w(R.VIRTIO_MMIO_DRIVER_FEATURES, Number(features & 0xffffffffn));
    this.w(R.VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
    this.w(R.VIRTIO_MMIO_DRIVER_FEATURES, Number((features >> 32n) & 0xffffffffn));
    this.w(R.VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
    return (this.r(R.VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_FEATURES_OK) !== 0;
  }

  /** Allocates and registers queue `index` with `size` entries (default QueueNumMax) and sets it ready. */
  setupQueue(index: number, size?: number): TestQueue {
    this.w(R.VIRTIO_MMIO_QUEUE_SEL, index);
    const max = this.r(R.VIRTIO_MMIO_QUEUE_NUM_MAX);
    if (max === 0) throw new Error(`queue ${index} does not exist`);
    const q = new TestQueue(this, index, size ?? max);
    this.w(R.VIRTIO_MMIO_QUEUE_NUM, q.size);
    this.w(R.VIRTIO_MMIO_QUEUE_DESC_LOW, q.desc);
    this.w(R.VIRTIO_MMIO_QUEUE_DESC_HIGH, 0);
    this.w(R.VIRTIO_MMIO_QUEUE_DRIVER_LOW, q.avail);
    this.w(R.VIRTIO_MMIO_QUEUE_DRIVER_HIGH, 0);
    this.w(R.VIRTIO_MMIO_QUEUE_DEVICE_LOW, q.used);
    this.w(R.VIRTIO_MMIO_QUEUE_DEVICE_HIGH, 0);
    this.w(R.VIRTIO_MMIO_QUEUE_READY, 1);
    return q;
  }

  driverOk(): void {
    this.w(R.VIRTIO_MMIO_STATUS, this.r(R.VIRTIO_MMIO_STATUS) | VIRTIO_STATUS_DRIVER_OK);
  }

  get status(): number {
    return this.r(R.VIRTIO_MMIO_STATUS);
  }

  /** Reads InterruptStatus and acknowledges it; returns the bits. */
  ack(): number {
    const isr = this.r(R.VIRTIO_MMIO_INTERRUPT_STATUS);
    this.w(R.VIRTIO_MMIO_INTERRUPT_ACK, isr);
    return isr;
  }

  /** Reads `size` bytes of configuration space at `offset`. */
  config(offset: number, size: 1 | 2 | 4): number {
    return this.dev.read(R.VIRTIO_MMIO_CONFIG + offset, size);
  }
}

// ---- fake backends ------------------------------------------------------------------------

/**
 * A block backend over a byte array whose completions wait in `pending` until `run()` (or run
 * at once with `sync`), so tests control completion order.
 */
export class MemoryBlockBackend implements BlockBackend {
  readonly data: Uint8Array;
  pending: (() => void)[] = [];
  failNext: string | undefined;
  flushes = 0;
  sync = false;

  constructor(
    readonly byteLength: number,
    readonly readOnly = false,
  ) {
    this.data = new Uint8Array(byteLength);
  }

  private later(f: () => void): void {
    if (this.sync) f();
    else this.pending.push(f);
  }

  private takeFailure(): string | undefined {
    const e = this.failNext;
    this.failNext = undefined;
    return e;
  }

  read(offset: number, length: number, done: (err: string | undefined, data: Uint8Array) => void): void {
    const err = this.takeFailure();
    const bytes = this.data.slice(offset, offset + length);
    this.later(() => (err === undefined ? done(undefined, bytes) : done(err, new Uint8Array(0))));
  }

  write(offset: number, data: Uint8Array, done: (err: string | undefined) => void): void {
    const err = this.takeFailure();
    this.later(() => {
      if (err === undefined) this.data.set(data, offset);
      done(err);
    });
  }

  flush(done: (err: string | undefined) => void): void {
    this.flushes++;
    this.later(() => done(undefined));
  }

  /** Runs the pending completions, in the order given by `order` (indices) or FIFO. */
  run(order?: number[]): void {
    const p = this.pending;
    this.pending = [];
    for (const i of order ?? p.map((_, k) => k)) p[i]!();
  }
}

/** An entropy backend returning 0x01, 0x02, ... synchronously, at most `chunk` bytes per call. */
export class CountingEntropy implements EntropyBackend {
  next = 1;
  calls = 0;
  constructor(readonly chunk = Infinity) {}
  read(length: number, done: (bytes: Uint8Array) => void): void {
    this.calls++;
    const n = Math.min(length, this.chunk);
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = this.next++ & 0xff;
    done(out);
  }
}

/** A network backend recording sent frames and queueing refused received frames like a netdev. */
export class FakeNet implements NetBackend {
  sent: Uint8Array[] = [];
  queued: Uint8Array[] = [];
  receiver: NetReceiver | undefined;
  wakeups = 0;

  send(frame: Uint8Array): void {
    this.sent.push(frame);
  }

  setReceiver(receive: NetReceiver): void {
    this.receiver = receive;
  }

  /** Offers a frame from the network; queues it when the device refuses. */
  deliver(frame: Uint8Array): boolean {
    if (this.queued.length === 0 && this.receiver!(frame)) return true;
    this.queued.push(frame);
    return false;
  }

  rxSpaceAvailable(): void {
    this.wakeups++;
    while (this.queued.length > 0 && this.receiver!(this.queued[0]!)) this.queued.shift();
  }
}

// ---- a device under test ------------------------------------------------------------------

/** A device built on a fresh machine, with its fakes and a driver bound to its transport. */
export interface DeviceUnderTest<D extends VirtioDevice> {
  readonly dev: D;
  readonly drv: TestDriver;
  readonly irq: FakeIrq;
  readonly notifier: FakeNotifier;
  readonly logs: string[];
  readonly guestErrors: string[];
  readonly arena: StateArena;
  readonly ram: Ram;
}

/** Builds a device as transport index 2 (`virtio2`) over a fresh arena and RAM. */
export function makeDevice(spec: VirtioNetSpec, backend?: NetBackend): DeviceUnderTest<VirtioNetDevice>;
export function makeDevice(spec: VirtioDeviceSpec, backend?: VirtioBackend): DeviceUnderTest<VirtioDevice>;
export function makeDevice(spec: VirtioDeviceSpec, backend?: VirtioBackend): DeviceUnderTest<VirtioDevice> {
  const { arena, ram, logs, guestErrors } = makeMachine();
  const irq = new FakeIrq();
  const notifier = new FakeNotifier();
  const dev = createVirtioDevice(spec, {
    arena,
    ram,
    irq,
    notifier,
    log: (l) => logs.push(l),
    guestError: (l) => guestErrors.push(l),
    index: 2,
    name: 'virtio2',
    ...(backend !== undefined ? { backend } : {}),
  });
  return { dev, drv: new TestDriver(dev.transport, ram), irq, notifier, logs, guestErrors, arena, ram };
}

/** struct virtio_blk_outhdr: type, reserved, sector (little-endian). */
export function blkHeader(type: number, sector = 0): Uint8Array {
  const b = new Uint8Array(16);
  const v = new DataView(b.buffer);
  v.setUint32(0, type, true);
  v.setUint32(8, sector % 0x1_0000_0000, true);
  v.setUint32(12, Math.floor(sector / 0x1_0000_0000), true);
  return b;
}
