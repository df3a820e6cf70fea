/**
 * A sequence-number futex condition variable over `CondVar.WORDS` int32 words of a
 * SharedArrayBuffer: [0] sequence, [1] sleeping waiters.
 *
 * wait() reads the sequence while holding the lock, releases the lock, sleeps while the
 * sequence is unchanged and retakes the lock. signal()/broadcast() bump the sequence, so a
 * wake-up between the release and the sleep is never lost. Wake-ups may be spurious (and a
 * signal may wake more than one waiter): always wait in a loop on a predicate.
 */
import { LockError } from './errors.js';
import type { Lockable } from './mutex.js';
import { currentThreadName, lockWaitLimit } from './thread-context.js';

const SEQ = 0;
const WAITERS = 1;

/** A condition variable usable with any {@link Lockable} (Mutex, BigLock, ReplayMutex). */
export class CondVar {
  /** Number of int32 words a CondVar needs. */
  static readonly WORDS = 2;
  /** Name for error messages. */
  readonly name: string;
  private readonly w: Int32Array;

  /**
   * @param words exactly `CondVar.WORDS` int32 words of a SharedArrayBuffer, shared by all threads.
   * @param name name for error messages.
   */
  constructor(words: Int32Array, name: string) {
    if (!(words.buffer instanceof SharedArrayBuffer)) {
      throw new LockError(`condvar '${name}': words must be a view of a SharedArrayBuffer`);
    }
    if (words.length !== CondVar.WORDS) {
      throw new LockError(`condvar '${name}': needs exactly ${CondVar.WORDS} words, got ${words.length}`);
    }
    this.w = words;
    this.name = name;
  }

  /** Allocates fresh zeroed words in a new SharedArrayBuffer. */
  static allocateWords(): Int32Array {
    return new Int32Array(new SharedArrayBuffer(CondVar.WORDS * 4));
  }

  /**
   * Releases `lock`, sleeps until signalled, retakes `lock`. Throws a LockError if the caller
   * does not hold `lock`, or if the thread's deadlock limit (setLockWaitLimit) passes.
   */
  wait(lock: Lockable): void {
    const limit = lockWaitLimit();
    if (!this.block(lock, limit)) {
      throw new LockError(`condvar '${this.name}': thread ${currentThreadName()} waited more than ${limit} ms `
        + `with '${lock.name}': possible deadlock (nobody signalled)`);
    }
  }

  /** Like wait() but returns false when `ms` passed without a wake-up (the lock is retaken). */
  waitWithTimeout(lock: Lockable, ms: number): boolean {
    return this.block(lock, ms);
  }

  /** Wakes at least one waiter, if any. */
  signal(): void {
    Atomics.add(this.w, SEQ, 1);
    if (Atomics.load(this.w, WAITERS) !== 0) Atomics.notify(this.w, SEQ, 1);
  }

  /** Wakes all waiters. */
  broadcast(): void {
    Atomics.add(this.w, SEQ, 1);
    if (Atomics.load(this.w, WAITERS) !== 0) Atomics.notify(this.w, SEQ);
  }

  private block(lock: Lockable, ms: number): boolean {
    if (!lock.heldByMe()) {
      throw new LockError(`condvar '${this.name}' waited on by thread ${currentThreadName()} without holding '${lock.name}'`);
    }
    const seq = Atomics.load(this.w, SEQ);
    Atomics.add(this.w, WAITERS, 1);
    let result: string;
    lock.unlock();
    try {
      result = Atomics.wait(this.w, SEQ, seq, ms);
    } finally {
      Atomics.sub(this.w, WAITERS, 1);
      lock.lock();
    }
    return result !== 'timed-out';
  }
}
