/**
 * virtio-rng, the entropy device (virtio spec 1.2 section 5.4), after QEMU's
 * hw/virtio/virtio-rng.c: one request queue whose buffers the device fills with random bytes
 * from an `EntropyBackend`. The used length is the number of bytes written, which may be less
 * than the buffer. Device-readable descriptors in a request are ignored (as QEMU).
 * No features, no configuration space. QueueNumMax is 64 (QEMU uses 8; Linux keeps one
 * request in flight either way). QEMU's rate limit (max-bytes/period) is not modelled.
 */
import { VIRTIO_ID_RNG } from './constants.js';
import type { EntropyBackend, VirtioDeviceInfo, VirtioDeviceModel } from './device-api.js';
import { scatter } from './guest-memory.js';
import { VirtioMmioTransport, type VirtioMmioTransportOptions } from './mmio-transport.js';
import type { VirtqElement } from './virtqueue.js';

/** QueueNumMax of the request queue. */
export const VIRTIO_RNG_QUEUE_SIZE = 64;

/** A virtio-rng device model with its MMIO transport. */
export class VirtioRng implements VirtioDeviceModel {
  readonly transport: VirtioMmioTransport;
  readonly info: VirtioDeviceInfo = {
    deviceId: VIRTIO_ID_RNG,
    typeName: 'virtio-rng',
    features: 0n,
    queueSizes: [VIRTIO_RNG_QUEUE_SIZE],
    configSize: 0,
  };

  /** @param backend the entropy source; only on the main thread's instance. */
  constructor(options: VirtioMmioTransportOptions, private readonly backend?: EntropyBackend) {
    this.transport = new VirtioMmioTransport(options, this.info, this);
    this.transport.reset();
  }

  readConfig(): number {
    return 0;
  }

  writeConfig(): void {}

  resetDevice(): void {}

  queueNotified(): void {
    this.transport.drainQueue(0, (element) => this.handle(element));
  }

  private handle(el: VirtqElement): void {
    const t = this.transport;
    const gen = t.generation;
    if (el.writableBytes === 0 || this.backend === undefined) {
      if (this.backend === undefined) t.log('request processed by an instance without a backend (board wiring error)');
      this.complete(el, gen, 0);
      return;
    }
    this.backend.read(el.writableBytes, (bytes) => {
      if (t.generation !== gen || t.broken) return;
      const n = scatter(t.mem, el.writable, 0, bytes.subarray(0, el.writableBytes));
      this.complete(el, gen, n);
    });
  }

  private complete(el: VirtqElement, gen: number, len: number): void {
    const t = this.transport;
    if (t.generation !== gen || t.broken) return;
    const bad = t.queue(0).push(el.head, len);
    if (bad !== undefined) {
      t.markBroken(bad);
      return;
    }
    t.notifyQueue(0);
  }
}
