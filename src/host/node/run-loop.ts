/**
 * Drives a machine from Node's event loop: `runSlice` in slices scheduled with setImmediate, so
 * host events (console input, signals) are handled between slices; when every hart is idle, a
 * timer waits until the next guest timer event or until `wake()` (input arrived).
 */
import { ConsoleFeed } from './console-feed.js';
import type { Machine, ShutdownCause } from '../../board/machine-api.js';
import type { HostTime } from '../../main-loop/clock.js';
import type { VmPauseControl } from './vm-runner.js';

/** How a run ended. */
export interface RunOutcome {
  readonly cause: ShutdownCause;
  readonly exitCode: number;
}

/** Tuning of the slice size. */
export interface RunLoopOptions {
  /** Steps in the first slice (default 20 000). */
  readonly initialBudget?: number;
  /** Host time one slice should take, in ms (default 10): the budget adapts towards it. */
  readonly targetSliceMs?: number;
}

const MIN_BUDGET = 1_000;
const MAX_BUDGET = 8_000_000;
/** setTimeout's largest delay. */
const MAX_TIMER_MS = 0x7fffffff;

/**
 * What the runner drives, with the harts on this thread (RunLoop) or in a vCPU thread
 * (ThreadedRunLoop): callers use this surface and never ask which loop they have.
 */
export interface MachineLoop extends VmPauseControl {
  /** Starts the machine; settles when it stops. */
  run(): Promise<RunOutcome>;
  /** Console input: into the machine (queued while it has no room). */
  input(bytes: Uint8Array): void;
  /** Runs `fn` with the machine's locks held (the main loop's timers and bottom halves). */
  locked<T>(fn: () => T): T;
  /** A virtio completion arrived: wakes harts that wait for an interrupt. */
  wakeHarts(): void;
  /** The machine as the monitor should see it. */
  machineForMonitor(): Machine;
}

/** Runs one machine until it shuts down, `stop` is called, or `runSlice` throws. */
export class RunLoop implements MachineLoop {
  private budget: number;
  private readonly targetNs: number;
  private immediate: ReturnType<typeof setImmediate> | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private keepAlive: ReturnType<typeof setInterval> | undefined;
  private finished = false;
  private pausedFlag = false;
  /** Console input the machine has not taken yet (offered again between slices). */
  private readonly feed: ConsoleFeed;
  private started = false;
  private resolve: ((o: RunOutcome) => void) | undefined;
  private reject: ((e: unknown) => void) | undefined;

  constructor(private readonly machine: Machine, private readonly time: HostTime, options: RunLoopOptions = {}) {
    this.feed = new ConsoleFeed((bytes) => machine.receiveConsoleInput(bytes));
    this.budget = options.initialBudget ?? 20_000;
    this.targetNs = (options.targetSliceMs ?? 10) * 1e6;
  }

  /** Runs `fn` with the machine's locks held: on this loop, the machine runs on this thread, so directly. */
  locked<T>(fn: () => T): T {
    return fn();
  }

  /** A virtio completion arrived for a waiting hart: ends an idle wait now. */
  wakeHarts(): void {
    this.wake();
  }

  /** The machine as the monitor sees it: itself (it runs on this thread). */
  machineForMonitor(): Machine {
    return this.machine;
  }

  /** Starts running; the promise settles when the machine stops (rejects if a slice throws). */
  run(): Promise<RunOutcome> {
    return new Promise<RunOutcome>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
      // Keeps Node alive while the machine waits for input only (e.g. after stdin's EOF).
      this.keepAlive = setInterval(() => {}, 1 << 30);
      this.started = true;
      if (!this.pausedFlag) this.schedule();
    });
  }

  /** True between `pause` and `resume`. */
  get paused(): boolean {
    return this.pausedFlag;
  }

  /**
   * Stops running slices. Slices run synchronously on this thread, so none is in progress
   * when this is called: the machine is quiescent at once. Before `run`, the run starts paused.
   */
  pause(): Promise<void> {
    this.pausedFlag = true;
    this.machine.clocks.pause();
    if (this.immediate !== undefined) clearImmediate(this.immediate);
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.immediate = this.timer = undefined;
    return Promise.resolve();
  }

  /** Runs slices again after `pause` (the next slice is scheduled at once). */
  resume(): Promise<void> {
    if (!this.pausedFlag) return Promise.resolve();
    this.pausedFlag = false;
    this.machine.clocks.resume();
    if (this.started && !this.finished) this.schedule();
    return Promise.resolve();
  }

  /** Host input arrived: end an idle wait now. */
  wake(): void {
    if (this.finished || this.pausedFlag || !this.started || this.immediate !== undefined) return;
    this.schedule();
  }

  /** Stops the machine at the next slice boundary on the host's request. */
  stop(exitCode: number): void {
    this.finish({ cause: 'host-request', exitCode });
  }

  private schedule(): void {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.immediate === undefined) this.immediate = setImmediate(() => this.slice());
  }

  private finish(outcome: RunOutcome | undefined, error?: unknown): void {
    if (this.finished) return;
    this.finished = true;
    if (this.immediate !== undefined) clearImmediate(this.immediate);
    if (this.timer !== undefined) clearTimeout(this.timer);
    if (this.keepAlive !== undefined) clearInterval(this.keepAlive);
    this.immediate = this.timer = this.keepAlive = undefined;
    if (outcome !== undefined) this.resolve?.(outcome);
    else this.reject?.(error);
  }

  /** Console input: into the machine now as far as it has room, the rest between slices. */
  input(bytes: Uint8Array): void {
    if (this.finished) return;
    this.feed.push(bytes);
    this.wake();
  }

  private slice(): void {
    this.immediate = undefined;
    if (this.finished || this.pausedFlag) return;
    if (this.feed.pending > 0) this.feed.pump();
    let result;
    try {
      const t0 = this.time.monotonicNs();
      result = this.machine.runSlice(this.budget);
      if (result.kind === 'running') this.adapt(this.time.monotonicNs() - t0);
    } catch (e) {
      this.finish(undefined, e);
      return;
    }
    switch (result.kind) {
      case 'running':
        this.schedule();
        break;
      case 'idle': {
        if (!Number.isFinite(result.wakeAtHostNs)) break; // only input (wake) can end this wait
        const delayMs = (result.wakeAtHostNs - this.time.monotonicNs()) / 1e6;
        if (delayMs <= 0) this.schedule();
        else this.timer = setTimeout(() => this.schedule(), Math.min(Math.ceil(delayMs), MAX_TIMER_MS));
        break;
      }
      case 'shutdown':
        this.finish({ cause: result.cause, exitCode: result.exitCode });
        break;
    }
  }

  private adapt(elapsedNs: number): void {
    if (elapsedNs < this.targetNs / 2) this.budget = Math.min(MAX_BUDGET, this.budget * 2);
    else if (elapsedNs > this.targetNs * 2) this.budget = Math.max(MIN_BUDGET, Math.floor(this.budget / 2));
  }
}
