/**
 * Contracts of the virtio devices:
 * - between the MMIO transport and a device model (`VirtioDeviceModel`, `VirtioDeviceInfo`,
 *   and the services the transport gives the model, `VirtioTransportApi`);
 * - between the devices and the host layer (`BlockBackend`, `EntropyBackend`, `NetBackend`,
 *   `VirtioNotifier`), which src/host implements. Backends are asynchronous and callback-based,
 *   use Uint8Array only and no Node types, so the core runs unchanged in a browser worker.
 *   Their callbacks are where record/replay will log non-deterministic input.
 *
 * Threads: the vCPU thread's instance of a device only serves register accesses; it has no
 * backends. Queue work (`processDoorbell`) and every backend callback run on the main loop
 * under the BQL, on the main thread's instance. See index.ts.
 */
import type { GuestMemory } from './guest-memory.js';
import type { Virtqueue } from './virtqueue.js';

// ---- host side ---------------------------------------------------------------------------

/**
 * Wakes whoever processes a device's queues (QEMU's ioeventfd). A QueueNotify write sets the
 * queue's bit in the device's shared doorbell word and calls `kick(index)`; the board then
 * arranges for `processDoorbell()` of device `index` to run on the main loop: in the threaded
 * machine it wakes the main loop, single-threaded it schedules a bottom half. Called from the
 * vCPU thread with the BQL held; must not block.
 */
export interface VirtioNotifier {
  kick(index: number): void;
}

/**
 * A disk image for virtio-blk. Offsets and lengths are in bytes and always multiples of 512
 * within [0, byteLength). Calls may complete in any order and several may be in flight.
 * Callbacks must be invoked on the main loop with the BQL held (never inside a vCPU access),
 * and may be invoked synchronously from within the call.
 */
export interface BlockBackend {
  /** Size of the image in bytes; the device exposes floor(byteLength / 512) sectors. */
  readonly byteLength: number;
  /** Whether the image is read-only; the device then offers VIRTIO_BLK_F_RO and fails writes. */
  readonly readOnly: boolean;
  /**
   * Reads `length` bytes at `offset`. On success `done(undefined, data)` with exactly `length`
   * bytes; on failure `done(message, empty)`, which the guest sees as VIRTIO_BLK_S_IOERR.
   */
  read(offset: number, length: number, done: (err: string | undefined, data: Uint8Array) => void): void;
  /**
   * Writes `data` at `offset`. `done(undefined)` once the write is as durable as the host's
   * write cache makes it; `done(message)` on failure (IOERR). The device never calls this on a
   * read-only backend. `data` is owned by the backend after the call.
   */
  write(offset: number, data: Uint8Array, done: (err: string | undefined) => void): void;
  /** Makes completed writes durable (fsync); `done(message)` on failure (IOERR). */
  flush(done: (err: string | undefined) => void): void;
}

/** A source of random bytes for virtio-rng (QEMU's rng backend). */
export interface EntropyBackend {
  /**
   * Produces up to `length` random bytes (at least 1 unless `length` is 0) and passes them to
   * `done`, on the main loop with the BQL held, possibly synchronously.
   */
  read(length: number, done: (bytes: Uint8Array) => void): void;
}

/**
 * The device's receive entry point, handed to a `NetBackend`. Takes one Ethernet frame (no
 * virtio header, no FCS). Returns true when the frame was consumed (delivered to the guest, or
 * dropped because the link is down or the frame is larger than the guest's buffer); false when
 * the device has no receive buffer now (guest not ready or ring empty): the backend keeps the
 * frame (in a bounded queue of its own) and offers it again after `rxSpaceAvailable`.
 * Must be called on the main loop with the BQL held.
 */
export type NetReceiver = (frame: Uint8Array) => boolean;

/** A network backend for virtio-net (QEMU's netdev: user, tap, socket...). */
export interface NetBackend {
  /** Sends one Ethernet frame from the guest (the virtio header stripped). Must not block; may drop. */
  send(frame: Uint8Array): void;
  /** Called once by the device (main-thread instance) to connect its receive path. */
  setReceiver(receive: NetReceiver): void;
  /**
   * Called by the device after a receive returned false, once the guest has made receive
   * buffers available (or set DRIVER_OK / the link came up): the backend should offer its
   * queued frames again now, by calling the receiver (QEMU's qemu_flush_queued_packets).
   */
  rxSpaceAvailable(): void;
}

// ---- transport <-> device model -------------------------------------------------------

/** Static description of a device model: the same in every thread, derived from configuration. */
export interface VirtioDeviceInfo {
  /** Virtio device ID (1 net, 2 block, 4 entropy). */
  readonly deviceId: number;
  /** Name for messages, e.g. `virtio-blk`. */
  readonly typeName: string;
  /** Device-specific and ring feature bits the device offers; the transport adds VIRTIO_F_VERSION_1. */
  readonly features: bigint;
  /** QueueNumMax of each queue; the length is the number of queues (at most 31). */
  readonly queueSizes: readonly number[];
  /** Size in bytes of the device-specific configuration space at 0x100. */
  readonly configSize: number;
}

/** What the transport calls on a device model. */
export interface VirtioDeviceModel {
  /** Reads `size` bytes at `offset` of the configuration space (offset + size <= configSize). */
  readConfig(offset: number, size: 1 | 2 | 4): number;
  /** Writes configuration space (offset + size <= configSize); most fields are read-only. */
  writeConfig(offset: number, size: 1 | 2 | 4, value: number): void;
  /** Extra check of the driver's features at FEATURES_OK; false refuses them. Optional. */
  validateFeatures?(features: bigint): boolean;
  /** Device reset (status 0 or board reset): reset the model's own arena state. Any thread. */
  resetDevice(): void;
  /** Main thread: the driver notified queue `queue` (it is ready; the device is not broken). */
  queueNotified(queue: number): void;
  /** Main thread: the driver set DRIVER_OK. Optional. */
  driverOk?(): void;
}

/** Services of the transport a device model uses (main-thread instance for queue work). */
export interface VirtioTransportApi {
  readonly mem: GuestMemory;
  /** Queue `index`. */
  queue(index: number): Virtqueue;
  /** Whether the driver negotiated feature `bit` (valid once FEATURES_OK was accepted). */
  hasFeature(bit: number): boolean;
  /** Whether VIRTIO_F_RING_EVENT_IDX was negotiated. */
  readonly eventIdx: boolean;
  /** Device status register. */
  readonly status: number;
  /** Whether DRIVER_OK is set. */
  readonly driverOkSet: boolean;
  /**
   * Bumped by every device reset; a completion whose request was issued under another value
   * belongs to a reset device and is dropped.
   */
  readonly generation: number;
  /** Whether the device is marked broken (needs reset) after a driver error. */
  readonly broken: boolean;
  /** Reports a driver error, sets DEVICE_NEEDS_RESET and stops the device until reset (QEMU's virtio_error). */
  markBroken(message: string): void;
  /** Raises the used-buffer interrupt for `queue` if the driver wants one (event index / NO_INTERRUPT). */
  notifyQueue(queue: number): void;
  /** The configuration changed: bump ConfigGeneration and raise the configuration interrupt. */
  notifyConfigChanged(): void;
  /** Host-side log line (errors reported to the user). */
  log(message: string): void;
}
