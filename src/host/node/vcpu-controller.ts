/**
 * The main thread's side of the vCPU thread: creates the worker over the machine's shared
 * buffers, drains its console ring, injects console input under the locks (replay mutex, then
 * BQL), and pauses/resumes/ends it. `stop()`/`cont()` resolve only once the vCPU thread has
 * reached the state (paused / running).
 */
import type { Worker } from 'node:worker_threads';
import type { Machine, ShutdownCause, TraceFlags } from '../../board/machine-api.js';
import {
  createLockBuffer, initLocks, registerThreadName, withReplayThenBql, type LockSet, type ReplayMode,
} from '../../threads/lock/index.js';
import { NodeHostTime } from './host-time.js';
import { takeVcpuWorker } from './vcpu-worker-spawn.js';
import { ByteRing } from '../../threads/vcpu/byte-ring.js';
import { waitAsync } from '../../threads/vcpu/wait-async.js';
import { VcpuControl } from '../../threads/vcpu/control.js';
import { VcpuError } from '../../threads/vcpu/errors.js';
import type { VcpuStateName } from '../../threads/vcpu/vcpu-state.js';
import type { VcpuMessage, VcpuWorkerData, VcpuRrChannels } from './vcpu-protocol.js';

/** Construction options of a {@link VcpuController}. */
export interface VcpuControllerOptions {
  /** The machine on the main thread; the worker attaches to its buffers. */
  readonly machine: Machine;
  readonly trace: TraceFlags;
  /** Replay mutex mode (default none). */
  readonly mode?: ReplayMode;
  /** Guest console output, in order. */
  readonly onOutput: (bytes: Uint8Array) => void;
  /** `-d` lines from the vCPU thread. */
  readonly onLog?: (line: string) => void;
  /** The guest shut the machine down (console output before it has been delivered). */
  readonly onShutdown?: (cause: ShutdownCause, exitCode: number) => void;
  /** Record/replay mode and the vCPU-thread event mailbox (recording). */
  readonly rr?: VcpuRrChannels;
  /** A guest rang a virtio doorbell in the vCPU thread (called on the main thread, no locks held). */
  readonly onDoorbell?: () => void;
  /** The vCPU thread failed. */
  readonly onError?: (e: Error) => void;
  readonly initialBudget?: number;
  readonly targetSliceMs?: number;
  /** Console ring size in bytes (power of two, default 64 KiB). */
  readonly ringCapacity?: number;
  /** Longest wait of stop/cont/start/quit in ms (default 10 000). */
  readonly timeoutMs?: number;
}

/** Drives one vCPU worker thread. */
export class VcpuController {
  /** The global locks (main thread view). */
  readonly locks: LockSet;
  private readonly control = VcpuControl.create();
  private readonly ring: ByteRing;
  private worker: Worker | undefined;
  private exited: Promise<void> | undefined;
  private draining = false;
  private readonly timeoutMs: number;

  /** Start-up as vl.c: takes the locks (replay mutex in record/play, then BQL) until start(). */
  constructor(private readonly o: VcpuControllerOptions) {
    this.locks = initLocks(createLockBuffer(), o.mode ?? 'none');
    registerThreadName(1, 'vcpu0');
    this.ring = ByteRing.create(o.ringCapacity ?? 64 * 1024);
    this.timeoutMs = o.timeoutMs ?? 10_000;
  }

  /** The vCPU thread's state. */
  get state(): VcpuStateName {
    return this.control.state.get();
  }

  /** Creates the worker; resolves once it runs (paused: once it parked; or it already stopped). */
  async start(paused = false): Promise<void> {
    if (this.worker !== undefined) throw new VcpuError('vCPU controller: start() called twice');
    const m = this.o.machine;
    const data: VcpuWorkerData = {
      config: m.config,
      trace: this.o.trace,
      arena: m.arena.buffer,
      ram: m.ram.buffer,
      locks: this.locks.buffer,
      mode: this.locks.replay.mode,
      control: this.control.buffer,
      ring: this.ring.buffer,
      hostTimeOrigin: NodeHostTime.origin(),
      ...(this.o.rr !== undefined ? { rr: this.o.rr } : {}),
      ...(this.o.initialBudget !== undefined ? { initialBudget: this.o.initialBudget } : {}),
      ...(this.o.targetSliceMs !== undefined ? { targetSliceMs: this.o.targetSliceMs } : {}),
    };
    // The main thread leaves its start-up section: from now on it takes the locks per event.
    this.locks.bql.unlock();
    this.locks.replay.unlock();
    if (paused) this.control.requestPause();
    // Possibly started early (prestartVcpuWorker); it waits for its data as the first message.
    const worker = takeVcpuWorker();
    worker.postMessage(data);
    this.worker = worker;
    this.exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    worker.on('message', (msg: VcpuMessage) => this.onMessage(msg));
    worker.on('error', (e) => this.o.onError?.(e));
    void this.exited.then(() => {
      this.drain();
      this.draining = false;
      if (this.state !== 'stopped') this.o.onError?.(new VcpuError(`vCPU thread exited in state '${this.state}'`));
    });
    this.draining = true;
    void this.drainLoop();
    if (this.o.onDoorbell !== undefined) void this.doorbellLoop(this.o.onDoorbell);
    await this.control.state.waitFor((s) => (paused ? s === 'paused' || s === 'stopped' : s !== 'created'), this.timeoutMs);
  }

  private onMessage(msg: VcpuMessage): void {
    switch (msg.kind) {
      case 'ready':
        break;
      case 'log':
        this.o.onLog?.(msg.line);
        break;
      case 'shutdown':
        this.drain();
        this.o.onShutdown?.(msg.cause, msg.exitCode);
        break;
      case 'error': {
        const e = new VcpuError(`vCPU thread failed: ${msg.message}`);
        e.stack = msg.stack;
        this.o.onError?.(e);
        break;
      }
    }
  }

  private drain(): void {
    const b = this.ring.read();
    if (b.length > 0) this.o.onOutput(b);
  }

  /** Waits on the doorbell counter while the vCPU thread lives; reports each change. */
  private async doorbellLoop(onDoorbell: () => void): Promise<void> {
    const { words, index } = this.control.doorbellWord;
    let seen = Atomics.load(words, index);
    while (this.draining) {
      const r = waitAsync(words, index, seen, 100);
      if (r.async) await r.value;
      const now = Atomics.load(words, index);
      if (now !== seen) {
        seen = now;
        onDoorbell();
      }
    }
  }

  private async drainLoop(): Promise<void> {
    while (this.draining) {
      await this.ring.waitReadable(100);
      this.drain();
    }
  }

  /** Makes the running hart end its turn and ends an idle sleep. */
  kick(): void {
    for (const h of this.o.machine.harts) h.requestExit();
    this.control.kick();
  }

  /**
   * Runs `fn` on the main thread under the replay mutex and the BQL, taken in that order (or
   * under the start-up locks the main thread still holds before start()).
   */
  locked<T>(fn: () => T): T {
    if (this.locks.bql.heldByMe()) return fn();
    return withReplayThenBql(this.locks.bql, this.locks.replay, fn);
  }

  /**
   * Console input: into the machine under the replay mutex and the BQL, then wakes the vCPU.
   * Returns how many bytes the machine took.
   */
  input(bytes: Uint8Array, deliver: (bytes: Uint8Array) => number = (b) => this.o.machine.receiveConsoleInput(b)): number {
    const n = this.locked(() => deliver(bytes));
    this.control.kick();
    return n;
  }

  /**
   * Console input is held back (the machine's input ring was full): calls `retry` (which offers
   * it again and says whether some is still held back), then waits up to `timeoutMs` for the
   * vCPU thread to report room (its guest read UART0's receiver).
   */
  async waitForInputRoom(retry: () => boolean, timeoutMs: number): Promise<void> {
    const seen = this.control.acceptInputValue();
    this.control.setInputWaiting(true);
    try {
      // Retry after raising the flag: room made before it was raised would go unreported.
      if (!retry()) return;
      const { words, index } = this.control.acceptInputWord;
      const r = waitAsync(words, index, seen, timeoutMs);
      if (r.async) await r.value;
    } finally {
      this.control.setInputWaiting(false);
    }
  }

  /** Replay: the vCPU runs up to instruction count `icount`, then parks (undefined: no limit). */
  setStepLimit(icount: number | undefined): void {
    this.control.setStepLimit(icount);
    this.control.kick();
  }

  /** Replay: the count of the vCPU's limit reports (read it before testing whether to wait). */
  limitReports(): number {
    const { words, index } = this.control.reachedWord;
    return Atomics.load(words, index);
  }

  /**
   * Replay: resolves when the vCPU reports it parked at its step limit (the report count moved
   * on from `seen`, default: its value now), or after `timeoutMs`.
   */
  async waitLimitReached(timeoutMs: number, seen = this.limitReports()): Promise<void> {
    const { words, index } = this.control.reachedWord;
    const r = waitAsync(words, index, seen, timeoutMs);
    if (r.async) await r.value;
  }

  /** Replay: wakes a driver waiting in waitLimitReached at once (the run ended). */
  wakeLimitWaiters(): void {
    const { words, index } = this.control.reachedWord;
    Atomics.add(words, index, 1);
    Atomics.notify(words, index);
  }

  /** System reset, done by the vCPU thread at its next section boundary (also while paused). */
  requestReset(): void {
    this.control.requestReset();
    if (this.state === 'running') this.kick();
  }

  /**
   * Replay: a system reset by the vCPU thread, parked at the step limit; resolves once it is
   * done (the vCPU parks at the limit again right after, which wakes this wait).
   */
  async resetAtLimit(): Promise<void> {
    const before = this.control.resetsDone();
    this.requestReset();
    this.kick();
    for (;;) {
      const seen = this.limitReports();
      if (this.control.resetsDone() !== before) return;
      if (this.state === 'stopped' || this.state === 'stopping') throw new VcpuError('vCPU reset: the vCPU thread stopped first');
      await this.waitLimitReached(200, seen);
    }
  }

  /** Pauses the vCPU; resolves once it is paused (rejects if it stopped instead). */
  async stop(): Promise<void> {
    this.control.requestPause();
    this.kick();
    const s = await this.control.state.waitFor((x) => x === 'paused' || x === 'stopped', this.timeoutMs);
    if (s !== 'paused') throw new VcpuError(`vCPU stop: the vCPU thread is ${s}`);
  }

  /** Resumes the vCPU; resolves once it runs again (rejects if it stopped instead). */
  async cont(): Promise<void> {
    this.control.requestRun();
    const s = await this.control.state.waitFor((x) => x === 'running' || x === 'stopped', this.timeoutMs);
    if (s !== 'running') throw new VcpuError(`vCPU cont: the vCPU thread is ${s}`);
  }

  /** Ends the vCPU thread; resolves once the worker exited (terminated after the timeout). */
  async quit(): Promise<void> {
    this.control.requestQuit();
    // Kicking the harts writes their signal words (machine state): only while the vCPU may run.
    if (this.state === 'running' || this.state === 'paused') this.kick();
    else this.control.kick();
    const w = this.worker;
    if (w === undefined || this.exited === undefined) return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timedOut = new Promise<boolean>((r) => { timer = setTimeout(() => r(true), this.timeoutMs); });
    const done = await Promise.race([this.exited.then(() => false), timedOut]);
    clearTimeout(timer);
    if (done) await w.terminate();
    this.drain();
  }
}
