/**
 * Drives a MainLoop on Node's event loop: dispatches when a bottom half is scheduled (on the
 * next turn, setImmediate) or when the earliest timer is due (setTimeout), and re-arms after
 * every dispatch. This is the main thread's "wait for host events" of QEMU's main loop: while it
 * waits, the main thread holds neither the replay mutex nor the BQL.
 */
import type { Clocks } from '../../main-loop/clocks.js';
import { type LockedRunner, MainLoop } from '../../main-loop/main-loop.js';

/** Longest single host sleep; timers further out are re-checked after it. */
const MAX_SLEEP_MS = 1000;

/** Serves one MainLoop until `stop`. */
export class MainLoopDriver {
  private immediate: ReturnType<typeof setImmediate> | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private stopped = false;
  /** Callbacks run so far (for tests and the bench). */
  dispatched = 0;

  constructor(private readonly loop: MainLoop) {}

  /** Dispatch soon (the MainLoop's `wake` hook). */
  wake(): void {
    if (this.stopped || this.immediate !== undefined) return;
    this.immediate = setImmediate(() => {
      this.immediate = undefined;
      this.run();
    });
  }

  /** Stops serving (pending timers and bottom halves are dropped with the process). */
  stop(): void {
    this.stopped = true;
    if (this.immediate !== undefined) clearImmediate(this.immediate);
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.immediate = this.timer = undefined;
  }

  private run(): void {
    if (this.stopped) return;
    this.dispatched += this.loop.dispatch();
    this.rearm();
  }

  private rearm(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.stopped) return;
    const ns = this.loop.timeoutNs();
    if (ns < 0) return;
    if (ns === 0) {
      this.wake();
      return;
    }
    const t = setTimeout(() => {
      this.timer = undefined;
      this.run();
    }, Math.min(MAX_SLEEP_MS, Math.ceil(ns / 1e6)));
    t.unref(); // the machine's run keeps the process alive, not the main loop's timers
    this.timer = t;
  }
}

/** A MainLoop for `clocks` served on Node's event loop. */
export function serveMainLoop(clocks: Clocks, locked: LockedRunner): { readonly loop: MainLoop; readonly driver: MainLoopDriver } {
  const wake = { fn: (): void => {} };
  const loop = new MainLoop(clocks, locked, () => wake.fn());
  const driver = new MainLoopDriver(loop);
  wake.fn = () => driver.wake();
  driver.wake();
  return { loop, driver };
}
