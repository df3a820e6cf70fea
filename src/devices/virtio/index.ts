/**
 * virtio devices on virtio-mmio (version 2) transports: the factory the board uses, and the
 * types the host layer implements.
 *
 * Wiring (see device-api.ts for the contracts):
 * - Both threads build every device, in the same order, over the same arena: the main thread
 *   with backends, the vCPU thread (`attach` mode) without. Arena owner = `name` (`virtio<i>`).
 * - `transport` goes into the address map at the slot's base; `irq` is the slot's PLIC line.
 * - `notifier.kick(index)` is called on a QueueNotify (vCPU thread, BQL held); the board then
 *   runs `processDoorbell()` of device `index` on the main loop (BQL held): a bottom half when
 *   single-threaded, a main-loop wakeup when threaded.
 * - `reset()` is the board reset (any thread, BQL held).
 * - Backend callbacks run on the main loop with the BQL held.
 */
import type { MmioDevice } from '../../memory/address-map.js';
import type { Ram } from '../../memory/ram.js';
import type { StateArena } from '../../memory/state-arena.js';
import type { IrqLine } from '../irq.js';
import { VirtioBlk, type VirtioBlkConfig } from './blk.js';
import type { BlockBackend, EntropyBackend, NetBackend, VirtioNotifier } from './device-api.js';
import type { VirtioMmioTransport } from './mmio-transport.js';
import { VirtioNet, type VirtioNetConfig } from './net.js';
import { VirtioRng } from './rng.js';

export type { BlockBackend, EntropyBackend, NetBackend, NetReceiver, VirtioNotifier } from './device-api.js';
export { VirtioBlk, VIRTIO_BLK_QUEUE_SIZE, VIRTIO_BLK_SECTOR_SIZE, type VirtioBlkConfig } from './blk.js';
export { VirtioRng, VIRTIO_RNG_QUEUE_SIZE } from './rng.js';
export { VirtioNet, VIRTIO_NET_QUEUE_SIZE, VIRTIO_NET_DEFAULT_MAC, defaultVirtioNetMac, parseMac, type VirtioNetConfig } from './net.js';
export { VirtioMmioTransport, type VirtioMmioTransportOptions } from './mmio-transport.js';

/** A virtio-blk device (`-drive if=virtio` / `-device virtio-blk-device`). */
export interface VirtioBlkSpec extends VirtioBlkConfig {
  readonly kind: 'blk';
}

/** A virtio-rng device (`-device virtio-rng-device`). */
export interface VirtioRngSpec {
  readonly kind: 'rng';
}

/** A virtio-net device (`-device virtio-net-device` / `-nic`). */
export interface VirtioNetSpec extends VirtioNetConfig {
  readonly kind: 'net';
}

/** Configuration of one virtio device: plain data, the same in every thread. */
export type VirtioDeviceSpec = VirtioBlkSpec | VirtioRngSpec | VirtioNetSpec;

/** The backend type each kind of device takes. */
export interface VirtioBackendOf {
  blk: BlockBackend;
  rng: EntropyBackend;
  net: NetBackend;
}

/** Any backend. */
export type VirtioBackend = BlockBackend | EntropyBackend | NetBackend;

/** What a device is built with. */
export interface VirtioDeviceDeps<B> {
  readonly arena: StateArena;
  readonly ram: Ram;
  /** The slot's interrupt line (PLIC source VIRTIO_IRQ + index on `virt`). */
  readonly irq: IrqLine;
  readonly notifier: VirtioNotifier;
  /** Always-on error log: driver errors that break the device, backend I/O errors. */
  readonly log: (message: string) => void;
  /** Register misuse (QEMU's LOG_GUEST_ERROR), e.g. for `-d guest_errors`. Optional. */
  readonly guestError?: (message: string) => void;
  /** The host backend: on the main thread's instance only. */
  readonly backend?: B;
  /** Transport index, passed to `notifier.kick`. */
  readonly index: number;
  /** Arena owner and name in messages, e.g. `virtio7`. */
  readonly name: string;
}

/** A virtio device as the board sees it. */
export interface VirtioDevice {
  readonly kind: VirtioDeviceSpec['kind'];
  readonly name: string;
  readonly index: number;
  /** The MMIO register block to map at the slot's base (0x1000 bytes on `virt`). */
  readonly transport: MmioDevice;
  /** Main loop, BQL held: processes the queues whose doorbell bits are set. */
  processDoorbell(): void;
  /** Whether doorbell bits wait for `processDoorbell` (e.g. rung while the main loop was busy). */
  readonly doorbellPending: boolean;
  /** Board reset (any thread, BQL held): device reset; completions of older requests are dropped. */
  reset(): void;
  /** Whether a driver error marked the device as needing reset. */
  readonly broken: boolean;
}

/** A virtio-net device: also the receive path and the link state. */
export interface VirtioNetDevice extends VirtioDevice {
  readonly kind: 'net';
  /** Delivers a frame from the network (also handed to the backend by `setReceiver`); see NetReceiver. */
  receive(frame: Uint8Array): boolean;
  /** Sets the link state (QMP `set_link`). */
  setLinkUp(up: boolean): void;
  readonly linkUp: boolean;
}

class DeviceHandle implements VirtioDevice {
  constructor(
    readonly kind: VirtioDeviceSpec['kind'],
    readonly name: string,
    readonly index: number,
    readonly transport: VirtioMmioTransport,
  ) {}

  processDoorbell(): void {
    this.transport.processDoorbell();
  }

  get doorbellPending(): boolean {
    return this.transport.doorbellPending;
  }

  reset(): void {
    this.transport.reset();
  }

  get broken(): boolean {
    return this.transport.broken;
  }
}

class NetHandle extends DeviceHandle implements VirtioNetDevice {
  override readonly kind = 'net' as const;

  constructor(name: string, index: number, private readonly dev: VirtioNet) {
    super('net', name, index, dev.transport);
  }

  receive(frame: Uint8Array): boolean {
    return this.dev.receive(frame);
  }

  setLinkUp(up: boolean): void {
    this.dev.setLinkUp(up);
  }

  get linkUp(): boolean {
    return this.dev.linkUp;
  }
}

/**
 * Builds a virtio device and its virtio-mmio transport over the arena (allocating
 * `<name>.regs`, `<name>.queues` and the device's own fields, in that order). Throws
 * RangeError for a bad configuration (a board/CLI bug, never a guest error).
 */
export function createVirtioDevice(spec: VirtioBlkSpec, deps: VirtioDeviceDeps<BlockBackend>): VirtioDevice;
export function createVirtioDevice(spec: VirtioRngSpec, deps: VirtioDeviceDeps<EntropyBackend>): VirtioDevice;
export function createVirtioDevice(spec: VirtioNetSpec, deps: VirtioDeviceDeps<NetBackend>): VirtioNetDevice;
export function createVirtioDevice(spec: VirtioDeviceSpec, deps: VirtioDeviceDeps<VirtioBackend>): VirtioDevice;
export function createVirtioDevice(spec: VirtioDeviceSpec, deps: VirtioDeviceDeps<VirtioBackend>): VirtioDevice {
  const options = {
    arena: deps.arena,
    name: deps.name,
    index: deps.index,
    ram: deps.ram,
    irq: deps.irq,
    notifier: deps.notifier,
    log: deps.log,
    ...(deps.guestError !== undefined ? { guestError: deps.guestError } : {}),
  };
  switch (spec.kind) {
    case 'blk':
      return new DeviceHandle('blk', deps.name, deps.index, new VirtioBlk(options, spec, deps.backend as BlockBackend | undefined).transport);
    case 'rng':
      return new DeviceHandle('rng', deps.name, deps.index, new VirtioRng(options, deps.backend as EntropyBackend | undefined).transport);
    case 'net':
      return new NetHandle(deps.name, deps.index, new VirtioNet(options, spec, deps.backend as NetBackend | undefined));
  }
}
