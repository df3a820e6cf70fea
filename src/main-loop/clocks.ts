/**
 * QEMU's four clocks (util/qemu-timer.c), in nanoseconds:
 * - `realtime`: host monotonic time, runs even while the VM is stopped (QEMU_CLOCK_REALTIME);
 * - `host`: host wall-clock time since the Unix epoch, follows host clock changes (QEMU_CLOCK_HOST);
 * - `virtual`: guest time (QEMU_CLOCK_VIRTUAL). With icount it is `bias + (steps << shift)`, a
 *   function of the instructions executed; otherwise host monotonic time minus the time the VM
 *   was stopped. Either way it stands still while the VM is paused;
 * - `virtual_rt`: host monotonic time minus stopped time (QEMU_CLOCK_VIRTUAL_RT). Without icount it
 *   equals `virtual`; with icount it is the real-time reference for warps, align and shift=auto.
 *
 * Host time enters only through HostTime. The guest-visible state that must survive a snapshot
 * is the small ClockState (save/restore).
 */
import type { HostTime } from './clock.js';
import type { IcountConfig } from './icount.js';
import { AUTO_INITIAL_SHIFT, IcountError, adjustAutoShift, icountConfigProblem, icountRound, icountToNs } from './icount.js';

/** The clocks, named as QEMU's QEMUClockType without the prefix. */
export type ClockKind = 'realtime' | 'host' | 'virtual' | 'virtual_rt';

/** All clock kinds, in QEMU's enum order (REALTIME, VIRTUAL, HOST, VIRTUAL_RT). */
export const CLOCK_KINDS: readonly ClockKind[] = ['realtime', 'virtual', 'host', 'virtual_rt'];

/** Guest-visible clock state for snapshots (plain data). */
export interface ClockState {
  /** The virtual clock when saved. */
  readonly virtualNs: number;
  /** The virtual_rt clock when saved (the align/auto reference). */
  readonly virtualRtNs: number;
  /** Current icount shift (changes only with shift=auto); 0 without icount. */
  readonly shift: number;
  /** shift=auto: virtual − real time at the last adjustment. */
  readonly lastDeltaNs: number;
}

/** Misuse of the clocks. */
export class ClocksError extends Error {
  override name = 'ClocksError';
}

/** Options of a Clocks object. */
export interface ClocksOptions {
  /** Whether the VM starts running (default true); with false, call resume() at vm start. */
  readonly running?: boolean;
}

/** QEMU's clocks for one machine. */
export class Clocks {
  /** The icount configuration, or undefined when virtual time follows the host. */
  readonly icount: IcountConfig | undefined;
  private readonly hostTime: HostTime;
  private readonly stepsNow: () => number;
  private isRunning: boolean;
  /** While running: virtual_rt = monotonic + cpuOffsetNs. While paused: virtual_rt = cpuOffsetNs. */
  private cpuOffsetNs: number;
  /** icount: virtual = biasNs + steps << shift (warps and shift changes go into the bias). */
  private biasNs = 0;
  private shiftNow: number;
  private lastDeltaNs = 0;
  /** sleep=on idle warp: virtual_rt when the vCPUs went idle, or undefined. */
  private warpStartNs: number | undefined;

  /**
   * @param hostTime the host's time source.
   * @param icount icount settings, or undefined for host-driven virtual time.
   * @param stepsNow instructions executed so far by all vCPUs (read in icount mode only).
   */
  constructor(hostTime: HostTime, icount: IcountConfig | undefined, stepsNow: () => number, options: ClocksOptions = {}) {
    if (icount !== undefined) {
      const problem = icountConfigProblem(icount);
      if (problem !== undefined) throw new IcountError(problem);
    }
    this.hostTime = hostTime;
    this.icount = icount;
    this.stepsNow = stepsNow;
    this.shiftNow = icount === undefined ? 0 : icount.shift === 'auto' ? AUTO_INITIAL_SHIFT : icount.shift;
    this.isRunning = options.running ?? true;
    this.cpuOffsetNs = this.isRunning ? -hostTime.monotonicNs() : 0;
    if (icount !== undefined) this.biasNs = -icountToNs(stepsNow(), this.shiftNow);
  }

  /** Whether the VM is running (the virtual clocks advance). */
  get running(): boolean {
    return this.isRunning;
  }

  /** The icount shift in effect (varies with shift=auto). */
  get shift(): number {
    return this.shiftNow;
  }

  /** The current value of clock `kind`, in ns. */
  now(kind: ClockKind): number {
    switch (kind) {
      case 'realtime': return this.hostTime.monotonicNs();
      case 'host': return this.hostTime.realtimeNs();
      case 'virtual_rt': return this.cpuClockNs();
      case 'virtual': return this.icount === undefined ? this.cpuClockNs() : this.icountNs();
    }
  }

  /** The VM stops: virtual and virtual_rt stand still (QEMU's cpu_disable_ticks). */
  pause(): void {
    if (!this.isRunning) return;
    this.cpuOffsetNs = this.cpuClockNs();
    this.isRunning = false;
  }

  /** The VM runs again: virtual and virtual_rt continue from where they stopped. */
  resume(): void {
    if (this.isRunning) return;
    this.cpuOffsetNs -= this.hostTime.monotonicNs();
    this.isRunning = true;
  }

  /** icount only: advance the virtual clock by `ns` without executing instructions. */
  warp(ns: number): void {
    if (this.icount === undefined) throw new ClocksError('warp needs icount: without it virtual time follows the host');
    if (!(ns >= 0)) throw new ClocksError(`warp by ${ns} ns: must be >= 0`);
    this.biasNs += ns;
  }

  /** Instructions to execute to reach `ns` of virtual time from now, rounded up (icount only). */
  stepsUntil(ns: number): number {
    if (this.icount === undefined) throw new ClocksError('stepsUntil needs icount');
    return icountRound(Math.max(0, ns), this.shiftNow);
  }

  /** align=on: how far the guest is ahead of real time (virtual − virtual_rt; negative when behind). */
  alignAheadNs(): number {
    return this.now('virtual') - this.now('virtual_rt');
  }

  /**
   * sleep=on: all vCPUs went idle; virtual time will follow virtual_rt until endIdleWarp
   * (QEMU's vm_clock_warp_start in icount_start_warp_timer).
   */
  startIdleWarp(): void {
    if (this.icount === undefined || !this.isRunning) return;
    const now = this.cpuClockNs();
    if (this.warpStartNs === undefined || this.warpStartNs > now) this.warpStartNs = now;
  }

  /**
   * sleep=on: a vCPU wakes (or the idle deadline passed): add the real time spent idle to the
   * virtual clock; with shift=auto never beyond real time (QEMU's icount_warp_rt).
   * Returns the ns added.
   */
  endIdleWarp(): number {
    const start = this.warpStartNs;
    this.warpStartNs = undefined;
    if (start === undefined || !this.isRunning) return 0;
    const now = this.cpuClockNs();
    let delta = now - start;
    if (this.icount?.shift === 'auto') delta = Math.min(delta, now - this.icountNs());
    delta = Math.max(0, delta);
    this.biasNs += delta;
    return delta;
  }

  /** Whether an idle warp is in progress. */
  get idleWarping(): boolean {
    return this.warpStartNs !== undefined;
  }

  /**
   * shift=auto: compare virtual to real time and adjust the shift by at most one step, keeping
   * the virtual clock continuous (QEMU's icount_adjust). Call it every AUTO_ADJUST_RT_PERIOD_NS
   * of virtual_rt and every AUTO_ADJUST_VM_PERIOD_NS of virtual (see installAutoShiftTimers).
   * No-op unless shift=auto and running.
   */
  adjustAutoShift(): void {
    if (this.icount?.shift !== 'auto' || !this.isRunning) return;
    const realNs = this.cpuClockNs();
    const virtualNs = this.icountNs();
    const delta = virtualNs - realNs;
    this.shiftNow = adjustAutoShift(this.shiftNow, this.lastDeltaNs, delta);
    this.lastDeltaNs = delta;
    this.biasNs = virtualNs - icountToNs(this.stepsNow(), this.shiftNow);
  }

  /** The guest-visible clock state, for a snapshot. */
  save(): ClockState {
    return {
      virtualNs: this.now('virtual'),
      virtualRtNs: this.cpuClockNs(),
      shift: this.shiftNow,
      lastDeltaNs: this.lastDeltaNs,
    };
  }

  /**
   * Restores a saved state: the virtual clocks continue from the saved values. Restore the
   * vCPUs' instruction counters first (stepsNow is read here). Any idle warp is dropped.
   */
  restore(state: ClockState): void {
    if (this.icount !== undefined && state.shift !== this.shiftNow && this.icount.shift !== 'auto') {
      throw new ClocksError(`snapshot has icount shift ${state.shift}, this machine uses ${this.shiftNow}`);
    }
    this.shiftNow = state.shift;
    this.lastDeltaNs = state.lastDeltaNs;
    this.warpStartNs = undefined;
    const cpuNs = this.icount === undefined ? state.virtualNs : state.virtualRtNs;
    this.cpuOffsetNs = this.isRunning ? cpuNs - this.hostTime.monotonicNs() : cpuNs;
    if (this.icount !== undefined) this.biasNs = state.virtualNs - icountToNs(this.stepsNow(), this.shiftNow);
  }

  private cpuClockNs(): number {
    return this.isRunning ? this.hostTime.monotonicNs() + this.cpuOffsetNs : this.cpuOffsetNs;
  }

  private icountNs(): number {
    return this.biasNs + icountToNs(this.stepsNow(), this.shiftNow);
  }
}
