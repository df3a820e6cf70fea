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
import { AUTO_ADJUST_RT_PERIOD_NS, AUTO_ADJUST_VM_PERIOD_NS, IcountError } from './icount-config.js';
import type { Timer, TimerLists } from './timers.js';

export {
  ALIGN_ADVANCE_NS, AUTO_ADJUST_RT_PERIOD_NS, AUTO_ADJUST_VM_PERIOD_NS, AUTO_INITIAL_SHIFT, ICOUNT_WOBBLE_NS, IcountError,
  MAX_ICOUNT_SHIFT, adjustAutoShift, alignSleepNs, icountConfig, icountConfigProblem, icountNsPerStep, icountRound, icountToNs,
} from './icount-config.js';
export type { IcountConfig } from './icount-config.js';

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
