/**
 * The icount configuration and its arithmetic (QEMU's softmmu/icount.c, the parts that need no
 * clock object): the `-icount` settings, their limits, the shift/ns conversions and the shift=auto
 * adjustment rule. The lowest module of the main loop's icount support: clocks.ts and icount.ts
 * both build on it, so neither imports the other for these.
 */

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
