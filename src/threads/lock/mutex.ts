/**
 * A fair (FIFO ticket) futex-style mutex over four int32 words of a SharedArrayBuffer, usable
 * from any thread that maps the same words.
 *
 * Word layout (`Mutex.WORDS` = 4, all zero initially = unlocked):
 *   [0] next ticket   [1] now serving   [2] owner (thread id + 1, 0 = none)   [3] waiters
 *
 * Uncontended lock: one Atomics.add (take a ticket) and one Atomics.load (compare with now
 * serving). Uncontended unlock: one Atomics.add (advance now serving) plus an Atomics.load of
 * the waiters count; Atomics.notify only when a thread sleeps. Contended: a short spin, then
 * Atomics.wait on the now-serving word. Tickets are served in order, so no thread starves: once
 * a thread has its ticket at most N-1 other acquisitions (N threads) happen before its own.
 *
 * Atomics.wait is allowed on Node's main thread but NOT on a browser's main thread: in a
 * browser the main loop must run in a worker.
 */
import { LockError } from './errors.js';
import { currentThreadId, currentThreadName, lockWaitLimit, threadName } from './thread-context.js';

const NEXT = 0;
const SERVING = 1;
const OWNER = 2;
const WAITERS = 3;
const SPIN = 64;

/** Anything a CondVar can wait with: a Mutex, the BQL, the replay mutex. */
export interface Lockable {
  /** Name used in error messages. */
  readonly name: string;
  /** Acquires the lock (blocking). */
  lock(): void;
  /** Releases the lock. */
  unlock(): void;
  /** True when the calling thread holds the lock. */
  heldByMe(): boolean;
}

/** A fair ticket mutex over `Mutex.WORDS` int32 words of a SharedArrayBuffer. */
export class Mutex implements Lockable {
  /** Number of int32 words a Mutex needs. */
  static readonly WORDS = 4;
  /** Name for error messages. */
  readonly name: string;
  /** Diagnostic: the ticket of this thread's last acquisition through this object. */
  lastTicket = 0;
  /** Diagnostic: how many tickets were ahead of this thread's when it took its last ticket. */
  lastAhead = 0;
  private readonly w: Int32Array;

  /**
   * @param words exactly `Mutex.WORDS` int32 words of a SharedArrayBuffer (zeroed = unlocked),
   *   the same words in every thread that shares the mutex.
   * @param name name for error messages.
   */
  constructor(words: Int32Array, name: string) {
    if (!(words.buffer instanceof SharedArrayBuffer)) {
      throw new LockError(`mutex '${name}': lock words must be a view of a SharedArrayBuffer`);
    }
    if (words.length !== Mutex.WORDS) {
      throw new LockError(`mutex '${name}': needs exactly ${Mutex.WORDS} words, got ${words.length}`);
    }
    this.w = words;
    this.name = name;
  }

  /** Allocates fresh zeroed lock words in a new SharedArrayBuffer. */
  static allocateWords(): Int32Array {
    return new Int32Array(new SharedArrayBuffer(Mutex.WORDS * 4));
  }

  /** Blocks until the calling thread holds the mutex (FIFO). Throws on recursive locking. */
  lock(): void {
    const me = currentThreadId() + 1;
    if (this.w[OWNER] === me) {
      throw new LockError(`mutex '${this.name}' locked recursively by thread ${currentThreadName()} (it already holds it)`);
    }
    const t = Atomics.add(this.w, NEXT, 1);
    const s = Atomics.load(this.w, SERVING);
    if (s !== t) this.waitForTurn(t, s);
    else this.lastAhead = 0;
    this.lastTicket = t;
    this.w[OWNER] = me;
  }

  /** Releases the mutex; throws if the calling thread does not hold it. */
  unlock(): void {
    const me = currentThreadId() + 1;
    const owner = this.w[OWNER]!;
    if (owner !== me) {
      throw new LockError(owner === 0
        ? `mutex '${this.name}' unlocked by thread ${currentThreadName()} but it is not held`
        : `mutex '${this.name}' unlocked by thread ${currentThreadName()} but it is held by thread ${threadName(owner - 1)}`);
    }
    this.w[OWNER] = 0;
    Atomics.add(this.w, SERVING, 1);
    if (Atomics.load(this.w, WAITERS) !== 0) Atomics.notify(this.w, SERVING);
  }

  /** Takes the mutex only if it is free and nobody is queued; never blocks. */
  tryLock(): boolean {
    const me = currentThreadId() + 1;
    if (this.w[OWNER] === me) {
      throw new LockError(`mutex '${this.name}' try-locked recursively by thread ${currentThreadName()} (it already holds it)`);
    }
    return this.tryTake(me);
  }

  /**
   * Like lock() but gives up after `ms` (returns false). For tests and deadlock diagnostics.
   * Not FIFO: it only takes the mutex when nobody is queued, so it can lose to ticket holders.
   */
  lockWithTimeout(ms: number): boolean {
    const me = currentThreadId() + 1;
    if (this.w[OWNER] === me) {
      throw new LockError(`mutex '${this.name}' locked recursively by thread ${currentThreadName()} (it already holds it)`);
    }
    if (this.tryTake(me)) return true;
    const deadline = Date.now() + ms;
    Atomics.add(this.w, WAITERS, 1);
    try {
      for (;;) {
        const s = Atomics.load(this.w, SERVING);
        if (Atomics.load(this.w, NEXT) === s && this.tryTake(me)) return true;
        const remaining = deadline - Date.now();
        if (remaining <= 0) return false;
        Atomics.wait(this.w, SERVING, s, remaining);
      }
    } finally {
      Atomics.sub(this.w, WAITERS, 1);
    }
  }

  /** True when the calling thread holds the mutex. */
  heldByMe(): boolean {
    return this.w[OWNER] === currentThreadId() + 1;
  }

  /** The id of the holding thread, or -1 (racy snapshot, for diagnostics). */
  ownerThreadId(): number {
    return (this.w[OWNER] ?? 0) - 1;
  }

  private tryTake(me: number): boolean {
    const s = Atomics.load(this.w, SERVING);
    if (Atomics.compareExchange(this.w, NEXT, s, (s + 1) | 0) !== s) return false;
    this.lastTicket = s;
    this.lastAhead = 0;
    this.w[OWNER] = me;
    return true;
  }

  private waitForTurn(t: number, first: number): void {
    this.lastAhead = (t - first) | 0;
    for (let i = 0; i < SPIN; i++) {
      if (Atomics.load(this.w, SERVING) === t) return;
    }
    const limit = lockWaitLimit();
    const deadline = limit === Infinity ? Infinity : Date.now() + limit;
    Atomics.add(this.w, WAITERS, 1);
    try {
      for (;;) {
        const s = Atomics.load(this.w, SERVING);
        if (s === t) return;
        const remaining = deadline === Infinity ? Infinity : deadline - Date.now();
        if (remaining <= 0) {
          const owner = this.ownerThreadId();
          throw new LockError(`mutex '${this.name}': thread ${currentThreadName()} waited more than ${limit} ms `
            + `(held by ${owner < 0 ? 'nobody yet' : `thread ${threadName(owner)}`}, ${(t - s) | 0} tickets ahead): `
            + 'possible deadlock; the mutex is unusable now (ticket abandoned)');
        }
        Atomics.wait(this.w, SERVING, s, remaining);
      }
    } finally {
      Atomics.sub(this.w, WAITERS, 1);
    }
  }
}
