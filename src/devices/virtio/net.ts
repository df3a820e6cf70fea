/**
 * virtio-net (virtio spec 1.2 section 5.1), after QEMU's hw/net/virtio-net.c, reduced to one
 * queue pair without control queue or offloads: receive queue 0, transmit queue 1.
 *
 * Features offered: MAC, STATUS (link state in the configuration space) and MRG_RXBUF (a
 * received frame may span several receive buffers; num_buffers says how many). Without
 * checksum/GSO offloads the virtio header is always zero on receive and ignored on transmit.
 * The header is 12 bytes (struct virtio_net_hdr with num_buffers) with VERSION_1 or
 * MRG_RXBUF, else 10.
 *
 * Transmit: each chain's device-readable bytes minus the header are one frame for
 * `NetBackend.send`; the used length is 0 (as QEMU). Receive: `receive(frame)` (the function
 * the backend gets through `setReceiver`) writes a zeroed header and the frame into receive
 * buffers. It returns false when it cannot take the frame now (driver not ready, no buffer);
 * once the guest adds buffers (a notify of queue 0) or sets DRIVER_OK, the device calls
 * `NetBackend.rxSpaceAvailable()` and the backend offers its queued frames again. Frames
 * larger than a receive buffer without MRG_RXBUF are dropped and the buffer is kept (as
 * QEMU); frames arriving while the link is down are dropped.
 *
 * State (arena owner = the transport's name): `net` = MAC (2 words, bytes 0..5), link up (1).
 * Neither is changed by a device reset.
 */
import { ConfigImage } from './config-space.js';
import { featureBits, VIRTIO_F_VERSION_1, VIRTIO_ID_NET } from './constants.js';
import type { NetBackend, VirtioDeviceInfo, VirtioDeviceModel } from './device-api.js';
import { gather, scatter } from './guest-memory.js';
import { VirtioMmioTransport, type VirtioMmioTransportOptions } from './mmio-transport.js';
import type { VirtqElement } from './virtqueue.js';

/** Feature bits (section 5.1.3). */
export const VIRTIO_NET_F_CSUM = 0;
export const VIRTIO_NET_F_GUEST_CSUM = 1;
export const VIRTIO_NET_F_MAC = 5;
export const VIRTIO_NET_F_MRG_RXBUF = 15;
export const VIRTIO_NET_F_STATUS = 16;
export const VIRTIO_NET_F_CTRL_VQ = 17;
/** Configuration status bit: link up. */
export const VIRTIO_NET_S_LINK_UP = 1;
/** Queue indices. */
export const VIRTIO_NET_RX_QUEUE = 0;
export const VIRTIO_NET_TX_QUEUE = 1;
/** QueueNumMax of both queues (QEMU's rx/tx_queue_size default). */
export const VIRTIO_NET_QUEUE_SIZE = 256;
/** Configuration space: mac[6], status (le16), as QEMU with MAC and STATUS. */
export const VIRTIO_NET_CONFIG_SIZE = 8;
/** QEMU's first default MAC address, 52:54:00:12:34:56. */
export const VIRTIO_NET_DEFAULT_MAC: readonly number[] = [0x52, 0x54, 0x00, 0x12, 0x34, 0x56];

// Word indices within `net`.
const N_MAC = 0; // 2 words
const N_LINK = 2;
const NET_WORDS = 3;

/** QEMU's default MAC for the `nicIndex`-th NIC without `mac=` (qemu_macaddr_default_if_unset). */
export function defaultVirtioNetMac(nicIndex = 0): Uint8Array {
  if (!Number.isInteger(nicIndex) || nicIndex < 0 || 0x56 + nicIndex > 0xff) throw new RangeError(`no default MAC for NIC ${nicIndex}`);
  const mac = Uint8Array.from(VIRTIO_NET_DEFAULT_MAC);
  mac[5] = 0x56 + nicIndex;
  return mac;
}

/** Parses `aa:bb:cc:dd:ee:ff` (or `-` separated); throws RangeError on anything else. */
export function parseMac(text: string): Uint8Array {
  const parts = text.split(/[:-]/);
  if (parts.length !== 6 || parts.some((p) => !/^[0-9a-fA-F]{2}$/.test(p))) throw new RangeError(`bad MAC address '${text}'`);
  return Uint8Array.from(parts.map((p) => parseInt(p, 16)));
}

/** Configuration of a virtio-net device; the same in every thread. */
export interface VirtioNetConfig {
  /** MAC address (6 bytes or `aa:bb:cc:dd:ee:ff`); default 52:54:00:12:34:56. */
  readonly mac?: Uint8Array | string;
}

/** A virtio-net device model with its MMIO transport. */
export class VirtioNet implements VirtioDeviceModel {
  readonly transport: VirtioMmioTransport;
  readonly info: VirtioDeviceInfo = {
    deviceId: VIRTIO_ID_NET,
    typeName: 'virtio-net',
    features: featureBits(VIRTIO_NET_F_MAC, VIRTIO_NET_F_STATUS, VIRTIO_NET_F_MRG_RXBUF),
    queueSizes: [VIRTIO_NET_QUEUE_SIZE, VIRTIO_NET_QUEUE_SIZE],
    configSize: VIRTIO_NET_CONFIG_SIZE,
  };
  private readonly u32: Uint32Array;
  private readonly w: number;
  /** Host-side: a `receive` returned false and the backend waits for `rxSpaceAvailable`. */
  private rxWaiting = false;

  /** @param backend the network; only on the main thread's instance. */
  constructor(options: VirtioMmioTransportOptions, config: VirtioNetConfig = {}, private readonly backend?: NetBackend) {
    const mac = typeof config.mac === 'string' ? parseMac(config.mac) : (config.mac ?? Uint8Array.from(VIRTIO_NET_DEFAULT_MAC));
    if (mac.length !== 6) throw new RangeError(`virtio-net (${options.name}): MAC must be 6 bytes`);
    this.transport = new VirtioMmioTransport(options, this.info, this);
    this.u32 = options.arena.u32;
    this.w = options.arena.allocate(options.name, 'net', NET_WORDS);
    this.u32[this.w + N_MAC] = (mac[0]! | (mac[1]! << 8) | (mac[2]! << 16) | (mac[3]! << 24)) >>> 0;
    this.u32[this.w + N_MAC + 1] = mac[4]! | (mac[5]! << 8);
    this.u32[this.w + N_LINK] = 1;
    this.transport.reset();
    backend?.setReceiver((frame) => this.receive(frame));
  }

  /** The MAC address in the configuration space. */
  get mac(): Uint8Array {
    return this.configImage().bytes.slice(0, 6);
  }

  get linkUp(): boolean {
    return this.u32[this.w + N_LINK] !== 0;
  }

  /**
   * Sets the link state (QMP `set_link`): updates the configuration status and raises the
   * configuration interrupt. Main thread, BQL held.
   */
  setLinkUp(up: boolean): void {
    if (up === this.linkUp) return;
    this.u32[this.w + N_LINK] = up ? 1 : 0;
    this.transport.notifyConfigChanged();
    if (up) this.wakeBackend();
  }

  private configImage(): ConfigImage {
    const c = new ConfigImage(VIRTIO_NET_CONFIG_SIZE).u32(0, this.u32[this.w + N_MAC]!).u16(4, this.u32[this.w + N_MAC + 1]!);
    return c.u16(6, this.linkUp ? VIRTIO_NET_S_LINK_UP : 0);
  }

  readConfig(offset: number, size: 1 | 2 | 4): number {
    return this.configImage().read(offset, size);
  }

  /** The MAC is read-only with VERSION_1 (QEMU changes it only for legacy drivers). */
  writeConfig(): void {}

  resetDevice(): void {}

  private get headerLength(): number {
    const t = this.transport;
    return t.hasFeature(VIRTIO_F_VERSION_1) || t.hasFeature(VIRTIO_NET_F_MRG_RXBUF) ? 12 : 10;
  }

  queueNotified(queue: number): void {
    if (queue === VIRTIO_NET_TX_QUEUE) this.flushTx();
    else this.wakeBackend();
  }

  driverOk(): void {
    this.wakeBackend();
  }

  private wakeBackend(): void {
    if (!this.rxWaiting || this.backend === undefined) return;
    this.rxWaiting = false;
    this.backend.rxSpaceAvailable();
  }

  private flushTx(): void {
    const t = this.transport;
    const vq = t.queue(VIRTIO_NET_TX_QUEUE);
    const hdrLen = this.headerLength;
    let pushed = 0;
    while (!t.broken) {
      const r = vq.pop(t.eventIdx);
      if (r.kind === 'empty') break;
      if (r.kind === 'error') {
        t.markBroken(r.message);
        return;
      }
      const el = r.element;
      if (el.readable.length === 0) {
        t.markBroken(`transmit buffer ${el.head} has no device-readable descriptors`);
        return;
      }
      if (el.readableBytes < hdrLen) {
        t.markBroken(`transmit buffer ${el.head} is ${el.readableBytes} bytes, shorter than the ${hdrLen}-byte header`);
        return;
      }
      this.backend?.send(gather(t.mem, el.readable, hdrLen, el.readableBytes - hdrLen));
      const bad = vq.push(el.head, 0);
      if (bad !== undefined) {
        t.markBroken(bad);
        return;
      }
      pushed++;
    }
    if (pushed > 0) t.notifyQueue(VIRTIO_NET_TX_QUEUE);
  }

  /**
   * Delivers one frame from the network to the guest (see NetReceiver). Main thread, BQL held.
   */
  receive(frame: Uint8Array): boolean {
    const t = this.transport;
    const vq = t.queue(VIRTIO_NET_RX_QUEUE);
    if (t.broken || !t.driverOkSet || !vq.ready) {
      this.rxWaiting = true;
      return false;
    }
    if (!this.linkUp) return true;
    const hdrLen = this.headerLength;
    const total = hdrLen + frame.length;
    const mergeable = t.hasFeature(VIRTIO_NET_F_MRG_RXBUF);
    const elements: VirtqElement[] = [];
    let room = 0;
    while (room < total && (mergeable || elements.length === 0)) {
      const r = vq.pop(t.eventIdx);
      if (r.kind === 'empty') break;
      if (r.kind === 'error') {
        t.markBroken(r.message);
        return true;
      }
      if (r.element.writable.length === 0) {
        t.markBroken(`receive buffer ${r.element.head} has no device-writable descriptors`);
        return true;
      }
      elements.push(r.element);
      room += r.element.writableBytes;
    }
    if (room < total) {
      vq.unpop(elements.length);
      if (mergeable || elements.length === 0) {
        this.rxWaiting = true;
        return false;
      }
      return true; // one buffer, too small: the frame is dropped, the buffer stays (QEMU)
    }

    const packet = new Uint8Array(total);
    if (hdrLen === 12) {
      // num_buffers (le16): 1 without MRG_RXBUF (spec 5.1.6.4); the rest of the header is zero.
      packet[10] = elements.length & 0xff;
      packet[11] = elements.length >>> 8;
    }
    packet.set(frame, hdrLen);
    let off = 0;
    for (let i = 0; i < elements.length; i++) {
      const el = elements[i]!;
      const n = Math.min(el.writableBytes, total - off);
      scatter(t.mem, el.writable, 0, packet.subarray(off, off + n));
      const bad = vq.fill(el.head, n, i);
      if (bad !== undefined) {
        t.markBroken(bad);
        return true;
      }
      off += n;
    }
    const bad = vq.flush(elements.length);
    if (bad !== undefined) {
      t.markBroken(bad);
      return true;
    }
    t.notifyQueue(VIRTIO_NET_RX_QUEUE);
    return true;
  }
}
