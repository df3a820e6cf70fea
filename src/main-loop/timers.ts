/**
 * Timer lists, one per clock (QEMU's QEMUTimerList in util/qemu-timer.c). A timer has an expiry
 * in its clock's nanoseconds; expired timers run in expiry order, ties in the order they were
 * (re)armed, so execution is deterministic.
 */
import { CLOCK_KINDS, type ClockKind } from './clock.js';
import type { Clocks } from './clocks.js';

/** A bad timer operation. */
export class TimerError extends Error {
  override name = 'TimerError';
}

/** A timer callback; it may re-arm or delete any timer, including its own. */
export type TimerCallback = () => void;

/** A timer on one TimerList (QEMU's QEMUTimer). */
export class Timer {
  /** @internal expiry in the list's clock ns, or undefined when not armed. */
  expireNs: number | undefined;
  /** @internal arming order, breaks ties. */
  seq = 0;
  readonly list: TimerList;
  readonly callback: TimerCallback;

  /** Use TimerList.create. */
  constructor(list: TimerList, callback: TimerCallback) {
    this.list = list;
    this.callback = callback;
  }

  /** Whether the timer is armed (QEMU's timer_pending). */
  get pending(): boolean {
    return this.expireNs !== undefined;
  }

  /** The expiry, or undefined when not armed. */
  get expiry(): number | undefined {
    return this.expireNs;
  }

  /** Arms (or re-arms) the timer to expire at `expireNs` (QEMU's timer_mod). */
  mod(expireNs: number): void {
    this.list.mod(this, expireNs);
  }

  /** Disarms the timer; harmless when not armed (QEMU's timer_del). */
  del(): void {
    this.list.del(this);
  }
}

/** The timers of one clock, sorted by (expiry, arming order). */
export class TimerList {
  readonly clock: ClockKind;
  private readonly active: Timer[] = [];
  private nextSeq = 0;

  /**
   * @param onModified called after a timer is armed (the main loop recomputes its timeout:
   *   QEMU's timerlist_notify).
   */
  constructor(clock: ClockKind, private readonly onModified?: () => void) {
    this.clock = clock;
  }

  /** A new, unarmed timer on this list (QEMU's timer_new_ns). */
  create(callback: TimerCallback): Timer {
    return new Timer(this, callback);
  }

  /** Arms `timer` at `expireNs` (see Timer.mod). */
  mod(timer: Timer, expireNs: number): void {
    if (timer.list !== this) throw new TimerError(`timer belongs to the ${timer.list.clock} list, not ${this.clock}`);
    if (!Number.isFinite(expireNs)) throw new TimerError(`timer expiry must be a finite number of ns, got ${expireNs}`);
    this.remove(timer);
    timer.expireNs = expireNs;
    timer.seq = this.nextSeq++;
    // Insert after every timer expiring at or before expireNs: ties run in arming order.
    let lo = 0;
    let hi = this.active.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.active[mid]!.expireNs ?? 0) <= expireNs) lo = mid + 1;
      else hi = mid;
    }
    this.active.splice(lo, 0, timer);
    this.onModified?.();
  }

  /** Disarms `timer` (see Timer.del). */
  del(timer: Timer): void {
    this.remove(timer);
    timer.expireNs = undefined;
  }

  /** The earliest expiry in this clock's ns, or undefined when no timer is armed. */
  deadlineNs(): number | undefined {
    return this.active[0]?.expireNs;
  }

  /** Number of armed timers. */
  get size(): number {
    return this.active.length;
  }

  /**
   * Runs, in order, every timer expiring at or before `nowNs`, disarming each before its
   * callback. Timers armed by callbacks for `nowNs` or earlier also run. Returns how many ran.
   */
  runExpired(nowNs: number): number {
    let ran = 0;
    for (;;) {
      const first = this.active[0];
      if (first === undefined || (first.expireNs ?? Infinity) > nowNs) return ran;
      this.active.shift();
      first.expireNs = undefined;
      first.callback();
      ran++;
    }
  }

  private remove(timer: Timer): void {
    if (timer.expireNs === undefined) return;
    const i = this.active.indexOf(timer);
    if (i >= 0) this.active.splice(i, 1);
  }
}

/** One TimerList per clock (QEMU's main-loop QEMUTimerListGroup). */
export class TimerLists {
  private readonly lists: Record<ClockKind, TimerList>;

  /** @param onModified see TimerList. */
  constructor(onModified?: () => void) {
    this.lists = {
      realtime: new TimerList('realtime', onModified),
      virtual: new TimerList('virtual', onModified),
      host: new TimerList('host', onModified),
      virtual_rt: new TimerList('virtual_rt', onModified),
    };
  }

  /** The list of clock `kind`. */
  list(kind: ClockKind): TimerList {
    return this.lists[kind];
  }

  /** A new, unarmed timer on clock `kind`. */
  create(kind: ClockKind, callback: TimerCallback): Timer {
    return this.lists[kind].create(callback);
  }

  /**
   * ns from now until the earliest timer of clock `kind`: 0 if already expired, -1 if none or if
   * `kind` is virtual and the VM is stopped (QEMU's qemu_clock_deadline_ns_all).
   */
  deadlineNs(kind: ClockKind, clocks: Clocks): number {
    if (kind === 'virtual' && !clocks.running) return -1;
    const expiry = this.lists[kind].deadlineNs();
    if (expiry === undefined) return -1;
    return Math.max(0, expiry - clocks.now(kind));
  }

  /**
   * ns from now until the earliest timer over all clocks, -1 if none: how long the main loop may
   * sleep on the host. Virtual timers count only while the VM runs, and not at all with icount,
   * where the vCPU advances virtual time and must bound its instruction budget with
   * `deadlineNs('virtual', clocks)` instead (QEMU's qemu_clock_use_for_deadline).
   */
  nextDeadline(clocks: Clocks): number {
    let best = -1;
    for (const kind of CLOCK_KINDS) {
      if (kind === 'virtual' && clocks.icount !== undefined) continue;
      const d = this.deadlineNs(kind, clocks);
      if (d >= 0 && (best < 0 || d < best)) best = d;
    }
    return best;
  }

  /**
   * Runs the expired timers of every clock, in QEMU's clock order; virtual timers only while the
   * VM runs (QEMU's qemu_clock_run_all_timers). Returns how many ran.
   */
  runAll(clocks: Clocks): number {
    let ran = 0;
    for (const kind of CLOCK_KINDS) {
      if (kind === 'virtual' && !clocks.running) continue;
      ran += this.lists[kind].runExpired(clocks.now(kind));
    }
    return ran;
  }
}
