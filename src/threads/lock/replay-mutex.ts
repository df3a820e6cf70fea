/**
 * The replay mutex (QEMU's replay_mutex, seed 000): held for a whole execution section by the
 * vCPU thread and for the main loop outside its poll, so that the event log and the machine
 * move in a deterministic ping-pong between the two threads.
 *
 * Rules (each checked, LockError):
 *  - lock(): not while holding the BQL (lock order is replay mutex, then BQL); not recursive.
 *  - unlock(): only by the holder; dropping it while holding the BQL is allowed.
 *
 * Mode `none` (no record/replay): every operation is a no-op costing one branch; nothing is
 * ever held, `heldByMe()` answers false and `assertHeld()` never fires (QEMU only asserts
 * replay_mutex_locked() on record/play paths). Mode is fixed per object; every thread must
 * construct its ReplayMutex with the same mode.
 */
import { LockError } from './errors.js';
import { checkLockOrder, heldLock, noteLockAcquired, noteLockReleased } from './lock-order.js';
import { Mutex, type Lockable } from './mutex.js';
import { currentThreadId, currentThreadName, MAIN_THREAD_ID, threadName } from './thread-context.js';

/** Record/replay mode. */
export type ReplayMode = 'none' | 'record' | 'play';

/** The replay mutex; a no-op in mode `none`. */
export class ReplayMutex implements Lockable {
  /** Number of int32 words the replay mutex needs (those of a Mutex). */
  static readonly WORDS = Mutex.WORDS;
  /** Name for error messages (default `replay mutex`). */
  readonly name: string;
  /** The mode this object was built for. */
  readonly mode: ReplayMode;
  /** The underlying mutex (never touched in mode none). */
  readonly mutex: Mutex;
  private readonly active: boolean;

  /** @param words `ReplayMutex.WORDS` int32 words of a SharedArrayBuffer, shared by all threads. */
  constructor(words: Int32Array, mode: ReplayMode, name = 'replay mutex') {
    if (mode !== 'none' && mode !== 'record' && mode !== 'play') {
      throw new LockError(`${name}: unknown replay mode '${String(mode)}'`);
    }
    this.name = name;
    this.mode = mode;
    this.active = mode !== 'none';
    this.mutex = new Mutex(words, name);
  }

  /** Takes the replay mutex (no-op in mode none). Throws if the caller holds the BQL or it already. */
  lock(): void {
    if (!this.active) return;
    checkLockOrder('replay', this.name);
    this.mutex.lock();
    noteLockAcquired('replay', this, this.name);
  }

  /** Releases the replay mutex (no-op in mode none). Throws if the caller does not hold it. */
  unlock(): void {
    if (!this.active) return;
    if (heldLock('replay') !== this) {
      throw new LockError(`${this.name} unlocked by thread ${currentThreadName()} which does not hold it`);
    }
    this.mutex.unlock();
    noteLockReleased('replay');
  }

  /** Thread-local "held by me" (QEMU replay_mutex_locked()); always false in mode none. */
  heldByMe(): boolean {
    return this.active && heldLock('replay') === this;
  }

  /** Throws a LockError unless the caller holds the replay mutex; never fires in mode none. */
  assertHeld(what: string): void {
    if (this.active && heldLock('replay') !== this) {
      throw new LockError(`${what} requires the ${this.name}, but thread ${currentThreadName()} does not hold it`);
    }
  }

  /**
   * Start-up (QEMU replay_init_locks, vl.c): on the main thread, before it takes the BQL. In
   * record/play the main thread takes the replay mutex and keeps it until it first blocks (the
   * main loop's poll, see releaseAroundWait). In mode none nothing is taken.
   */
  startUp(): void {
    if (currentThreadId() !== MAIN_THREAD_ID) {
      throw new LockError(`${this.name}: start-up on thread ${currentThreadName()}, expected the main thread`);
    }
    this.lock();
  }

  /**
   * QEMU replay_mutex_destroy: drop the replay mutex when record/replay is not used, without the
   * BQL check. Because this design never takes it in mode none, in mode none this only checks
   * that no thread holds the lock words (a thread built with another mode would) and returns
   * true; in record/play it does nothing and returns false.
   */
  destroyIfUnused(): boolean {
    if (this.active) return false;
    const owner = this.mutex.ownerThreadId();
    if (owner >= 0) {
      throw new LockError(`${this.name}: mode is none on thread ${currentThreadName()} but thread ${threadName(owner)} `
        + 'holds the lock words (threads disagree about the replay mode)');
    }
    return true;
  }
}
