/**
 * Timers and clock warps: the two ways host time moves the guest's virtual clock under icount.
 * A `timer` event is an icount shift=auto adjustment (a main-loop timer compared host time with
 * virtual time and changed the shift; QEMU's icount_adjust); a `clock-warp` is the virtual clock
 * jumping forward while every hart waited for an interrupt (sleep=on; QEMU's icount_warp_rt),
 * recorded by the vCPU thread. Replaying applies the logged shift or warp at the same instruction.
 */
import { KIND_CODES } from '../log/format.js';
import { MAX_ICOUNT_SHIFT } from '../../main-loop/icount.js';
import type { At, EventSource, RecordContext, ReplayContext } from './source.js';

/**
 * A main-loop timer that reads host time changed the guest's clock: an icount shift=auto
 * adjustment (`id` 0: the virtual_rt timer, 1: the virtual timer) set the shift to `shift`.
 */
export interface TimerEvent extends At {
  readonly kind: 'timer';
  readonly id: number;
  readonly shift: number;
}

/**
 * The virtual clock jumped `ns` forward while every hart waited for an interrupt (icount
 * sleep=on: idle time follows host time, QEMU's icount_warp_rt). Recorded by the vCPU thread.
 */
export interface ClockWarpEvent extends At {
  readonly kind: 'clock-warp';
  readonly ns: number;
}

/** Recording: shift=auto adjustment timer `id` changed the shift to `shift` (already applied). */
export function recordShiftChange(ctx: RecordContext<TimerEvent>, id: number, shift: number): void {
  ctx.emit({ kind: 'timer', icount: ctx.icount, id, shift });
}

/** Recording: the vCPU thread warped the virtual clock `ns` forward at `icount` (from its mailbox). */
export function recordClockWarp(icount: number, ns: number): ClockWarpEvent {
  return { kind: 'clock-warp', icount, ns };
}

/** Replaying: the logged shift, on a machine that adjusts its shift (shift=auto). */
export function replayTimer(e: TimerEvent, ctx: ReplayContext): void {
  const clocks = ctx.machine.clocks;
  if (clocks.icount?.shift !== 'auto') ctx.diverge(describeTimer(e), 'a machine without icount shift=auto');
  if (e.shift > MAX_ICOUNT_SHIFT) ctx.diverge(describeTimer(e), `a shift beyond the largest, ${MAX_ICOUNT_SHIFT}`);
  clocks.setShift(e.shift);
}

/** Replaying: the logged warp of the virtual clock. */
export function replayClockWarp(e: ClockWarpEvent, ctx: ReplayContext): void {
  ctx.machine.clocks.warp(e.ns);
}

/** Describes a timer event for reports. */
export function describeTimer(e: TimerEvent): string {
  return `icount shift=auto adjustment to shift ${e.shift} at instruction ${e.icount}`;
}

/** Describes a clock-warp event for reports. */
export function describeClockWarp(e: ClockWarpEvent): string {
  return `clock-warp event at instruction ${e.icount}`;
}

/** `timer` events (code 0x07: timer id varint, shift varint). */
export const TIMER: EventSource<TimerEvent> = {
  kind: 'timer',
  code: KIND_CODES.timer,
  encode(w, e) {
    w.varint(e.id, 'timer.id');
    w.varint(e.shift, 'timer.shift');
  },
  decode(r, icount) {
    const id = r.varint('timer id');
    return { kind: 'timer', icount, id, shift: r.varint('shift') };
  },
  describe: describeTimer,
  replay: replayTimer,
};

/** `clock-warp` events (code 0x0d: ns varint). */
export const CLOCK_WARP: EventSource<ClockWarpEvent> = {
  kind: 'clock-warp',
  code: KIND_CODES['clock-warp'],
  encode: (w, e) => w.varint(e.ns, 'clock-warp.ns'),
  decode: (r, icount) => ({ kind: 'clock-warp', icount, ns: r.varint('warp ns') }),
  describe: describeClockWarp,
  replay: replayClockWarp,
};
