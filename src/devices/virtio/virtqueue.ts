/**
 * A split virtqueue (virtio spec 1.2 section 2.7) seen from the device, over guest RAM.
 *
 * The queue's registers and device-side indices live in state arena words (layout `Q_*`
 * below, `QUEUE_WORDS` per queue, allocated by the transport), so every thread's object for
 * the same queue sees the same queue: `last_avail_idx`, the `used_idx` shadow (QEMU's
 * `vq->used_idx`) and the event-index bookkeeping (`signalled_used`, `signalled_used_valid`).
 *
 * Driver errors (bad descriptor index, loops, buffers outside RAM, malformed indirect tables,
 * a readable descriptor after a writable one) come back as values, never as exceptions; the
 * transport turns them into the device's "needs reset" state (QEMU's `virtio_error`).
 */
import {
  VIRTQ_AVAIL_F_NO_INTERRUPT,
  VIRTQ_DESC_F_INDIRECT,
  VIRTQ_DESC_F_NEXT,
  VIRTQ_DESC_F_WRITE,
  VIRTQ_DESC_SIZE,
} from './constants.js';
import type { GuestMemory, Segment } from './guest-memory.js';

/** Word indices of one queue's arena block. 64-bit addresses are two words, low first. */
export const Q_NUM = 0;
export const Q_READY = 1;
export const Q_DESC = 2;
export const Q_DRIVER = 4;
export const Q_DEVICE = 6;
export const Q_LAST_AVAIL = 8;
export const Q_USED_IDX = 9;
export const Q_SIGNALLED_USED = 10;
export const Q_SIGNALLED_VALID = 11;
/** Arena words per queue. */
export const QUEUE_WORDS = 12;

/** Most entries accepted in one indirect descriptor table (QEMU's VIRTQUEUE_MAX_SIZE). */
export const MAX_INDIRECT_ENTRIES = 1024;

/** One available descriptor chain, split into the parts the device reads and writes. */
export interface VirtqElement {
  /** Index of the chain's first descriptor: the id that goes into the used ring. */
  readonly head: number;
  /** Device-readable buffers, in chain order (they all precede the writable ones). */
  readonly readable: readonly Segment[];
  /** Device-writable buffers, in chain order. */
  readonly writable: readonly Segment[];
  readonly readableBytes: number;
  readonly writableBytes: number;
}

/** What `pop` found. */
export type PopResult =
  | { readonly kind: 'empty' }
  | { readonly kind: 'element'; readonly element: VirtqElement }
  | { readonly kind: 'error'; readonly message: string };

const EMPTY: PopResult = { kind: 'empty' };
const TWO32 = 0x1_0000_0000;

function hex(n: number): string {
  return `0x${n.toString(16)}`;
}

function error(message: string): PopResult {
  return { kind: 'error', message };
}

/** vring_need_event: whether moving the used index from `old` to `next` crosses `event`. */
export function vringNeedEvent(event: number, next: number, old: number): boolean {
  return ((next - event - 1) & 0xffff) < ((next - old) & 0xffff);
}

interface Desc {
  addr: number;
  len: number;
  flags: number;
  next: number;
}

/** The device side of one split virtqueue. Stateless itself: all state is in the arena words. */
export class Virtqueue {
  private readonly desc: Desc = { addr: 0, len: 0, flags: 0, next: 0 };

  /**
   * @param mem guest RAM.
   * @param u32 the state arena's word view.
   * @param base first word of this queue's `QUEUE_WORDS` block.
   * @param index queue index (for messages).
   * @param maxSize QueueNumMax.
   */
  constructor(
    private readonly mem: GuestMemory,
    private readonly u32: Uint32Array,
    private readonly base: number,
    readonly index: number,
    readonly maxSize: number,
  ) {}

  private g(i: number): number {
    return this.u32[this.base + i]!;
  }

  private s(i: number, v: number): void {
    this.u32[this.base + i] = v >>> 0;
  }

  private addr(i: number): number {
    return this.g(i + 1) * TWO32 + this.g(i);
  }

  /** Reset: not ready, size QueueNumMax (QEMU's `num_default`), addresses and indices zero. */
  reset(): void {
    for (let i = 0; i < QUEUE_WORDS; i++) this.s(i, 0);
    this.s(Q_NUM, this.maxSize);
  }

  /** Queue size (QueueNum). */
  get size(): number {
    return this.g(Q_NUM);
  }

  get ready(): boolean {
    return this.g(Q_READY) !== 0;
  }

  get descAddr(): number {
    return this.addr(Q_DESC);
  }

  /** The driver area (available ring). */
  get availAddr(): number {
    return this.addr(Q_DRIVER);
  }

  /** The device area (used ring). */
  get usedAddr(): number {
    return this.addr(Q_DEVICE);
  }

  get lastAvailIdx(): number {
    return this.g(Q_LAST_AVAIL);
  }

  /** The device's copy of used.idx. */
  get usedIdx(): number {
    return this.g(Q_USED_IDX);
  }

  /** Checks that the descriptor table and both rings lie in RAM; a message if not. */
  checkRings(): string | undefined {
    const num = this.size;
    if (num === 0) return `queue ${this.index}: size 0`;
    const parts: [string, number, number][] = [
      ['descriptor table', this.descAddr, VIRTQ_DESC_SIZE * num],
      ['available ring', this.availAddr, 6 + 2 * num],
      ['used ring', this.usedAddr, 6 + 8 * num],
    ];
    for (const [what, a, len] of parts) {
      if (!this.mem.contains(a, len)) return `queue ${this.index}: ${what} at ${hex(a)} (${len} bytes) is outside RAM`;
    }
    return undefined;
  }

  /** Number of chains the driver made available that the device has not popped, or a message when avail.idx is bogus. */
  pending(): number | string {
    const bad = this.checkRings();
    if (bad !== undefined) return bad;
    const num = this.size;
    const last = this.lastAvailIdx;
    const idx = this.mem.ld16(this.availAddr + 2);
    const n = (idx - last) & 0xffff;
    if (n > num) return `queue ${this.index}: available index moved from ${last} to ${idx} (more than the queue size ${num})`;
    return n;
  }

  private readDesc(table: number, i: number): Desc {
    const a = table + i * VIRTQ_DESC_SIZE;
    const d = this.desc;
    d.addr = this.mem.ld64(a);
    d.len = this.mem.ld32(a + 8);
    const fn = this.mem.ld32(a + 12);
    d.flags = fn & 0xffff;
    d.next = fn >>> 16;
    return d;
  }

  /**
   * Takes the next available chain (QEMU's virtqueue_pop for split rings), following an
   * indirect table in the head descriptor. With `eventIdx`, publishes avail_event =
   * last_avail_idx, so the driver notifies again once it adds a buffer past what was taken.
   */
  pop(eventIdx: boolean): PopResult {
    const pending = this.pending();
    if (typeof pending === 'string') return error(pending);
    if (pending === 0) {
      if (eventIdx) this.setAvailEvent(this.lastAvailIdx);
      return EMPTY;
    }
    const num = this.size;
    const last = this.lastAvailIdx;
    const head = this.mem.ld16(this.availAddr + 4 + 2 * (last % num));
    if (head >= num) return error(`queue ${this.index}: descriptor index ${head} out of range (queue size ${num})`);

    let table = this.descAddr;
    let max = num;
    let i = head;
    let indirect = false;
    let d = this.readDesc(table, i);
    if ((d.flags & VIRTQ_DESC_F_INDIRECT) !== 0) {
      if (d.len === 0 || d.len % VIRTQ_DESC_SIZE !== 0) {
        return error(`queue ${this.index}: indirect table of ${d.len} bytes in descriptor ${i} is not a non-zero multiple of ${VIRTQ_DESC_SIZE}`);
      }
      if (!this.mem.contains(d.addr, d.len)) {
        return error(`queue ${this.index}: indirect table at ${hex(d.addr)} (${d.len} bytes) in descriptor ${i} is outside RAM`);
      }
      max = d.len / VIRTQ_DESC_SIZE;
      if (max > MAX_INDIRECT_ENTRIES) {
        return error(`queue ${this.index}: indirect table of ${max} descriptors is larger than ${MAX_INDIRECT_ENTRIES}`);
      }
      table = d.addr;
      indirect = true;
      i = 0;
      d = this.readDesc(table, 0);
    }

    const readable: Segment[] = [];
    const writable: Segment[] = [];
    let readableBytes = 0;
    let writableBytes = 0;
    const where = indirect ? 'indirect descriptor' : 'descriptor';
    for (let entries = 1; ; entries++) {
      if ((d.flags & VIRTQ_DESC_F_INDIRECT) !== 0) {
        return error(
          indirect
            ? `queue ${this.index}: indirect descriptor ${i} points to another indirect table`
            : `queue ${this.index}: descriptor ${i} is an indirect table in the middle of a chain`,
        );
      }
      if (d.len === 0) return error(`queue ${this.index}: ${where} ${i} has a zero-length buffer`);
      if (!this.mem.contains(d.addr, d.len)) {
        return error(`queue ${this.index}: buffer at ${hex(d.addr)} (${d.len} bytes) of ${where} ${i} is outside RAM`);
      }
      if ((d.flags & VIRTQ_DESC_F_WRITE) !== 0) {
        writable.push({ addr: d.addr, len: d.len });
        writableBytes += d.len;
      } else {
        if (writable.length > 0) return error(`queue ${this.index}: device-readable ${where} ${i} follows a device-writable one`);
        readable.push({ addr: d.addr, len: d.len });
        readableBytes += d.len;
      }
      if ((d.flags & VIRTQ_DESC_F_NEXT) === 0) break;
      if (entries >= max) {
        return error(`queue ${this.index}: descriptor chain starting at ${head} is longer than ${max} descriptors (a loop)`);
      }
      i = d.next;
      if (i >= max) {
        return error(
          indirect
            ? `queue ${this.index}: indirect descriptor index ${i} out of range (table of ${max})`
            : `queue ${this.index}: descriptor index ${i} out of range (queue size ${num})`,
        );
      }
      d = this.readDesc(table, i);
    }

    this.s(Q_LAST_AVAIL, (last + 1) & 0xffff);
    if (eventIdx) this.setAvailEvent(this.lastAvailIdx);
    return { kind: 'element', element: { head, readable, writable, readableBytes, writableBytes } };
  }

  /** Gives back the last `count` popped chains (QEMU's virtqueue_unpop), e.g. an rx buffer too small. */
  unpop(count = 1): void {
    this.s(Q_LAST_AVAIL, (this.lastAvailIdx - count) & 0xffff);
  }

  private setAvailEvent(value: number): void {
    this.mem.st16(this.usedAddr + 4 + 8 * this.size, value);
  }

  /**
   * Writes used element `offset` past the current used index (QEMU's virtqueue_fill); the
   * driver sees it only after `flush`. Returns a message when the used ring is outside RAM.
   */
  fill(head: number, len: number, offset = 0): string | undefined {
    const bad = this.checkRings();
    if (bad !== undefined) return bad;
    const slot = (this.usedIdx + offset) % this.size;
    const e = this.usedAddr + 4 + 8 * slot;
    this.mem.st32(e, head);
    this.mem.st32(e + 4, len);
    return undefined;
  }

  /** Publishes `count` filled used elements by moving used.idx (QEMU's virtqueue_flush). */
  flush(count: number): string | undefined {
    const bad = this.checkRings();
    if (bad !== undefined) return bad;
    const old = this.usedIdx;
    const next = (old + count) & 0xffff;
    this.s(Q_USED_IDX, next);
    this.mem.st16(this.usedAddr + 2, next);
    // The used index wrapped past the last signalled value: it no longer means anything.
    if (((next - this.g(Q_SIGNALLED_USED)) & 0xffff) < ((next - old) & 0xffff)) this.s(Q_SIGNALLED_VALID, 0);
    return undefined;
  }

  /** Returns one chain to the driver: `fill` then `flush`. */
  push(head: number, len: number): string | undefined {
    return this.fill(head, len) ?? this.flush(1);
  }

  /**
   * Whether the driver wants an interrupt for the used buffers published so far (QEMU's
   * virtio_should_notify): without event index, unless avail.flags has NO_INTERRUPT; with it,
   * when used.idx crossed used_event since the last interrupt.
   */
  shouldNotify(eventIdx: boolean): boolean {
    if (this.checkRings() !== undefined) return false;
    if (!eventIdx) return (this.mem.ld16(this.availAddr) & VIRTQ_AVAIL_F_NO_INTERRUPT) === 0;
    const valid = this.g(Q_SIGNALLED_VALID) !== 0;
    const old = this.g(Q_SIGNALLED_USED);
    const next = this.usedIdx;
    this.s(Q_SIGNALLED_VALID, 1);
    this.s(Q_SIGNALLED_USED, next);
    const usedEvent = this.mem.ld16(this.availAddr + 4 + 2 * this.size);
    return !valid || vringNeedEvent(usedEvent, next, old);
  }
}
