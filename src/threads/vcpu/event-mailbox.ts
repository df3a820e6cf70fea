/**
 * Events the vCPU thread records (an idle clock warp under icount sleep=on, a host clock value
 * the guest read): it appends them while holding the replay mutex, and the main thread drains
 * them into the log while holding it too, before any event of its own, so the log keeps the
 * order in which the two threads held the mutex. Replaying, a second mailbox runs the other
 * way: the main thread queues the recorded clock values, and the vCPU thread takes them in
 * order; the vCPU thread reports what did not match in the first. Layout: int32 [0] = entries
 * in use; then entries of three float64 (icount, kind, value) from byte 8.
 */

/** Kinds of vCPU-thread events. */
export const VCPU_EVENT_CLOCK_WARP = 1;
/** The guest read the host (wall) clock; value = ns since machine creation. */
export const VCPU_EVENT_CLOCK_READ_HOST = 2;
/** The guest read the host monotonic clock; value = ns since machine creation. */
export const VCPU_EVENT_CLOCK_READ_REALTIME = 3;
/**
 * Replaying: the guest read a clock for which the log had no value at this instruction count
 * (value: the VCPU_EVENT_CLOCK_READ_* kind it read).
 */
export const VCPU_EVENT_UNEXPECTED_CLOCK_READ = 4;
/** Recording: the vCPU thread did a system reset the monitor requested (value 0). */
export const VCPU_EVENT_MONITOR_RESET = 5;
/** A hart took an interrupt (value: hart × 64 + interrupt number); recorded and, replaying, compared. */
export const VCPU_EVENT_INTERRUPT = 6;
/** The event kind of a read of `clock`. */
export function clockReadKind(clock: 'host' | 'realtime'): number {
  return clock === 'host' ? VCPU_EVENT_CLOCK_READ_HOST : VCPU_EVENT_CLOCK_READ_REALTIME;
}
/** The clock a clock-read event kind names, or undefined for other kinds. */
export function clockOfReadKind(kind: number): 'host' | 'realtime' | undefined {
  return kind === VCPU_EVENT_CLOCK_READ_HOST ? 'host' : kind === VCPU_EVENT_CLOCK_READ_REALTIME ? 'realtime' : undefined;
}
/** Interrupt event value for `hart` and interrupt number `cause` (< 64). */
export function interruptValue(hart: number, cause: number): number {
  return hart * 64 + cause;
}
/** The hart and interrupt number of an interrupt event value. */
export function interruptOf(value: number): { hart: number; cause: number } {
  return { hart: Math.floor(value / 64), cause: value % 64 };
}

const HEADER_BYTES = 8;
const ENTRY_F64 = 3;

/** A shared mailbox of vCPU-thread events. */
export class VcpuEventMailbox {
  readonly buffer: SharedArrayBuffer;
  private readonly count: Int32Array;
  private readonly entries: Float64Array;
  readonly capacity: number;

  /**
   * A new, empty mailbox for `capacity` events (default 65536, 1.5 MiB: 0.4 s of a guest taking
   * 170 000 interrupts per second; the vCPU thread pauses when it is three quarters full).
   */
  static create(capacity = 65536): VcpuEventMailbox {
    return new VcpuEventMailbox(new SharedArrayBuffer(HEADER_BYTES + capacity * ENTRY_F64 * 8));
  }

  constructor(buffer: SharedArrayBuffer) {
    this.buffer = buffer;
    this.count = new Int32Array(buffer, 0, 1);
    this.capacity = Math.floor((buffer.byteLength - HEADER_BYTES) / (ENTRY_F64 * 8));
    this.entries = new Float64Array(buffer, HEADER_BYTES, this.capacity * ENTRY_F64);
  }

  /** vCPU thread, replay mutex held: appends an event; false when full. */
  append(icount: number, kind: number, value: number): boolean {
    const n = Atomics.load(this.count, 0);
    if (n >= this.capacity) return false;
    this.entries[n * ENTRY_F64] = icount;
    this.entries[n * ENTRY_F64 + 1] = kind;
    this.entries[n * ENTRY_F64 + 2] = value;
    Atomics.store(this.count, 0, n + 1);
    return true;
  }

  /** The first event, removed from the box (replay mutex held), or undefined when empty. */
  takeFirst(): { icount: number; kind: number; value: number } | undefined {
    const n = Atomics.load(this.count, 0);
    if (n === 0) return undefined;
    const e = { icount: this.entries[0]!, kind: this.entries[1]!, value: this.entries[2]! };
    this.entries.copyWithin(0, ENTRY_F64, n * ENTRY_F64);
    Atomics.store(this.count, 0, n - 1);
    return e;
  }

  /** Events in the box. */
  get size(): number {
    return Atomics.load(this.count, 0);
  }

  /**
   * Three quarters full: the vCPU thread stops appending until drained (the last quarter is
   * room for one hart run, whose interrupts cannot outnumber its instructions).
   */
  get backlogged(): boolean {
    return Atomics.load(this.count, 0) * 4 >= this.capacity * 3;
  }

  /** Main thread, replay mutex held: hands every event to `take`, in order, and empties the box. */
  drain(take: (icount: number, kind: number, value: number) => void): void {
    const n = Atomics.load(this.count, 0);
    for (let i = 0; i < n; i++) take(this.entries[i * ENTRY_F64]!, this.entries[i * ENTRY_F64 + 1]!, this.entries[i * ENTRY_F64 + 2]!);
    Atomics.store(this.count, 0, 0);
  }
}
