/**
 * virtio-mmio transport, version 2 only (virtio spec 1.2 section 4.2.2), after QEMU's
 * hw/virtio/virtio-mmio.c with `force-legacy=off`, driving one device model.
 *
 * State (arena owner = the transport's `name`, e.g. `virtio7`): `regs` (status, feature
 * selectors, the driver's feature words, the negotiated features, QueueSel, InterruptStatus,
 * ConfigGeneration, the broken flag, the reset generation, the doorbell, the line level) and
 * `queues` (QUEUE_WORDS per queue, see virtqueue.ts). Every thread builds its own transport
 * object over the same words.
 *
 * Notifications (QEMU's ioeventfd model): a QueueNotify write does not process the queue. It
 * sets the queue's bit in the doorbell word and calls `notifier.kick(index)`; the main loop
 * later calls `processDoorbell()` on the main thread's instance, which owns the backends.
 * Setting DRIVER_OK rings the doorbell's STATUS bit, so the main instance learns of it.
 *
 * Differences from QEMU, deliberate:
 * - QueueNumMax is the device's own queue size (QEMU's virtio-mmio reports 1024 for every
 *   queue, VIRTQUEUE_MAX_SIZE). QueueNum accepts 1..QueueNumMax; other values are ignored.
 * - FEATURES_OK is refused (the bit does not stick) when the driver accepted a feature that was
 *   not offered or did not accept VIRTIO_F_VERSION_1, as the spec says (section 3.1.1); QEMU
 *   masks the features and accepts.
 * - DeviceFeaturesSel values above 1 read features 0 (QEMU folds every non-zero value to 1).
 * - Queue size, addresses written while the queue is ready are ignored (QEMU stores them for
 *   the next QueueReady write); the spec forbids the writes.
 * - A status write of 0 resets everything, queue addresses included (QEMU's soft reset keeps
 *   the proxy's address registers).
 * - InterruptACK always updates the line, also on a broken device.
 */
import type { MmioDevice } from '../../memory/address-map.js';
import type { Ram } from '../../memory/ram.js';
import type { StateArena } from '../../memory/state-arena.js';
import type { IrqLine } from '../irq.js';
import {
  VIRTIO_MMIO_CONFIG,
  VIRTIO_MMIO_CONFIG_GENERATION,
  VIRTIO_MMIO_DEVICE_FEATURES,
  VIRTIO_MMIO_DEVICE_FEATURES_SEL,
  VIRTIO_MMIO_DEVICE_ID,
  VIRTIO_MMIO_DRIVER_FEATURES,
  VIRTIO_MMIO_DRIVER_FEATURES_SEL,
  VIRTIO_MMIO_GUEST_PAGE_SIZE,
  VIRTIO_MMIO_INT_CONFIG,
  VIRTIO_MMIO_INT_VRING,
  VIRTIO_MMIO_INTERRUPT_ACK,
  VIRTIO_MMIO_INTERRUPT_STATUS,
  VIRTIO_MMIO_MAGIC,
  VIRTIO_MMIO_MAGIC_VALUE,
  VIRTIO_MMIO_QUEUE_ALIGN,
  VIRTIO_MMIO_QUEUE_DESC_HIGH,
  VIRTIO_MMIO_QUEUE_DESC_LOW,
  VIRTIO_MMIO_QUEUE_DEVICE_HIGH,
  VIRTIO_MMIO_QUEUE_DEVICE_LOW,
  VIRTIO_MMIO_QUEUE_DRIVER_HIGH,
  VIRTIO_MMIO_QUEUE_DRIVER_LOW,
  VIRTIO_MMIO_QUEUE_NOTIFY,
  VIRTIO_MMIO_QUEUE_NUM,
  VIRTIO_MMIO_QUEUE_NUM_MAX,
  VIRTIO_MMIO_QUEUE_PFN,
  VIRTIO_MMIO_QUEUE_READY,
  VIRTIO_MMIO_QUEUE_RESET,
  VIRTIO_MMIO_QUEUE_SEL,
  VIRTIO_MMIO_SHM_BASE_HIGH,
  VIRTIO_MMIO_SHM_BASE_LOW,
  VIRTIO_MMIO_SHM_LEN_HIGH,
  VIRTIO_MMIO_SHM_LEN_LOW,
  VIRTIO_MMIO_SHM_SEL,
  VIRTIO_MMIO_STATUS,
  VIRTIO_MMIO_VENDOR_ID,
  VIRTIO_MMIO_VENDOR_QEMU,
  VIRTIO_MMIO_VERSION,
  VIRTIO_MMIO_VERSION_MODERN,
} from '../virtio-mmio/constants.js';
import {
  featureBits,
  hasFeatureBit,
  VIRTIO_F_RING_EVENT_IDX,
  VIRTIO_F_RING_INDIRECT_DESC,
  VIRTIO_F_VERSION_1,
  VIRTIO_STATUS_DEVICE_NEEDS_RESET,
  VIRTIO_STATUS_DRIVER_OK,
  VIRTIO_STATUS_FEATURES_OK,
} from './constants.js';
import type { VirtioDeviceInfo, VirtioDeviceModel, VirtioNotifier, VirtioTransportApi } from './device-api.js';
import { GuestMemory } from './guest-memory.js';
import { Q_DESC, Q_DEVICE, Q_DRIVER, Q_NUM, Q_READY, QUEUE_WORDS, Virtqueue, type VirtqElement } from './virtqueue.js';

// Word indices within `regs`.
const R_STATUS = 0;
const R_DEV_FEAT_SEL = 1;
const R_DRV_FEAT_SEL = 2;
const R_DRV_FEAT = 3; // 2 words: the driver's feature words as written
const R_FEATURES = 5; // 2 words: negotiated (latched at FEATURES_OK)
const R_QUEUE_SEL = 7;
const R_ISR = 8;
const R_CONFIG_GEN = 9;
const R_BROKEN = 10;
const R_GENERATION = 11;
const R_DOORBELL = 12;
const R_IRQ_LEVEL = 13;
const REG_WORDS = 16;

/** Doorbell bit rung when the driver sets DRIVER_OK (queue bits are 0..30). */
export const DOORBELL_STATUS = 1 << 31;
/** Most queues a transport supports (one doorbell bit each). */
export const MAX_QUEUES = 31;

/** Features every device on this transport offers. */
export const TRANSPORT_FEATURES = featureBits(VIRTIO_F_VERSION_1, VIRTIO_F_RING_INDIRECT_DESC, VIRTIO_F_RING_EVENT_IDX);

/** What a transport is built from. */
export interface VirtioMmioTransportOptions {
  readonly arena: StateArena;
  /** Arena owner and the name in messages, e.g. `virtio7`. */
  readonly name: string;
  /** The transport's index, passed to `notifier.kick`. */
  readonly index: number;
  readonly ram: Ram;
  /** The transport's interrupt line (level: high while InterruptStatus != 0). */
  readonly irq: IrqLine;
  readonly notifier: VirtioNotifier;
  /** Always-on error log (driver errors that break the device, backend I/O errors). */
  readonly log: (message: string) => void;
  /** Register misuse, for `-d guest_errors`; absent = not reported. */
  readonly guestError?: (message: string) => void;
}

function hex(n: number): string {
  return `0x${(n >>> 0).toString(16)}`;
}

/** The virtio-mmio version 2 register block of one device. */
export class VirtioMmioTransport implements MmioDevice, VirtioTransportApi {
  readonly mem: GuestMemory;
  readonly name: string;
  readonly index: number;
  readonly info: VirtioDeviceInfo;
  /** All features offered: the device's plus TRANSPORT_FEATURES. */
  readonly offered: bigint;
  private readonly u32: Uint32Array;
  private readonly i32: Int32Array;
  private readonly regs: number;
  private readonly queues: Virtqueue[] = [];
  private readonly queueBase: number;
  private readonly irq: IrqLine;
  private readonly notifier: VirtioNotifier;
  private readonly logFn: (message: string) => void;
  private readonly guestErrorFn: ((message: string) => void) | undefined;

  /**
   * Allocates `<name>.regs` and `<name>.queues` in the arena. Does not reset: the device model
   * allocates its own words next and then calls `reset()`.
   */
  constructor(options: VirtioMmioTransportOptions, info: VirtioDeviceInfo, private readonly model: VirtioDeviceModel) {
    const n = info.queueSizes.length;
    if (n < 1 || n > MAX_QUEUES) throw new RangeError(`${info.typeName}: ${n} queues (1..${MAX_QUEUES} supported)`);
    for (const s of info.queueSizes) {
      if (!Number.isInteger(s) || s < 1 || s > 32768) throw new RangeError(`${info.typeName}: bad queue size ${s}`);
    }
    this.name = options.name;
    this.index = options.index;
    this.info = info;
    this.offered = info.features | TRANSPORT_FEATURES;
    this.mem = new GuestMemory(options.ram);
    this.irq = options.irq;
    this.notifier = options.notifier;
    this.logFn = options.log;
    this.guestErrorFn = options.guestError;
    this.u32 = options.arena.u32;
    this.i32 = options.arena.i32;
    this.regs = options.arena.allocate(options.name, 'regs', REG_WORDS);
    this.queueBase = options.arena.allocate(options.name, 'queues', QUEUE_WORDS * n);
    for (let q = 0; q < n; q++) {
      this.queues.push(new Virtqueue(this.mem, this.u32, this.queueBase + q * QUEUE_WORDS, q, info.queueSizes[q]!));
    }
  }

  private g(i: number): number {
    return this.u32[this.regs + i]!;
  }

  private s(i: number, v: number): void {
    this.u32[this.regs + i] = v >>> 0;
  }

  private guestError(message: string): void {
    this.guestErrorFn?.(`${this.info.typeName} (${this.name}): ${message}`);
  }

  // ---- VirtioTransportApi -------------------------------------------------------------------

  queue(index: number): Virtqueue {
    const q = this.queues[index];
    if (q === undefined) throw new RangeError(`${this.name}: no queue ${index}`);
    return q;
  }

  /** Number of queues. */
  get numQueues(): number {
    return this.queues.length;
  }

  /** The negotiated feature set (0 until FEATURES_OK is accepted). */
  get features(): bigint {
    return (BigInt(this.g(R_FEATURES + 1)) << 32n) | BigInt(this.g(R_FEATURES));
  }

  hasFeature(bit: number): boolean {
    if (bit < 0 || bit > 63) return false;
    return ((this.g(R_FEATURES + (bit >>> 5)) >>> (bit & 31)) & 1) === 1;
  }

  get eventIdx(): boolean {
    return this.hasFeature(VIRTIO_F_RING_EVENT_IDX);
  }

  get status(): number {
    return this.g(R_STATUS);
  }

  get driverOkSet(): boolean {
    return (this.g(R_STATUS) & VIRTIO_STATUS_DRIVER_OK) !== 0;
  }

  get generation(): number {
    return Atomics.load(this.i32, this.regs + R_GENERATION);
  }

  get broken(): boolean {
    return this.g(R_BROKEN) !== 0;
  }

  /** InterruptStatus. */
  get interruptStatus(): number {
    return Atomics.load(this.u32, this.regs + R_ISR);
  }

  /** The level this transport drives on its line. */
  get irqLevel(): boolean {
    return this.g(R_IRQ_LEVEL) !== 0;
  }

  /** ConfigGeneration. */
  get configGeneration(): number {
    return this.g(R_CONFIG_GEN);
  }

  log(message: string): void {
    this.logFn(`${this.info.typeName} (${this.name}): ${message}`);
  }

  /**
   * Pops every available chain of queue `index` and hands it to `handle`, until the queue is
   * empty or the device is broken (a malformed chain breaks it).
   */
  drainQueue(index: number, handle: (element: VirtqElement) => void): void {
    const vq = this.queue(index);
    while (!this.broken) {
      const r = vq.pop(this.eventIdx);
      if (r.kind === 'empty') return;
      if (r.kind === 'error') {
        this.markBroken(r.message);
        return;
      }
      handle(r.element);
    }
  }

  markBroken(message: string): void {
    if (this.broken) return;
    this.s(R_BROKEN, 1);
    this.log(message);
    this.s(R_STATUS, this.g(R_STATUS) | VIRTIO_STATUS_DEVICE_NEEDS_RESET);
    if (this.driverOkSet) {
      this.s(R_CONFIG_GEN, this.g(R_CONFIG_GEN) + 1);
      this.raise(VIRTIO_MMIO_INT_CONFIG);
    }
  }

  notifyQueue(queue: number): void {
    if (this.broken) return;
    if (this.queue(queue).shouldNotify(this.eventIdx)) this.raise(VIRTIO_MMIO_INT_VRING);
  }

  notifyConfigChanged(): void {
    this.s(R_CONFIG_GEN, this.g(R_CONFIG_GEN) + 1);
    if (this.driverOkSet) this.raise(VIRTIO_MMIO_INT_CONFIG);
  }

  private raise(bits: number): void {
    Atomics.or(this.u32, this.regs + R_ISR, bits);
    this.updateIrq();
  }

  private updateIrq(): void {
    const level = this.interruptStatus !== 0;
    this.s(R_IRQ_LEVEL, level ? 1 : 0);
    this.irq.set(level);
  }

  // ---- reset and doorbell -----------------------------------------------------------------

  /**
   * Device reset (status 0 written, or board reset): registers, queues and the model's state
   * return to their reset values, the line goes low, the doorbell is cleared and the reset
   * generation is bumped so completions of requests issued before now are dropped. Touches
   * only arena words and the line, so any thread may call it (with the BQL held).
   */
  reset(): void {
    Atomics.add(this.i32, this.regs + R_GENERATION, 1);
    for (let i = 0; i < REG_WORDS; i++) {
      if (i !== R_GENERATION) Atomics.store(this.u32, this.regs + i, 0);
    }
    for (const q of this.queues) q.reset();
    this.model.resetDevice();
    this.updateIrq();
  }

  /**
   * Main thread, main loop, BQL held: takes the doorbell bits rung since the last call and
   * lets the device model process the notified queues. Does nothing on a broken device.
   * Never throws for guest errors.
   */
  processDoorbell(): void {
    const bits = Atomics.exchange(this.i32, this.regs + R_DOORBELL, 0) >>> 0;
    if (bits === 0 || this.broken) return;
    if ((bits & DOORBELL_STATUS) !== 0 && this.driverOkSet) this.model.driverOk?.();
    for (let q = 0; q < this.queues.length; q++) {
      if ((bits & (1 << q)) === 0) continue;
      if (this.broken) return;
      if (this.queues[q]!.ready) this.model.queueNotified(q);
    }
  }

  /** Whether doorbell bits are waiting for `processDoorbell`. */
  get doorbellPending(): boolean {
    return Atomics.load(this.i32, this.regs + R_DOORBELL) !== 0;
  }

  private ring(bits: number): void {
    Atomics.or(this.i32, this.regs + R_DOORBELL, bits | 0);
    this.notifier.kick(this.index);
  }

  // ---- registers --------------------------------------------------------------------------

  private selectedQueue(): Virtqueue | undefined {
    return this.queues[this.g(R_QUEUE_SEL)];
  }

  /** Reads a register or the configuration space (at 0x100). */
  read(offset: number, size: 1 | 2 | 4): number {
    if (offset >= VIRTIO_MMIO_CONFIG) return this.readConfig(offset - VIRTIO_MMIO_CONFIG, size);
    if (size !== 4 || (offset & 3) !== 0) {
      this.guestError(`${size}-byte read of register ${hex(offset)} (registers are 32-bit)`);
      return 0;
    }
    switch (offset) {
      case VIRTIO_MMIO_MAGIC_VALUE:
        return VIRTIO_MMIO_MAGIC;
      case VIRTIO_MMIO_VERSION:
        return VIRTIO_MMIO_VERSION_MODERN;
      case VIRTIO_MMIO_DEVICE_ID:
        return this.info.deviceId;
      case VIRTIO_MMIO_VENDOR_ID:
        return VIRTIO_MMIO_VENDOR_QEMU;
      case VIRTIO_MMIO_DEVICE_FEATURES: {
        const sel = this.g(R_DEV_FEAT_SEL);
        return sel > 1 ? 0 : Number((this.offered >> BigInt(32 * sel)) & 0xffffffffn);
      }
      case VIRTIO_MMIO_QUEUE_NUM_MAX:
        return this.selectedQueue()?.maxSize ?? 0;
      case VIRTIO_MMIO_QUEUE_READY:
        return this.selectedQueue()?.ready === true ? 1 : 0;
      case VIRTIO_MMIO_INTERRUPT_STATUS:
        return this.interruptStatus;
      case VIRTIO_MMIO_STATUS:
        return this.g(R_STATUS);
      case VIRTIO_MMIO_CONFIG_GENERATION:
        return this.g(R_CONFIG_GEN);
      case VIRTIO_MMIO_SHM_LEN_LOW:
      case VIRTIO_MMIO_SHM_LEN_HIGH:
        return 0xffffffff; // no shared memory regions: length -1 (as QEMU)
      case VIRTIO_MMIO_SHM_BASE_LOW:
      case VIRTIO_MMIO_SHM_BASE_HIGH:
      case VIRTIO_MMIO_QUEUE_RESET:
        return 0;
      case VIRTIO_MMIO_DEVICE_FEATURES_SEL:
      case VIRTIO_MMIO_DRIVER_FEATURES:
      case VIRTIO_MMIO_DRIVER_FEATURES_SEL:
      case VIRTIO_MMIO_GUEST_PAGE_SIZE:
      case VIRTIO_MMIO_QUEUE_SEL:
      case VIRTIO_MMIO_QUEUE_NUM:
      case VIRTIO_MMIO_QUEUE_ALIGN:
      case VIRTIO_MMIO_QUEUE_NOTIFY:
      case VIRTIO_MMIO_INTERRUPT_ACK:
      case VIRTIO_MMIO_QUEUE_DESC_LOW:
      case VIRTIO_MMIO_QUEUE_DESC_HIGH:
      case VIRTIO_MMIO_QUEUE_DRIVER_LOW:
      case VIRTIO_MMIO_QUEUE_DRIVER_HIGH:
      case VIRTIO_MMIO_QUEUE_DEVICE_LOW:
      case VIRTIO_MMIO_QUEUE_DEVICE_HIGH:
      case VIRTIO_MMIO_SHM_SEL:
        this.guestError(`read of write-only register ${hex(offset)}`);
        return 0;
      case VIRTIO_MMIO_QUEUE_PFN:
        this.guestError(`read of legacy register ${hex(offset)} in non-legacy mode`);
        return 0;
      default:
        this.guestError(`read of unknown register ${hex(offset)}`);
        return 0;
    }
  }

  /** Writes a register or the configuration space (at 0x100). */
  write(offset: number, size: 1 | 2 | 4, value: number): void {
    if (offset >= VIRTIO_MMIO_CONFIG) {
      this.writeConfig(offset - VIRTIO_MMIO_CONFIG, size, value);
      return;
    }
    if (size !== 4 || (offset & 3) !== 0) {
      this.guestError(`${size}-byte write of register ${hex(offset)} (registers are 32-bit)`);
      return;
    }
    value >>>= 0;
    switch (offset) {
      case VIRTIO_MMIO_DEVICE_FEATURES_SEL:
        this.s(R_DEV_FEAT_SEL, value);
        return;
      case VIRTIO_MMIO_DRIVER_FEATURES: {
        const sel = this.g(R_DRV_FEAT_SEL);
        if (sel > 1) this.guestError(`DriverFeatures written with DriverFeaturesSel ${sel}`);
        else this.s(R_DRV_FEAT + sel, value);
        return;
      }
      case VIRTIO_MMIO_DRIVER_FEATURES_SEL:
        this.s(R_DRV_FEAT_SEL, value);
        return;
      case VIRTIO_MMIO_QUEUE_SEL:
        this.s(R_QUEUE_SEL, value);
        return;
      case VIRTIO_MMIO_QUEUE_NUM:
        this.writeQueueNum(value);
        return;
      case VIRTIO_MMIO_QUEUE_READY:
        this.writeQueueReady(value);
        return;
      case VIRTIO_MMIO_QUEUE_NOTIFY:
        if (value < this.queues.length) this.ring(1 << value);
        else this.guestError(`QueueNotify for queue ${value}, which does not exist`);
        return;
      case VIRTIO_MMIO_INTERRUPT_ACK:
        Atomics.and(this.u32, this.regs + R_ISR, ~value);
        this.updateIrq();
        return;
      case VIRTIO_MMIO_STATUS:
        this.writeStatus(value & 0xff);
        return;
      case VIRTIO_MMIO_QUEUE_DESC_LOW:
      case VIRTIO_MMIO_QUEUE_DESC_HIGH:
        this.writeQueueAddress(Q_DESC + ((offset & 4) >>> 2), value);
        return;
      case VIRTIO_MMIO_QUEUE_DRIVER_LOW:
      case VIRTIO_MMIO_QUEUE_DRIVER_HIGH:
        this.writeQueueAddress(Q_DRIVER + ((offset & 4) >>> 2), value);
        return;
      case VIRTIO_MMIO_QUEUE_DEVICE_LOW:
      case VIRTIO_MMIO_QUEUE_DEVICE_HIGH:
        this.writeQueueAddress(Q_DEVICE + ((offset & 4) >>> 2), value);
        return;
      case VIRTIO_MMIO_SHM_SEL:
        return;
      case VIRTIO_MMIO_QUEUE_RESET:
        this.guestError('QueueReset written but VIRTIO_F_RING_RESET is not offered');
        return;
      case VIRTIO_MMIO_GUEST_PAGE_SIZE:
      case VIRTIO_MMIO_QUEUE_ALIGN:
      case VIRTIO_MMIO_QUEUE_PFN:
        this.guestError(`write to legacy register ${hex(offset)} in non-legacy mode`);
        return;
      case VIRTIO_MMIO_MAGIC_VALUE:
      case VIRTIO_MMIO_VERSION:
      case VIRTIO_MMIO_DEVICE_ID:
      case VIRTIO_MMIO_VENDOR_ID:
      case VIRTIO_MMIO_DEVICE_FEATURES:
      case VIRTIO_MMIO_QUEUE_NUM_MAX:
      case VIRTIO_MMIO_INTERRUPT_STATUS:
      case VIRTIO_MMIO_CONFIG_GENERATION:
        this.guestError(`write to read-only register ${hex(offset)}`);
        return;
      default:
        this.guestError(`write to unknown register ${hex(offset)}`);
    }
  }

  private queueWordBase(q: Virtqueue): number {
    return this.queueBase + q.index * QUEUE_WORDS;
  }

  private writeQueueNum(value: number): void {
    const q = this.selectedQueue();
    if (q === undefined) {
      this.guestError(`QueueNum written for queue ${this.g(R_QUEUE_SEL)}, which does not exist`);
    } else if (q.ready) {
      this.guestError(`QueueNum written while queue ${q.index} is ready`);
    } else if (value < 1 || value > q.maxSize) {
      this.guestError(`queue ${q.index}: size ${value} is not in 1..${q.maxSize}`);
    } else {
      this.u32[this.queueWordBase(q) + Q_NUM] = value;
    }
  }

  private writeQueueAddress(word: number, value: number): void {
    const q = this.selectedQueue();
    if (q === undefined) {
      this.guestError(`queue address written for queue ${this.g(R_QUEUE_SEL)}, which does not exist`);
    } else if (q.ready) {
      this.guestError(`queue address written while queue ${q.index} is ready`);
    } else {
      this.u32[this.queueWordBase(q) + word] = value;
    }
  }

  private writeQueueReady(value: number): void {
    const q = this.selectedQueue();
    if (q === undefined) {
      this.guestError(`QueueReady written for queue ${this.g(R_QUEUE_SEL)}, which does not exist`);
      return;
    }
    if (value === 0) {
      this.u32[this.queueWordBase(q) + Q_READY] = 0;
      return;
    }
    this.u32[this.queueWordBase(q) + Q_READY] = 1;
    const bad = q.checkRings();
    if (bad !== undefined) this.markBroken(bad);
  }

  private writeStatus(value: number): void {
    if (value === 0) {
      this.reset();
      return;
    }
    const old = this.g(R_STATUS);
    let next = (value & ~VIRTIO_STATUS_DEVICE_NEEDS_RESET) | (old & VIRTIO_STATUS_DEVICE_NEEDS_RESET);
    if ((next & VIRTIO_STATUS_FEATURES_OK) !== 0 && (old & VIRTIO_STATUS_FEATURES_OK) === 0) {
      const problem = this.checkDriverFeatures();
      if (problem === undefined) {
        this.s(R_FEATURES, this.g(R_DRV_FEAT));
        this.s(R_FEATURES + 1, this.g(R_DRV_FEAT + 1));
      } else {
        next &= ~VIRTIO_STATUS_FEATURES_OK;
        this.guestError(`FEATURES_OK refused: ${problem}`);
      }
    }
    this.s(R_STATUS, next);
    if ((next & VIRTIO_STATUS_DRIVER_OK) !== 0 && (old & VIRTIO_STATUS_DRIVER_OK) === 0) this.ring(DOORBELL_STATUS);
  }

  private checkDriverFeatures(): string | undefined {
    const driver = (BigInt(this.g(R_DRV_FEAT + 1)) << 32n) | BigInt(this.g(R_DRV_FEAT));
    const extra = driver & ~this.offered;
    if (extra !== 0n) return `the driver accepted features 0x${extra.toString(16)} that were not offered`;
    if (!hasFeatureBit(driver, VIRTIO_F_VERSION_1)) return 'the driver did not accept VIRTIO_F_VERSION_1 (legacy drivers are not supported)';
    if (this.model.validateFeatures?.(driver) === false) return `the device refused features 0x${driver.toString(16)}`;
    return undefined;
  }

  private readConfig(offset: number, size: 1 | 2 | 4): number {
    if (offset + size > this.info.configSize) return size === 4 ? 0xffffffff : size === 2 ? 0xffff : 0xff;
    return this.model.readConfig(offset, size) >>> 0;
  }

  private writeConfig(offset: number, size: 1 | 2 | 4, value: number): void {
    if (offset + size > this.info.configSize) return;
    this.model.writeConfig(offset, size, value);
  }
}
