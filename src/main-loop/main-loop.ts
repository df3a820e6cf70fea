/**
 * The main loop's machine-independent core (QEMU's main_loop_wait, util/main-loop.c): bottom
 * halves and the four clocks' timer lists, dispatched under the locks (replay mutex, then BQL),
 * and the time the host may sleep before the next timer. The host layer drives it: it calls
 * `dispatch()` when `wake` fires or the timeout passes (src/host/node/main-loop-driver.ts).
 *
 * Device backends deliver completions of host I/O as bottom halves here, so device state is
 * touched only under the BQL and in an order the main loop decides, which is also the point
 * where record/replay will log them.
 */
import { BottomHalves, type BottomHalf } from './bottom-halves.js';
import type { ClockKind, Clocks } from './clocks.js';
import { type Timer, type TimerCallback, TimerLists } from './timers.js';

/** Runs a callback under the main loop's locks (replay mutex, then BQL; nothing single-threaded). */
export type LockedRunner = <T>(fn: () => T) => T;

/** The main loop of one machine. */
export class MainLoop {
  readonly timers: TimerLists;
  readonly bottomHalves: BottomHalves;
  private dispatching = false;

  /**
   * @param clocks the machine's clocks (the main thread's view).
   * @param locked runs its argument under the locks.
   * @param wake asks the host driver to dispatch soon (a bottom half was scheduled or a timer changed).
   */
  constructor(readonly clocks: Clocks, private readonly locked: LockedRunner, private readonly wake: () => void) {
    const notify = (): void => {
      if (!this.dispatching) this.wake();
    };
    this.bottomHalves = new BottomHalves(notify);
    this.timers = new TimerLists(notify);
  }

  /** A bottom half whose callback runs under the locks at the next dispatch. */
  createBottomHalf(callback: () => void): BottomHalf {
    return this.bottomHalves.create(callback);
  }

  /** Runs `callback` once, under the locks, at the next dispatch (a one-shot bottom half). */
  runSoon(callback: () => void): void {
    this.bottomHalves.create(callback).schedule();
  }

  /** A timer on clock `kind` whose callback runs under the locks; arm it with `mod`. */
  createTimer(kind: ClockKind, callback: TimerCallback): Timer {
    return this.timers.create(kind, callback);
  }

  /**
   * Runs the queued bottom halves (including ones they schedule, to a bound) and the expired
   * timers of every clock, under the locks. Returns how many callbacks ran.
   */
  dispatch(): number {
    return this.locked(() => {
      this.dispatching = true;
      try {
        let ran = 0;
        for (let round = 0; round < 16 && this.bottomHalves.hasPending; round++) ran += this.bottomHalves.poll();
        ran += this.timers.runAll(this.clocks);
        return ran;
      } finally {
        this.dispatching = false;
      }
    });
  }

  /**
   * How long the host may sleep before the next dispatch, in ns: 0 when bottom halves are
   * pending, -1 when nothing is due. With icount, virtual timers are converted as if virtual
   * time ran at host speed (QEMU bounds the vCPU's budget by them instead; the main loop's only
   * virtual timers today are shift=auto's adjustments, where this approximation is harmless).
   */
  timeoutNs(): number {
    if (this.bottomHalves.hasPending) return 0;
    let best = this.timers.nextDeadline(this.clocks);
    if (this.clocks.icount !== undefined) {
      const v = this.timers.deadlineNs('virtual', this.clocks);
      if (v >= 0 && (best < 0 || v < best)) best = v;
    }
    return best;
  }
}
