/**
 * Instruction counting (QEMU's `-icount`, softmmu/icount.c): the virtual clock is derived from
 * the number of guest instructions executed, `virtual = bias + (steps << shift)`, which makes
 * guest time a pure function of the execution when the shift is fixed.
 *
 * `shift=auto` is QEMU's adaptive mode: it starts at shift 3 (125 MIPS) and periodically nudges
 * the shift so that virtual time tracks host time. It therefore depends on host speed and is NOT
 * deterministic across hosts or runs unless the adjustments are recorded (as QEMU's record/replay
 * does with its clock checkpoints).
 */
import type { Clocks } from './clocks.js';
import type { Timer, TimerLists } from './timers.js';

/** `-icount` settings that shape the clocks (record/replay settings live in the CLI). */
export interface IcountConfig {
  /** Virtual ns per instruction is 2^shift; 'auto' adapts it to host speed. */
  readonly shift: number | 'auto';
  /** align=on: the runner sleeps when the guest gets ahead of host time (fixed shift only). */
  readonly align: boolean;
  /** sleep=on (default): idle time follows host time; sleep=off: idle jumps to the next deadline. */
  readonly sleep: boolean;
}

/** Largest shift (1 MIPS), as QEMU's MAX_ICOUNT_SHIFT. */
export const MAX_ICOUNT_SHIFT = 10;
/** Initial shift of shift=auto: 8 ns per instruction, QEMU's "125MIPS seems a reasonable guess". */
export const AUTO_INITIAL_SHIFT = 3;
/** Variation between virtual and real time that shift=auto ignores (QEMU's ICOUNT_WOBBLE, 0.1 s). */
export const ICOUNT_WOBBLE_NS = 100_000_000;
/** Period of the shift=auto adjustment driven by virtual_rt (QEMU: 1000 ms). */
export const AUTO_ADJUST_RT_PERIOD_NS = 1_000_000_000;
/** Period of the shift=auto adjustment driven by the virtual clock (QEMU: 100 ms). */
export const AUTO_ADJUST_VM_PERIOD_NS = 100_000_000;
/** align=on: the guest may run this far ahead of host time before the runner sleeps (QEMU's VM_CLOCK_ADVANCE, 3 ms). */
export const ALIGN_ADVANCE_NS = 3_000_000;

/** A configuration the clocks cannot honour. */
export class IcountError extends Error {
  override name = 'IcountError';
}

/** The default of `-icount shift=N` when align and sleep are not given. */
export function icountConfig(shift: number | 'auto', align = false, sleep = true): IcountConfig {
  const config = { shift, align, sleep };
  const problem = icountConfigProblem(config);
  if (problem !== undefined) throw new IcountError(problem);
  return config;
}

/**
 * Why QEMU's icount_configure() would reject `config`, with QEMU's message, or undefined.
 * (Current QEMU tests the auto/align and auto/sleep pairs against globals that are only set later,
 * so in practice it accepts them; we implement the intended checks.)
 */
export function icountConfigProblem(config: IcountConfig): string | undefined {
  if (config.align && !config.sleep) return 'align=on and sleep=off are incompatible';
  if (config.shift === 'auto') {
    if (config.align) return 'shift=auto and align=on are incompatible';
    if (!config.sleep) return 'shift=auto and sleep=off are incompatible';
    return undefined;
  }
  if (!Number.isInteger(config.shift) || config.shift < 0 || config.shift > MAX_ICOUNT_SHIFT) {
    return 'icount: Invalid shift value';
  }
  return undefined;
}

/** Virtual nanoseconds per instruction at `shift` (QEMU's icount_to_ns(1)). */
export function icountNsPerStep(shift: number): number {
  return 2 ** shift;
}

/** Virtual ns of `steps` instructions at `shift` (exact for counts up to 2^53). */
export function icountToNs(steps: number, shift: number): number {
  return steps * 2 ** shift;
}

/** Instructions needed to cover `ns` at `shift`, rounded up (QEMU's icount_round). */
export function icountRound(ns: number, shift: number): number {
  return Math.ceil(ns / 2 ** shift);
}

/**
 * One shift=auto step (QEMU's icount_adjust): `deltaNs` is virtual minus real time now,
 * `lastDeltaNs` the value at the previous step. The guest too far ahead lowers the shift (slower
 * virtual time), too far behind raises it, always within 0..MAX_ICOUNT_SHIFT.
 */
export function adjustAutoShift(shift: number, lastDeltaNs: number, deltaNs: number): number {
  if (deltaNs > 0 && lastDeltaNs + ICOUNT_WOBBLE_NS < deltaNs * 2 && shift > 0) return shift - 1;
  if (deltaNs < 0 && lastDeltaNs - ICOUNT_WOBBLE_NS > deltaNs * 2 && shift < MAX_ICOUNT_SHIFT) return shift + 1;
  return shift;
}

/**
 * align=on: how long the runner should sleep on the host, given how far the guest is ahead
 * (`aheadNs` = virtual − virtual_rt, see Clocks.alignAheadNs). 0 while within ALIGN_ADVANCE_NS.
 */
export function alignSleepNs(aheadNs: number): number {
  return aheadNs > ALIGN_ADVANCE_NS ? aheadNs : 0;
}

/** What the runner should do when every vCPU is idle (waiting for an interrupt) under icount. */
export type IcountIdleAction =
  /** sleep=off: virtual time jumped `ns` to the next virtual deadline; run timers, no host sleep. */
  | { readonly kind: 'warped'; readonly ns: number }
  /**
   * sleep=on: sleep on the host up to `hostNs` (-1: until an external event), then call
   * `clocks.endIdleWarp()` and run timers: virtual time advanced with real time meanwhile.
   */
  | { readonly kind: 'sleep'; readonly hostNs: number }
  /** sleep=off and no virtual timer: time cannot advance; wait for an external event (QEMU warns). */
  | { readonly kind: 'no-timers' };

/**
 * sleep=off: jump the virtual clock to the earliest virtual deadline (QEMU's icount_start_warp_timer
 * with icount_sleep false). Returns the ns warped (0 when a timer is already due), -1 if no
 * virtual timer is armed or the VM is stopped.
 */
export function warpToDeadline(clocks: Clocks, timers: TimerLists): number {
  const deadline = timers.deadlineNs('virtual', clocks);
  if (deadline > 0) clocks.warp(deadline);
  return deadline;
}

/**
 * Every vCPU is idle under icount: warp (sleep=off) or start an idle warp that follows real
 * time (sleep=on, QEMU's icount_warp_rt). See IcountIdleAction.
 */
export function icountIdle(clocks: Clocks, timers: TimerLists): IcountIdleAction {
  const icount = clocks.icount;
  if (icount === undefined) throw new IcountError('icountIdle needs icount');
  if (!icount.sleep) {
    const ns = warpToDeadline(clocks, timers);
    return ns < 0 ? { kind: 'no-timers' } : { kind: 'warped', ns };
  }
  clocks.startIdleWarp();
  const virtualNs = timers.deadlineNs('virtual', clocks);
  const otherNs = timers.nextDeadline(clocks);
  const hostNs = virtualNs < 0 ? otherNs : otherNs < 0 ? virtualNs : Math.min(virtualNs, otherNs);
  return { kind: 'sleep', hostNs };
}

/** Which shift=auto adjustment timer fired (the `id` of a recorded timer event). */
export const AUTO_SHIFT_TIMER_RT = 0;
export const AUTO_SHIFT_TIMER_VM = 1;

/**
 * shift=auto: arms QEMU's two adjustment timers (every 1 s of virtual_rt, catching virtual time
 * running too slowly, and every 100 ms of virtual time, catching it running too fast).
 * `onShift` hears of every change of the shift (a recording logs it: the adjustments read host
 * time). Returns the timers (to delete on teardown); none unless shift=auto.
 */
export function installAutoShiftTimers(clocks: Clocks, timers: TimerLists, onShift?: (timer: number, shift: number) => void): Timer[] {
  if (clocks.icount?.shift !== 'auto') return [];
  const adjust = (timer: number): void => {
    const shift = clocks.adjustAutoShift();
    if (shift !== undefined) onShift?.(timer, shift);
  };
  const rt: Timer = timers.create('virtual_rt', () => {
    rt.mod(clocks.now('virtual_rt') + AUTO_ADJUST_RT_PERIOD_NS);
    adjust(AUTO_SHIFT_TIMER_RT);
  });
  const vm: Timer = timers.create('virtual', () => {
    vm.mod(clocks.now('virtual') + AUTO_ADJUST_VM_PERIOD_NS);
    adjust(AUTO_SHIFT_TIMER_VM);
  });
  rt.mod(clocks.now('virtual_rt') + AUTO_ADJUST_RT_PERIOD_NS);
  vm.mod(clocks.now('virtual') + AUTO_ADJUST_VM_PERIOD_NS);
  return [rt, vm];
}
