/**
 * A single-producer/single-consumer byte ring in a SharedArrayBuffer: the vCPU thread writes
 * the guest's console output, the main thread drains it to the real console. Nothing is ever
 * dropped: a producer that finds the ring full waits (Atomics.wait with a timeout, retrying).
 *
 * Layout: int32 [0] bytes written so far (mod 2^32), [1] bytes read so far, then `capacity`
 * data bytes (a power of two).
 */
import { VcpuError } from './errors.js';
import { waitAsync } from './wait-async.js';

const HEAD = 0;
const TAIL = 1;
const HEADER_BYTES = 8;

/** One side's view of a byte ring (both sides use the same class). */
export class ByteRing {
  /** The shared words (send this to the other thread). */
  readonly buffer: SharedArrayBuffer;
  /** Data bytes the ring holds. */
  readonly capacity: number;
  private readonly idx: Int32Array;
  private readonly data: Uint8Array;

  /** Allocates a ring of `capacity` bytes (a power of two, at least 16). */
  static create(capacity = 64 * 1024): ByteRing {
    if (!Number.isInteger(capacity) || capacity < 16 || (capacity & (capacity - 1)) !== 0 || capacity > 1 << 30) {
      throw new VcpuError(`byte ring: capacity ${capacity} must be a power of two from 16 to 2^30`);
    }
    return new ByteRing(new SharedArrayBuffer(HEADER_BYTES + capacity));
  }

  /** Maps an existing ring buffer. */
  constructor(buffer: SharedArrayBuffer) {
    const capacity = buffer.byteLength - HEADER_BYTES;
    if (capacity < 16 || (capacity & (capacity - 1)) !== 0) {
      throw new VcpuError(`byte ring: buffer of ${buffer.byteLength} bytes is not 8 + a power of two`);
    }
    this.buffer = buffer;
    this.capacity = capacity;
    this.idx = new Int32Array(buffer, 0, 2);
    this.data = new Uint8Array(buffer, HEADER_BYTES, capacity);
  }

  /** Bytes waiting to be read. */
  available(): number {
    return (Atomics.load(this.idx, HEAD) - Atomics.load(this.idx, TAIL)) >>> 0;
  }

  /** Producer: copies as many bytes as fit, without blocking; returns how many. */
  tryWrite(bytes: Uint8Array): number {
    const head = Atomics.load(this.idx, HEAD) >>> 0;
    const tail = Atomics.load(this.idx, TAIL) >>> 0;
    const free = this.capacity - ((head - tail) >>> 0);
    const n = Math.min(free, bytes.length);
    if (n === 0) return 0;
    const mask = this.capacity - 1;
    const start = head & mask;
    const first = Math.min(n, this.capacity - start);
    this.data.set(bytes.subarray(0, first), start);
    if (n > first) this.data.set(bytes.subarray(first, n), 0);
    Atomics.store(this.idx, HEAD, (head + n) | 0);
    Atomics.notify(this.idx, HEAD);
    return n;
  }

  /**
   * Producer: writes all of `bytes`, waiting while the ring is full (each wait bounded by
   * `waitMs`, then retried). Only call where blocking is allowed (no lock the consumer needs).
   */
  writeAll(bytes: Uint8Array, waitMs = 50): void {
    let off = 0;
    while (off < bytes.length) {
      const n = this.tryWrite(bytes.subarray(off));
      off += n;
      if (n === 0) {
        const tail = Atomics.load(this.idx, TAIL);
        if (((Atomics.load(this.idx, HEAD) - tail) >>> 0) >= this.capacity) Atomics.wait(this.idx, TAIL, tail, waitMs);
      }
    }
  }

  /** Consumer: takes every byte available (an empty array when none). */
  read(): Uint8Array {
    const tail = Atomics.load(this.idx, TAIL) >>> 0;
    const head = Atomics.load(this.idx, HEAD) >>> 0;
    const n = (head - tail) >>> 0;
    const out = new Uint8Array(n);
    if (n === 0) return out;
    const mask = this.capacity - 1;
    const start = tail & mask;
    const first = Math.min(n, this.capacity - start);
    out.set(this.data.subarray(start, start + first));
    if (n > first) out.set(this.data.subarray(0, n - first), first);
    Atomics.store(this.idx, TAIL, (tail + n) | 0);
    Atomics.notify(this.idx, TAIL);
    return out;
  }

  /**
   * Consumer: resolves once bytes are available or after `timeoutMs` (Atomics.waitAsync on the
   * write counter), without blocking the thread.
   */
  async waitReadable(timeoutMs: number): Promise<void> {
    const head = Atomics.load(this.idx, HEAD);
    if (((head - Atomics.load(this.idx, TAIL)) >>> 0) !== 0) return;
    const r = waitAsync(this.idx, HEAD, head, timeoutMs);
    if (r.async) await r.value;
  }
}
