/**
 * The big QEMU lock (BQL, QEMU's iothread mutex): one fair Mutex, taken by the main loop
 * outside its poll and by vCPU threads only around MMIO/device access and between execution
 * sections. It ranks after the replay mutex (see lock-order.ts). Not recursive.
 */
import { LockError } from './errors.js';
import { checkLockOrder, heldLock, noteLockAcquired, noteLockReleased } from './lock-order.js';
import { Mutex, type Lockable } from './mutex.js';
import { currentThreadName } from './thread-context.js';

/** The BQL: a named fair Mutex whose holder is tracked by the per-thread lock-order checker. */
export class BigLock implements Lockable {
  /** Number of int32 words the BQL needs (those of a Mutex). */
  static readonly WORDS = Mutex.WORDS;
  /** Name for error messages (default `BQL`). */
  readonly name: string;
  /** The underlying mutex. */
  readonly mutex: Mutex;
  /** Diagnostic: acquisitions through this object (i.e. by the calling thread, objects are per thread). */
  acquisitions = 0;
  /**
   * Diagnostic: acquisitions through this object whose previous holder was another thread (the
   * ticket just before ours was not ours). With two threads, the other thread's count differs
   * by at most one.
   */
  handoffs = 0;
  /** The ticket that follows this thread's last one (0 before any acquisition). */
  private nextOwnTicket = 0;

  /** @param words `BigLock.WORDS` int32 words of a SharedArrayBuffer, shared by all threads. */
  constructor(words: Int32Array, name = 'BQL') {
    this.name = name;
    this.mutex = new Mutex(words, name);
  }

  /** Takes the BQL. Throws a LockError if the caller already holds it. */
  lock(): void {
    checkLockOrder('bql', this.name);
    this.mutex.lock();
    this.count();
    noteLockAcquired('bql', this, this.name);
  }

  /** Takes the BQL within `ms`; false on timeout. */
  lockWithTimeout(ms: number): boolean {
    checkLockOrder('bql', this.name);
    if (!this.mutex.lockWithTimeout(ms)) return false;
    this.count();
    noteLockAcquired('bql', this, this.name);
    return true;
  }

  private count(): void {
    const t = this.mutex.lastTicket;
    if (t !== this.nextOwnTicket) this.handoffs++;
    this.nextOwnTicket = (t + 1) | 0;
    this.acquisitions++;
  }

  /** Releases the BQL. Throws a LockError if the caller does not hold it. */
  unlock(): void {
    if (heldLock('bql') !== this) {
      throw new LockError(`${this.name} unlocked by thread ${currentThreadName()} which does not hold it`);
    }
    this.mutex.unlock();
    noteLockReleased('bql');
  }

  /** True when the calling thread holds the BQL (thread-local flag, like bql_locked()). */
  heldByMe(): boolean {
    return heldLock('bql') === this;
  }

  /** Throws a LockError unless the caller holds the BQL; `what` names the operation. */
  assertHeld(what: string): void {
    if (heldLock('bql') !== this) {
      throw new LockError(`${what} requires the ${this.name}, but thread ${currentThreadName()} does not hold it`);
    }
  }

  /** Throws a LockError if the caller holds the BQL; `what` names the operation. */
  assertNotHeld(what: string): void {
    if (heldLock('bql') === this) {
      throw new LockError(`${what} must not hold the ${this.name}, but thread ${currentThreadName()} does`);
    }
  }
}
