/**
 * The queue of frames on their way into the guest. New frames are delivered from a scheduled
 * callback (never from inside the call that produced them, e.g. the device's `send`); when the
 * device's receiver says "no room", delivery stops until `rxSpaceAvailable()`, which offers the
 * queued frames again at once (QEMU's qemu_flush_queued_packets).
 */
import type { Schedule } from './net-backend.js';

export class GuestDelivery {
  private readonly queue: Uint8Array[] = [];
  private head = 0;
  private receiver: ((frame: Uint8Array) => boolean) | null = null;
  private scheduled = false;
  private blocked = false;
  private flushing = false;
  /** Frames dropped because the queue was full. */
  dropped = 0;
  /** Called after a flush left the queue empty (flow control for stream backends). */
  onDrained: (() => void) | null = null;

  constructor(
    private readonly schedule: Schedule,
    /** QEMU's net queue drops beyond its maximum length; so do we. */
    readonly limit = 4096,
  ) {}

  /** Frames waiting. */
  get length(): number {
    return this.queue.length - this.head;
  }

  setReceiver(receive: (frame: Uint8Array) => boolean): void {
    this.receiver = receive;
    this.blocked = false;
    this.kick();
  }

  /** Queues a frame for the guest. */
  push(frame: Uint8Array): void {
    if (this.length >= this.limit) {
      this.dropped++;
      return;
    }
    this.queue.push(frame);
    this.kick();
  }

  /** The device has room again: offers the queued frames now (a running flush just goes on). */
  rxSpaceAvailable(): void {
    this.blocked = false;
    if (!this.flushing) this.flush();
  }

  /** Drops everything queued. */
  clear(): void {
    this.queue.length = 0;
    this.head = 0;
  }

  private kick(): void {
    if (this.scheduled || this.blocked || this.receiver === null || this.length === 0) return;
    this.scheduled = true;
    this.schedule(() => this.flush());
  }

  private flush(): void {
    this.scheduled = false;
    const receive = this.receiver;
    if (receive === null || this.blocked) return;
    this.flushing = true;
    try {
      while (this.head < this.queue.length) {
        if (!receive(this.queue[this.head]!)) {
          this.blocked = true;
          break;
        }
        this.head++;
      }
    } finally {
      this.flushing = false;
    }
    if (this.head === this.queue.length) {
      this.queue.length = 0;
      this.head = 0;
      this.onDrained?.();
    } else if (this.head > 1024) {
      this.queue.splice(0, this.head);
      this.head = 0;
    }
  }
}
