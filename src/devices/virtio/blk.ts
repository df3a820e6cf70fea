/**
 * virtio-blk (virtio spec 1.2 section 5.2), after QEMU's hw/block/virtio-blk.c: one request
 * queue; requests IN (read), OUT (write), FLUSH and GET_ID; any other type is answered
 * VIRTIO_BLK_S_UNSUPP. Requests go to an asynchronous `BlockBackend`, may be in flight
 * together and complete in any order; each completion writes the status byte, pushes the
 * used element with length = all device-writable bytes (as QEMU) and raises the interrupt
 * when the driver wants it.
 *
 * Features offered: SEG_MAX (queue size - 2, as QEMU's seg-max-adjust), BLK_SIZE (512),
 * FLUSH, and RO for a read-only image. Configuration space: the first 36 bytes of
 * struct virtio_blk_config (capacity .. num_queues), as QEMU without discard/write-zeroes.
 *
 * Errors: a malformed request (no readable header, no writable status byte, header shorter
 * than 16 bytes) breaks the device (QEMU's virtio_error). A transfer that is not a whole
 * number of sectors or reaches past the end of the disk, a write to a read-only disk and a
 * backend failure complete with VIRTIO_BLK_S_IOERR (QEMU's rerror/werror=report).
 *
 * Capacity is floor(byteLength / 512) sectors: a partial last sector is not exposed (QEMU
 * rounds up and reads zeros past the end).
 *
 * Device state: none beyond the transport's. Requests in flight are host-side; a device reset
 * bumps the transport generation so their completions are dropped (a write already handed to
 * the backend may still reach the disk; QEMU drains requests before a reset instead).
 */
import { ConfigImage } from './config-space.js';
import { featureBits, VIRTIO_ID_BLOCK } from './constants.js';
import type { BlockBackend, VirtioDeviceInfo, VirtioDeviceModel } from './device-api.js';
import { gather, scatter, trimEnd, type Segment } from './guest-memory.js';
import { VirtioMmioTransport, type VirtioMmioTransportOptions } from './mmio-transport.js';
import type { VirtqElement } from './virtqueue.js';

/** Feature bits (section 5.2.3). */
export const VIRTIO_BLK_F_SIZE_MAX = 1;
export const VIRTIO_BLK_F_SEG_MAX = 2;
export const VIRTIO_BLK_F_GEOMETRY = 4;
export const VIRTIO_BLK_F_RO = 5;
export const VIRTIO_BLK_F_BLK_SIZE = 6;
export const VIRTIO_BLK_F_FLUSH = 9;
/** Request types. */
export const VIRTIO_BLK_T_IN = 0;
export const VIRTIO_BLK_T_OUT = 1;
export const VIRTIO_BLK_T_FLUSH = 4;
export const VIRTIO_BLK_T_GET_ID = 8;
/** Request status byte values. */
export const VIRTIO_BLK_S_OK = 0;
export const VIRTIO_BLK_S_IOERR = 1;
export const VIRTIO_BLK_S_UNSUPP = 2;
/** Length of the GET_ID answer. */
export const VIRTIO_BLK_ID_BYTES = 20;
/** Bytes per sector (the unit of `sector` and `capacity`). */
export const VIRTIO_BLK_SECTOR_SIZE = 512;
/** QueueNumMax of the request queue (QEMU's default queue-size). */
export const VIRTIO_BLK_QUEUE_SIZE = 256;
/** Size of the configuration space exposed. */
export const VIRTIO_BLK_CONFIG_SIZE = 36;
/** Size of struct virtio_blk_outhdr (type, reserved, sector). */
const OUTHDR_SIZE = 16;

/** Configuration of a virtio-blk device; the same in every thread. */
export interface VirtioBlkConfig {
  /** Image size in bytes (must equal the backend's `byteLength`). */
  readonly byteLength: number;
  /** Read-only image (must equal the backend's `readOnly`). */
  readonly readOnly: boolean;
  /** Serial number returned by GET_ID (QEMU's `serial=`); at most 20 bytes are used. Default empty. */
  readonly serial?: string;
}

/** A virtio-blk device model with its MMIO transport. */
export class VirtioBlk implements VirtioDeviceModel {
  readonly transport: VirtioMmioTransport;
  readonly info: VirtioDeviceInfo;
  /** Disk size in 512-byte sectors. */
  readonly capacity: number;
  private readonly readOnly: boolean;
  private readonly serial: Uint8Array;
  private readonly config: ConfigImage;

  /**
   * @param backend the disk; only on the main thread's instance (the vCPU thread's has none).
   */
  constructor(options: VirtioMmioTransportOptions, config: VirtioBlkConfig, private readonly backend?: BlockBackend) {
    if (!Number.isSafeInteger(config.byteLength) || config.byteLength < 0) {
      throw new RangeError(`virtio-blk (${options.name}): bad image size ${config.byteLength}`);
    }
    if (backend !== undefined && (backend.byteLength !== config.byteLength || backend.readOnly !== config.readOnly)) {
      throw new RangeError(
        `virtio-blk (${options.name}): backend (${backend.byteLength} bytes${backend.readOnly ? ', read-only' : ''}) ` +
          `does not match the configuration (${config.byteLength} bytes${config.readOnly ? ', read-only' : ''})`,
      );
    }
    this.capacity = Math.floor(config.byteLength / VIRTIO_BLK_SECTOR_SIZE);
    this.readOnly = config.readOnly;
    const serial = config.serial ?? '';
    this.serial = new Uint8Array(Math.min(serial.length, VIRTIO_BLK_ID_BYTES));
    for (let i = 0; i < this.serial.length; i++) this.serial[i] = serial.charCodeAt(i) & 0xff;
    const features = featureBits(VIRTIO_BLK_F_SEG_MAX, VIRTIO_BLK_F_BLK_SIZE, VIRTIO_BLK_F_FLUSH, ...(config.readOnly ? [VIRTIO_BLK_F_RO] : []));
    this.info = { deviceId: VIRTIO_ID_BLOCK, typeName: 'virtio-blk', features, queueSizes: [VIRTIO_BLK_QUEUE_SIZE], configSize: VIRTIO_BLK_CONFIG_SIZE };
    this.config = new ConfigImage(VIRTIO_BLK_CONFIG_SIZE)
      .u64(0, this.capacity) // capacity
      .u32(12, VIRTIO_BLK_QUEUE_SIZE - 2) // seg_max
      .u32(20, VIRTIO_BLK_SECTOR_SIZE) // blk_size
      .u8(32, 1) // writeback: the host has a write cache, FLUSH makes writes durable
      .u16(34, 1); // num_queues
    this.transport = new VirtioMmioTransport(options, this.info, this);
    this.transport.reset();
  }

  readConfig(offset: number, size: 1 | 2 | 4): number {
    return this.config.read(offset, size);
  }

  /** Configuration space is read-only (CONFIG_WCE is not offered). */
  writeConfig(): void {}

  resetDevice(): void {}

  queueNotified(): void {
    this.transport.drainQueue(0, (element) => this.handle(element));
  }

  private rangeOk(sector: number, bytes: number): boolean {
    if (bytes % VIRTIO_BLK_SECTOR_SIZE !== 0) return false;
    return sector <= this.capacity && bytes / VIRTIO_BLK_SECTOR_SIZE <= this.capacity - sector;
  }

  private handle(el: VirtqElement): void {
    const t = this.transport;
    if (el.readable.length === 0 || el.writable.length === 0) {
      t.markBroken(`request ${el.head} has no device-readable header or no device-writable status byte`);
      return;
    }
    if (el.readableBytes < OUTHDR_SIZE) {
      t.markBroken(`request ${el.head}: header is ${el.readableBytes} bytes, needs ${OUTHDR_SIZE}`);
      return;
    }
    const hdr = new ConfigImage(OUTHDR_SIZE);
    hdr.bytes.set(gather(t.mem, el.readable, 0, OUTHDR_SIZE));
    const type = hdr.read(0, 4);
    const sector = hdr.read(12, 4) * 0x1_0000_0000 + hdr.read(8, 4);
    const data = trimEnd(el.writable, 1); // the device-writable bytes before the status byte
    const inLen = el.writableBytes - 1;
    const gen = t.generation;
    const backend = this.backend;
    const done = (status: number) => this.complete(el, gen, status);

    switch (type) {
      case VIRTIO_BLK_T_IN: {
        if (!this.rangeOk(sector, inLen)) return done(VIRTIO_BLK_S_IOERR);
        if (backend === undefined) return this.noBackend(done);
        backend.read(sector * VIRTIO_BLK_SECTOR_SIZE, inLen, (err, bytes) => {
          if (!this.current(gen)) return;
          if (err === undefined && bytes.length !== inLen) err = `backend returned ${bytes.length} bytes`;
          if (err !== undefined) {
            t.log(`read of ${inLen} bytes at sector ${sector} failed: ${err}`);
            return done(VIRTIO_BLK_S_IOERR);
          }
          scatter(t.mem, data, 0, bytes);
          done(VIRTIO_BLK_S_OK);
        });
        return;
      }
      case VIRTIO_BLK_T_OUT: {
        const outLen = el.readableBytes - OUTHDR_SIZE;
        if (this.readOnly || !this.rangeOk(sector, outLen)) return done(VIRTIO_BLK_S_IOERR);
        if (backend === undefined) return this.noBackend(done);
        backend.write(sector * VIRTIO_BLK_SECTOR_SIZE, gather(t.mem, el.readable, OUTHDR_SIZE, outLen), (err) => {
          if (err !== undefined && this.current(gen)) t.log(`write of ${outLen} bytes at sector ${sector} failed: ${err}`);
          done(err === undefined ? VIRTIO_BLK_S_OK : VIRTIO_BLK_S_IOERR);
        });
        return;
      }
      case VIRTIO_BLK_T_FLUSH:
        if (backend === undefined) return this.noBackend(done);
        backend.flush((err) => {
          if (err !== undefined && this.current(gen)) t.log(`flush failed: ${err}`);
          done(err === undefined ? VIRTIO_BLK_S_OK : VIRTIO_BLK_S_IOERR);
        });
        return;
      case VIRTIO_BLK_T_GET_ID: {
        // As QEMU: NUL-terminated only when shorter than the 20-byte field.
        const n = Math.min(this.serial.length + 1, inLen, VIRTIO_BLK_ID_BYTES);
        const id = new Uint8Array(n);
        id.set(this.serial.subarray(0, n));
        scatter(t.mem, data, 0, id);
        return done(VIRTIO_BLK_S_OK);
      }
      default:
        return done(VIRTIO_BLK_S_UNSUPP);
    }
  }

  private noBackend(done: (status: number) => void): void {
    this.transport.log('request processed by an instance without a backend (board wiring error)');
    done(VIRTIO_BLK_S_IOERR);
  }

  /** Whether a completion for a request issued in generation `gen` may still be delivered. */
  private current(gen: number): boolean {
    return this.transport.generation === gen && !this.transport.broken;
  }

  private complete(el: VirtqElement, gen: number, status: number): void {
    if (!this.current(gen)) return;
    const t = this.transport;
    const last: Segment = el.writable[el.writable.length - 1]!;
    t.mem.write(last.addr + last.len - 1, new Uint8Array([status]));
    const bad = t.queue(0).push(el.head, el.writableBytes);
    if (bad !== undefined) {
      t.markBroken(bad);
      return;
    }
    t.notifyQueue(0);
  }
}
