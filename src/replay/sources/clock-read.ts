/**
 * Clock reads: the host and realtime clock values the guest saw (QEMU's replay-time.c). The
 * vCPU thread reads the clock, so both halves cross its mailboxes: recording, it puts each value
 * it read in its event mailbox, which becomes a `clock-read` event; replaying, the logged value
 * is queued for it before it reaches the read, and a read with no queued value comes back as a
 * report that stops the replay.
 */
import { CLOCK_CODES, KIND_CODES } from '../log/format.js';
import { clockOfReadKind } from '../../threads/vcpu/event-mailbox.js';
import { CodedName } from './fields.js';
import type { At, EventSource, ReplayContext } from './source.js';

/** A host clock value the guest saw (ns, any float64). */
export interface ClockReadEvent extends At {
  readonly kind: 'clock-read';
  readonly clock: 'host' | 'realtime';
  readonly value: number;
}

/** The vCPU thread's side of a replayed clock read. */
export interface ClockReadVcpu {
  /** Queues a recorded clock value for the guest's read at `e.icount`; false when the queue is full. */
  queueClockRead(e: ClockReadEvent): boolean;
  /** Queued clock values the guest has not read yet. */
  readonly pendingClockReads: number;
}

const CLOCKS = new CodedName(CLOCK_CODES, 'clock');

/**
 * Recording: the value the vCPU thread read at `icount` (its mailbox kind `mailboxKind`) as an
 * event, or undefined when the mailbox kind is not a clock read.
 */
export function recordClockRead(icount: number, mailboxKind: number, value: number): ClockReadEvent | undefined {
  const clock = clockOfReadKind(mailboxKind);
  return clock === undefined ? undefined : { kind: 'clock-read', icount, clock, value };
}

/** Replaying: queues the logged value for the vCPU thread's read. */
export function replayClockRead(e: ClockReadEvent, ctx: ReplayContext & { readonly vcpu: ClockReadVcpu | undefined }): void {
  if (ctx.vcpu === undefined) ctx.diverge(describeClockRead(e), 'a replay that cannot pass clock values to the vCPU');
  if (!ctx.vcpu.queueClockRead(e)) ctx.diverge(describeClockRead(e), 'more clock reads at one instruction than the queue holds');
}

/** Replaying: every queued value must have been read before instruction `now`. */
export function checkClockReadsTaken(now: number, ctx: ReplayContext & { readonly vcpu: ClockReadVcpu | undefined }): void {
  const unread = ctx.vcpu?.pendingClockReads ?? 0;
  if (unread > 0) ctx.diverge(`${unread} more read(s) of a host clock before instruction ${now}`, 'the guest did not read the clock');
}

/** What the vCPU thread found when it read a clock the log has no value for (its report's value: the read's mailbox kind). */
export function describeUnexpectedClockRead(icount: number, mailboxKind: number): string {
  return `the guest read the ${clockOfReadKind(mailboxKind) ?? 'host'} clock at instruction ${icount}, where the log has no value for it`;
}

/** Describes a clock-read event for reports. */
export function describeClockRead(e: ClockReadEvent): string {
  return `a read of the ${e.clock} clock at instruction ${e.icount}`;
}

/** The clock-read source: `clock-read` events (code 0x06: clock u8 (0 host, 1 realtime), value f64). */
export const CLOCK_READ: EventSource<ClockReadEvent, ReplayContext & { readonly vcpu: ClockReadVcpu | undefined }> = {
  kind: 'clock-read',
  code: KIND_CODES['clock-read'],
  encode(w, e) {
    CLOCKS.write(w, e.clock, 'clock-read.clock');
    if (typeof e.value !== 'number') throw new RangeError('clock-read.value must be a number');
    w.f64(e.value);
  },
  decode(r, icount) {
    const clock = CLOCKS.read(r, 'clock');
    return { kind: 'clock-read', icount, clock, value: r.f64('clock value') };
  },
  describe: describeClockRead,
  replay: replayClockRead,
};
