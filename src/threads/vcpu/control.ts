/**
 * The shared control block between the main thread and one vCPU thread (one SharedArrayBuffer
 * of int32 words, never machine state):
 *
 *   [0] state (see VcpuState)   [1] run wanted (1) or pause requested (0)
 *   [2] quit requested          [3] kick counter (bumped + notified to end an idle sleep)
 *   [4] system reset requested (done by the vCPU thread between sections)
 *   [5] console input waiting on the main thread (the UART's FIFO was full)
 *   [6] accept-input counter (bumped + notified by the vCPU thread when the UART made room)
 *   [7] doorbell counter (bumped + notified by the vCPU thread when a guest rang a virtio queue)
 *   [8] replay: a step limit is set (1) or not (0)   [9,10] the limit, low and high words
 *   [11] replay: limit-reached counter (bumped + notified when the vCPU parks at the limit)
 *   [12] system resets done by the vCPU thread (counter)
 */
import { VcpuError } from './errors.js';
import { VcpuState } from './vcpu-state.js';

const STATE = 0;
const RUN = 1;
const QUIT = 2;
const KICK = 3;
const RESET = 4;
const INPUT_WAITING = 5;
const ACCEPT_INPUT = 6;
const DOORBELL = 7;
const LIMIT_SET = 8;
const LIMIT_LO = 9;
const LIMIT_HI = 10;
const REACHED = 11;
const RESETS_DONE = 12;
/** Int32 words in a control block. */
export const VCPU_CONTROL_WORDS = 13;

/** One thread's view of a control block. */
export class VcpuControl {
  /** The shared words (send this to the worker). */
  readonly buffer: SharedArrayBuffer;
  /** The vCPU thread's state. */
  readonly state: VcpuState;
  private readonly w: Int32Array;

  /** A fresh control block: state created, running wanted. */
  static create(): VcpuControl {
    const c = new VcpuControl(new SharedArrayBuffer(VCPU_CONTROL_WORDS * 4));
    Atomics.store(c.w, RUN, 1);
    return c;
  }

  /** Maps an existing control block. */
  constructor(buffer: SharedArrayBuffer) {
    if (buffer.byteLength < VCPU_CONTROL_WORDS * 4) throw new VcpuError(`vCPU control block is ${buffer.byteLength} bytes, need ${VCPU_CONTROL_WORDS * 4}`);
    this.buffer = buffer;
    this.w = new Int32Array(buffer, 0, VCPU_CONTROL_WORDS);
    this.state = new VcpuState(this.w, STATE);
  }

  // ---- main thread -------------------------------------------------------------------------

  /** Asks the vCPU to pause at the end of its execution section. */
  requestPause(): void {
    Atomics.store(this.w, RUN, 0);
    Atomics.notify(this.w, RUN);
    this.kick();
  }

  /** Asks a paused vCPU to run again. */
  requestRun(): void {
    Atomics.store(this.w, RUN, 1);
    Atomics.notify(this.w, RUN);
    this.kick();
  }

  /** Asks the vCPU thread to finish. */
  requestQuit(): void {
    Atomics.store(this.w, QUIT, 1);
    Atomics.notify(this.w, RUN);
    this.kick();
  }

  /** Asks the vCPU thread to reset the machine between execution sections (also while paused). */
  requestReset(): void {
    Atomics.store(this.w, RESET, 1);
    Atomics.notify(this.w, RUN);
    this.kick();
  }

  /** Ends an idle sleep of the vCPU thread (after raising an interrupt, or with a request). */
  kick(): void {
    Atomics.add(this.w, KICK, 1);
    Atomics.notify(this.w, KICK);
  }

  /** Main thread: whether console input waits for room in the UART (see acceptInput). */
  setInputWaiting(waiting: boolean): void {
    Atomics.store(this.w, INPUT_WAITING, waiting ? 1 : 0);
  }

  /** Main thread: the accept-input counter, to wait on with waitAsync. */
  acceptInputValue(): number {
    return Atomics.load(this.w, ACCEPT_INPUT);
  }

  /** Main thread: the shared words and index of the accept-input counter (for waitAsync). */
  get acceptInputWord(): { readonly words: Int32Array; readonly index: number } {
    return { words: this.w, index: ACCEPT_INPUT };
  }

  /** Main thread: the shared words and index of the doorbell counter (for waitAsync). */
  get doorbellWord(): { readonly words: Int32Array; readonly index: number } {
    return { words: this.w, index: DOORBELL };
  }

  /**
   * Main thread (replay): the vCPU may run until the machine's instruction count is `icount`
   * and then parks (undefined: no limit). Set it only while the vCPU is parked or not started,
   * then kick.
   */
  setStepLimit(icount: number | undefined): void {
    if (icount === undefined) {
      Atomics.store(this.w, LIMIT_SET, 0);
      return;
    }
    this.w[LIMIT_LO] = icount % 2 ** 32 | 0;
    this.w[LIMIT_HI] = Math.floor(icount / 2 ** 32) | 0;
    Atomics.store(this.w, LIMIT_SET, 1);
  }

  /** Main thread: the limit-reached counter and its word (for waitAsync). */
  get reachedWord(): { readonly words: Int32Array; readonly index: number } {
    return { words: this.w, index: REACHED };
  }

  // ---- vCPU thread -------------------------------------------------------------------------

  /** The replay step limit (an instruction count), or undefined. */
  stepLimit(): number | undefined {
    if (Atomics.load(this.w, LIMIT_SET) === 0) return undefined;
    return (this.w[LIMIT_HI]! >>> 0) * 2 ** 32 + (this.w[LIMIT_LO]! >>> 0);
  }

  /** The vCPU parked at the step limit: wakes the main thread's replay driver. */
  reportLimitReached(): void {
    Atomics.add(this.w, REACHED, 1);
    Atomics.notify(this.w, REACHED);
  }

  /** A guest rang a virtio doorbell: wakes the main loop, which does the queue work. */
  ringDoorbell(): void {
    Atomics.add(this.w, DOORBELL, 1);
    Atomics.notify(this.w, DOORBELL);
  }

  /**
   * The UART made room for input (QEMU's qemu_chr_fe_accept_input): wakes the main thread when
   * it has input waiting. Cheap when it has none.
   */
  acceptInput(): void {
    if (Atomics.load(this.w, INPUT_WAITING) === 0) return;
    Atomics.add(this.w, ACCEPT_INPUT, 1);
    Atomics.notify(this.w, ACCEPT_INPUT);
  }

  /** True when a pause is requested. */
  pauseRequested(): boolean {
    return Atomics.load(this.w, RUN) === 0;
  }

  /** True when the thread must finish. */
  quitRequested(): boolean {
    return Atomics.load(this.w, QUIT) !== 0;
  }

  /** The kick counter; read it before deciding to sleep, pass it to {@link sleep}. */
  kickValue(): number {
    return Atomics.load(this.w, KICK);
  }

  /** Sleeps up to `ms` unless the kick counter moved past `seen` (blocking; vCPU thread only). */
  sleep(seen: number, ms: number): void {
    if (ms <= 0) return;
    Atomics.wait(this.w, KICK, seen, ms);
  }

  /** Takes a pending reset request (vCPU thread only). */
  takeResetRequest(): boolean {
    return Atomics.exchange(this.w, RESET, 0) !== 0;
  }

  /** The vCPU thread finished a requested reset (vCPU thread only). */
  reportResetDone(): void {
    Atomics.add(this.w, RESETS_DONE, 1);
  }

  /** Requested resets the vCPU thread has done (main thread: compare before and after a request). */
  resetsDone(): number {
    return Atomics.load(this.w, RESETS_DONE);
  }

  /** Blocks up to `ms` while a pause is requested and no quit or reset (vCPU thread only). */
  waitWhilePaused(ms: number): void {
    if (Atomics.load(this.w, RUN) === 0 && !this.quitRequested() && Atomics.load(this.w, RESET) === 0) Atomics.wait(this.w, RUN, 0, ms);
  }
}
