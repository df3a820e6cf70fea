/**
 * Drives a machine with its harts in a vCPU worker thread (see vcpu-controller.ts) and the main
 * loop on Node's main thread; the same surface as RunLoop (`run`, `wake`, `stop`) plus `input`
 * (console bytes go into UART0 under the locks, on the main thread's view of the machine).
 *
 * Environment (tests and diagnostics):
 *  - REPLAYVM_LOCK_MODE=record: run the replay mutex in mode record (locks engaged, no log).
 */
import type { VcpuRrChannels } from './vcpu-protocol.js';
import type { Machine, TraceFlags } from '../../board/machine-api.js';
import type { CharBackend } from '../../devices/char-backend.js';
import type { HostTime } from '../../main-loop/clock.js';
import type { ReplayMode } from '../../threads/lock/index.js';
import type { MachineLoop, RunOutcome } from './run-loop.js';
import { ConsoleFeed } from './console-feed.js';
import { VcpuController } from './vcpu-controller.js';

/** Options of a {@link ThreadedRunLoop}. */
export interface ThreadedRunLoopOptions {
  /** Where guest console output goes (the host console backend). */
  readonly console: CharBackend;
  readonly trace: TraceFlags;
  /** Sink for `-d` lines from the vCPU thread. */
  readonly log?: (line: string) => void;
  /** Replay mutex mode; default from REPLAYVM_LOCK_MODE, else none. */
  readonly mode?: ReplayMode;
  readonly initialBudget?: number;
  readonly targetSliceMs?: number;
  /** A guest rang a virtio doorbell: schedule `processVirtioQueues` on the main loop. */
  readonly onDoorbell?: () => void;
  /** Record/replay mode and the vCPU-thread event mailbox. */
  readonly rr?: VcpuRrChannels;
}

/** Longest wait for room in UART0 before console input is retried anyway. */
const INPUT_RETRY_MS = 20;

function envMode(): ReplayMode {
  const v = process.env['REPLAYVM_LOCK_MODE'];
  return v === 'record' ? 'record' : 'none';
}

/** Runs one machine in a vCPU thread until it shuts down, `stop` is called, or the thread fails. */
export class ThreadedRunLoop implements MachineLoop {
  /** The vCPU thread (for stop/cont). */
  readonly controller: VcpuController;
  private finished = false;
  private resolve: ((o: RunOutcome) => void) | undefined;
  private reject: ((e: unknown) => void) | undefined;
  private retrying = false;
  /** Console input the machine has not taken yet. */
  private readonly feed: ConsoleFeed;
  private pausedFlag = false;
  private started = false;
  /** pause/resume run one after the other, each waiting for the vCPU thread's state. */
  private chain: Promise<void> = Promise.resolve();

  /** `time` is unused (the vCPU thread has its own host clock); kept for RunLoop's signature. */
  constructor(private readonly machine: Machine, _time: HostTime, options: ThreadedRunLoopOptions) {
    this.controller = new VcpuController({
      machine,
      trace: options.trace,
      mode: options.mode ?? envMode(),
      onOutput: (bytes) => options.console.write(bytes),
      ...(options.log !== undefined ? { onLog: options.log } : {}),
      onShutdown: (cause, exitCode) => void this.finish({ cause, exitCode }),
      onError: (e) => void this.finish(undefined, e),
      ...(options.onDoorbell !== undefined ? { onDoorbell: options.onDoorbell } : {}),
      ...(options.rr !== undefined ? { rr: options.rr } : {}),
      ...(options.initialBudget !== undefined ? { initialBudget: options.initialBudget } : {}),
      ...(options.targetSliceMs !== undefined ? { targetSliceMs: options.targetSliceMs } : {}),
    });
    this.feed = new ConsoleFeed((bytes) => this.controller.input(bytes, this.inputTap));
  }

  /** Where console input goes under the locks (default: the machine); a recorder logs it there. */
  private inputTap: ((bytes: Uint8Array) => number) | undefined;

  /** Routes console input through `tap` (called under the locks; returns the bytes taken). */
  setInputTap(tap: (bytes: Uint8Array) => number): void {
    this.inputTap = tap;
  }

  /** Runs `fn` under the BQL and the replay mutex (the vCPU thread is between execution sections). */
  locked<T>(fn: () => T): T {
    return this.controller.locked(fn);
  }

  /** A virtio completion arrived for a waiting hart: kicks the vCPU thread. */
  wakeHarts(): void {
    this.controller.kick();
  }

  /** Starts the vCPU thread; settles when the machine stops (rejects if the thread fails). */
  run(): Promise<RunOutcome> {
    return new Promise<RunOutcome>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
      this.started = true;
      this.chain = this.chain.then(() => this.controller.start(this.pausedFlag));
      this.chain.catch((e: unknown) => void this.finish(undefined, e));
    });
  }

  /** True between `pause` and `resume`. */
  get paused(): boolean {
    return this.pausedFlag;
  }

  /** Parks the vCPU thread; resolves once it is paused (at once before `run`, or after the end). */
  pause(): Promise<void> {
    this.pausedFlag = true;
    // Virtual time stands still while the VM is stopped (QEMU's cpu_disable_ticks), from the
    // moment the vCPU has parked; before `run` (-S), at once.
    const stopClocks = (): void => this.controller.locked(() => this.machine.clocks.pause());
    return this.serial(async () => {
      await this.controller.stop();
      stopClocks();
    }, stopClocks);
  }

  /** Lets the vCPU thread run again; resolves once it runs. */
  resume(): Promise<void> {
    this.pausedFlag = false;
    const startClocks = (): void => this.controller.locked(() => this.machine.clocks.resume());
    return this.serial(async () => {
      startClocks();
      await this.controller.cont();
    }, startClocks);
  }

  /** Runs `op` after the previous pause/resume; `idle` instead when no vCPU thread runs yet. */
  private serial(op: () => Promise<void>, idle: () => void): Promise<void> {
    const next = this.chain.then(async () => {
      if (this.finished || this.controller.state === 'stopped') return;
      if (!this.started) {
        idle();
        return;
      }
      await op();
    });
    this.chain = next.catch(() => {});
    return next;
  }

  /** Ends an idle wait of the vCPU thread now. */
  wake(): void {
    if (!this.finished) this.controller.kick();
  }

  /** Console input: into the machine (under the locks) and wakes the vCPU thread. */
  input(bytes: Uint8Array): void {
    if (this.finished) return;
    this.feed.push(bytes);
    this.scheduleRetry();
  }

  /**
   * The machine as the monitor should see it: `reset` is done by the vCPU thread (its hart
   * caches and pending requests live there) and console input goes through the locks; reads
   * (registers, memory) go to the shared state directly.
   */
  machineForMonitor(): Machine {
    const m = this.machine;
    const feed = this.feed;
    return {
      get config() { return m.config; },
      get dtb() { return m.dtb; },
      get arena() { return m.arena; },
      get ram() { return m.ram; },
      get harts() { return m.harts; },
      get clocks() { return m.clocks; },
      get totalSteps() { return m.totalSteps; },
      get pendingConsoleInput() { return (m.pendingConsoleInput ?? 0) + feed.pending; },
      runSlice: () => { throw new Error('runSlice: the machine runs in the vCPU thread'); },
      receiveConsoleInput: (bytes) => {
        this.input(bytes);
        return bytes.length;
      },
      reset: () => this.controller.requestReset(),
      stateHash: () => m.stateHash(),
      processVirtioQueues: () => m.processVirtioQueues(),
      virtioDoorbells: () => m.virtioDoorbells(),
      processVirtioQueue: (slot) => m.processVirtioQueue(slot),
      virtioNet: (slot) => m.virtioNet(slot),
    };
  }

  /** Stops the machine on the host's request. */
  stop(exitCode: number): void {
    void this.finish({ cause: 'host-request', exitCode });
  }

  /** Feeds held-back console input into UART0 as the guest makes room (see waitForInputRoom). */
  private scheduleRetry(): void {
    if (this.retrying || this.feed.pending === 0) return;
    this.retrying = true;
    const retry = (): boolean => {
      this.feed.pump();
      return this.feed.pending > 0;
    };
    void (async () => {
      try {
        while (!this.finished && this.feed.pending > 0) await this.controller.waitForInputRoom(retry, INPUT_RETRY_MS);
      } finally {
        this.retrying = false;
      }
    })();
  }

  private async finish(outcome: RunOutcome | undefined, error?: unknown): Promise<void> {
    if (this.finished) return;
    this.finished = true;
    try {
      await this.controller.quit();
    } catch (e) {
      if (outcome !== undefined) {
        outcome = undefined;
        error = e;
      }
    }
    if (outcome !== undefined) this.resolve?.(outcome);
    else this.reject?.(error);
  }
}
