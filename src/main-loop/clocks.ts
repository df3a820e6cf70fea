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
 * Host time enters only through HostTime. The clocks' state is their words in the machine's state
 * arena (clockStoreIn): a snapshot saves and restores those with the rest of the machine (the
 * state walk), then calls stateReplaced.
 */
import type { StateArena } from '../memory/state-arena.js';
import type { ClockKind, HostTime } from './clock.js';
import type { IcountConfig } from './icount-config.js';
import { AUTO_INITIAL_SHIFT, IcountError, MAX_ICOUNT_SHIFT, adjustAutoShift, icountConfigProblem, icountRound, icountToNs } from './icount-config.js';

export { CLOCK_KINDS, type ClockKind } from './clock.js';

/** Misuse of the clocks. */
export class ClocksError extends Error {
  override name = 'ClocksError';
}

/** Options of a Clocks object. */
export interface ClocksOptions {
  /** Whether the VM starts running (default true); with false, call resume() at vm start. */
  readonly running?: boolean;
  /**
   * Where the clock state lives. Default: private to this object. A machine whose vCPU thread
   * and main loop both read the clocks passes {@link clockStoreIn} its state arena, and each
   * thread builds its own Clocks over the same words (`attach: true` in the second thread, so
   * construction does not reset them).
   */
  readonly store?: ClockStore;
  /** Keep the state already in `store` (a second thread attaching to a running machine). */
  readonly attach?: boolean;
}

/**
 * The clocks' mutable state, in shared memory so that both threads see one clock. Writes come
 * from whoever holds the BQL; the vCPU thread reads the virtual clock without it (a hart reading
 * `time`), so writers bump a sequence counter around each update and readers retry on a change
 * (QEMU's timers_state seqlock).
 */
export interface ClockStore {
  /** Guest-visible: [0] icount bias ns, [1] shift in effect. */
  readonly guest: Float64Array;
  /**
   * Host-derived: [0] cpu clock offset ns, [1] running (1/0), [2] idle warp start ns or NaN,
   * [3] shift=auto: virtual − real time at the last adjustment (a host measurement; a replay
   * takes the shifts it led to from the log, so it is not part of the guest's state).
   */
  readonly host: Float64Array;
  /** [0]: the sequence counter, odd while a write is in progress. */
  readonly seq: Int32Array;
}

const G_BIAS = 0;
const G_SHIFT = 1;
const H_CPU_OFFSET = 0;
const H_RUNNING = 1;
const H_WARP_START = 2;
const H_LAST_DELTA = 3;

/** A store of one's own (single-thread use and tests). */
export function privateClockStore(): ClockStore {
  return { guest: new Float64Array(2), host: new Float64Array(4), seq: new Int32Array(new SharedArrayBuffer(4)) };
}

/**
 * Allocates the clock state in a machine's state arena (owner `clocks`): `guest` is hashed and
 * snapshotted with the machine; `host` (offsets against the host clock) is snapshotted but
 * marked host-derived, so it does not enter the state hash.
 */
export function clockStoreIn(arena: StateArena): ClockStore {
  const g = arena.allocate('clocks', 'guest', 4);
  const h = arena.allocate('clocks', 'host', 10, { host: true });
  return {
    guest: new Float64Array(arena.buffer, g * 4, 2),
    seq: new Int32Array(arena.buffer, h * 4, 1),
    host: new Float64Array(arena.buffer, (h + 2) * 4, 4),
  };
}

/** QEMU's clocks for one machine. */
export class Clocks {
  /** The icount configuration, or undefined when virtual time follows the host. */
  readonly icount: IcountConfig | undefined;
  private readonly hostTime: HostTime;
  private readonly stepsNow: () => number;
  private readonly g: Float64Array;
  private readonly h: Float64Array;
  private readonly seq: Int32Array;

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
    const store = options.store ?? privateClockStore();
    this.g = store.guest;
    this.h = store.host;
    this.seq = store.seq;
    if (options.attach === true) return;
    this.write(() => {
      const shift = icount === undefined ? 0 : icount.shift === 'auto' ? AUTO_INITIAL_SHIFT : icount.shift;
      const running = options.running ?? true;
      this.g[G_SHIFT] = shift;
      this.h[H_LAST_DELTA] = 0;
      this.g[G_BIAS] = icount === undefined ? 0 : -icountToNs(stepsNow(), shift);
      this.h[H_RUNNING] = running ? 1 : 0;
      this.h[H_CPU_OFFSET] = running ? -hostTime.monotonicNs() : 0;
      this.h[H_WARP_START] = NaN;
    });
  }

  /** Whether the VM is running (the virtual clocks advance). */
  get running(): boolean {
    return this.h[H_RUNNING] === 1;
  }

  /** The icount shift in effect (varies with shift=auto). */
  get shift(): number {
    return this.g[G_SHIFT]!;
  }

  /** The current value of clock `kind`, in ns. */
  now(kind: ClockKind): number {
    switch (kind) {
      case 'realtime': return this.hostTime.monotonicNs();
      case 'host': return this.hostTime.realtimeNs();
      case 'virtual_rt': return this.read(() => this.cpuClockNs());
      case 'virtual': return this.read(() => (this.icount === undefined ? this.cpuClockNs() : this.icountNs()));
    }
  }

  /** The VM stops: virtual and virtual_rt stand still (QEMU's cpu_disable_ticks). */
  pause(): void {
    if (!this.running) return;
    this.write(() => {
      this.h[H_CPU_OFFSET] = this.cpuClockNs();
      this.h[H_RUNNING] = 0;
    });
  }

  /** The VM runs again: virtual and virtual_rt continue from where they stopped. */
  resume(): void {
    if (this.running) return;
    this.write(() => {
      this.h[H_CPU_OFFSET] = this.h[H_CPU_OFFSET]! - this.hostTime.monotonicNs();
      this.h[H_RUNNING] = 1;
    });
  }

  /** icount only: advance the virtual clock by `ns` without executing instructions. */
  warp(ns: number): void {
    if (this.icount === undefined) throw new ClocksError('warp needs icount: without it virtual time follows the host');
    if (!(ns >= 0)) throw new ClocksError(`warp by ${ns} ns: must be >= 0`);
    this.write(() => {
      this.g[G_BIAS] = this.g[G_BIAS]! + ns;
    });
  }

  /** Instructions to execute to reach `ns` of virtual time from now, rounded up (icount only). */
  stepsUntil(ns: number): number {
    if (this.icount === undefined) throw new ClocksError('stepsUntil needs icount');
    return icountRound(Math.max(0, ns), this.shift);
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
    if (this.icount === undefined || !this.running) return;
    this.write(() => {
      const now = this.cpuClockNs();
      const start = this.h[H_WARP_START]!;
      if (Number.isNaN(start) || start > now) this.h[H_WARP_START] = now;
    });
  }

  /**
   * sleep=on: a vCPU wakes (or the idle deadline passed): add the real time spent idle to the
   * virtual clock; with shift=auto never beyond real time (QEMU's icount_warp_rt).
   * Returns the ns added.
   */
  endIdleWarp(): number {
    const start = this.h[H_WARP_START]!;
    if (Number.isNaN(start)) return 0;
    let added = 0;
    this.write(() => {
      this.h[H_WARP_START] = NaN;
      if (!this.running) return;
      const now = this.cpuClockNs();
      let delta = now - start;
      if (this.icount?.shift === 'auto') delta = Math.min(delta, now - this.icountNs());
      // Whole ns, so a recorded warp replays exactly.
      added = Math.max(0, Math.floor(delta));
      this.g[G_BIAS] = this.g[G_BIAS]! + added;
    });
    return added;
  }

  /** Whether an idle warp is in progress. */
  get idleWarping(): boolean {
    return !Number.isNaN(this.h[H_WARP_START]!);
  }

  /**
   * shift=auto: compare virtual to real time and adjust the shift by at most one step, keeping
   * the virtual clock continuous (QEMU's icount_adjust). Call it every AUTO_ADJUST_RT_PERIOD_NS
   * of virtual_rt and every AUTO_ADJUST_VM_PERIOD_NS of virtual (see installAutoShiftTimers).
   * No-op unless shift=auto and running. Returns the new shift when it changed (what a recording
   * logs), else undefined.
   */
  adjustAutoShift(): number | undefined {
    if (this.icount?.shift !== 'auto' || !this.running) return undefined;
    const before = this.shift;
    this.write(() => {
      const realNs = this.cpuClockNs();
      const delta = this.icountNs() - realNs;
      const shift = adjustAutoShift(this.shift, this.h[H_LAST_DELTA]!, delta);
      this.h[H_LAST_DELTA] = delta;
      this.rebase(shift);
    });
    return this.shift !== before ? this.shift : undefined;
  }

  /**
   * shift=auto, replaying: sets the shift a recorded adjustment chose, keeping the virtual
   * clock continuous (the same arithmetic as adjustAutoShift, so the clock matches the
   * recording's to the bit).
   */
  setShift(shift: number): void {
    if (this.icount?.shift !== 'auto') throw new ClocksError('setShift needs icount shift=auto');
    if (!Number.isInteger(shift) || shift < 0 || shift > MAX_ICOUNT_SHIFT) throw new ClocksError(`icount shift ${shift}: must be an integer in 0..${MAX_ICOUNT_SHIFT}`);
    this.write(() => this.rebase(shift));
  }

  /** Within a write: switch to `shift` with the virtual clock unchanged. */
  private rebase(shift: number): void {
    const virtualNs = this.icountNs();
    this.g[G_SHIFT] = shift;
    this.g[G_BIAS] = virtualNs - icountToNs(this.stepsNow(), shift);
  }

  /**
   * The machine's arena words were replaced (a restore of the state walk, see
   * src/memory/state-walk.ts). The guest words (icount bias and shift) are the clocks' state, so
   * with the vCPUs' instruction counters restored too the virtual clock continues from the saved
   * value; the host-derived words stay, so virtual_rt (and virtual without icount) continue
   * from this host's time. An idle warp in progress is dropped: it measured host time against
   * the replaced state.
   */
  stateReplaced(): void {
    if (this.icount !== undefined && this.icount.shift !== 'auto' && this.shift !== this.icount.shift) {
      throw new ClocksError(`restored state has icount shift ${this.shift}, this machine uses ${this.icount.shift}`);
    }
    this.write(() => {
      this.h[H_WARP_START] = NaN;
    });
  }

  private cpuClockNs(): number {
    const offset = this.h[H_CPU_OFFSET]!;
    return this.h[H_RUNNING] === 1 ? this.hostTime.monotonicNs() + offset : offset;
  }

  private icountNs(): number {
    return this.g[G_BIAS]! + icountToNs(this.stepsNow(), this.g[G_SHIFT]!);
  }

  /** Runs `update` as one write of the seqlock (callers hold the BQL). */
  private write(update: () => void): void {
    Atomics.add(this.seq, 0, 1);
    try {
      update();
    } finally {
      Atomics.add(this.seq, 0, 1);
    }
  }

  /** Reads a consistent value: retries while a write is in progress or happened meanwhile. */
  private read<T>(get: () => T): T {
    while (true) {
      const before = Atomics.load(this.seq, 0);
      if ((before & 1) === 0) {
        const value = get();
        if (Atomics.load(this.seq, 0) === before) return value;
      }
    }
  }
}
