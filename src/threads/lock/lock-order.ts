/**
 * The lock-order checker: per thread (module state is thread-local under worker_threads), which
 * of the ranked global locks the thread holds. Order: the replay mutex (rank 1) before the BQL
 * (rank 2). Taking a lock while holding one of equal or higher rank is an error: equal rank is
 * a recursive lock, higher rank is an order violation (seed 000: "you cannot take the
 * replay_mutex while holding the BQL"). Releasing is allowed in any order (seed 000: "you can
 * drop the replay_lock while holding the BQL").
 *
 * This is also what answers "held by me" for the BQL and the replay mutex, like QEMU's
 * thread-local `iothread_locked` / `replay_locked` flags: a plain thread-local read.
 */
import { LockError } from './errors.js';
import { currentThreadName } from './thread-context.js';

/** The ranked global locks, in lock order. */
export type LockClass = 'replay' | 'bql';

/** Lock order: a lock may only be taken while holding locks of a strictly lower rank. */
export const LOCK_RANK: Readonly<Record<LockClass, number>> = { replay: 1, bql: 2 };

const CLASSES: readonly LockClass[] = ['replay', 'bql'];

// Thread-local: the lock object and name held per class (no allocation on the hot path).
const heldObj: Record<LockClass, object | undefined> = { replay: undefined, bql: undefined };
const heldName: Record<LockClass, string> = { replay: '', bql: '' };

/**
 * Throws a LockError if the calling thread may not take a lock of class `cls` named `name` now:
 * it already holds one (not recursive), or holds a lock that comes later in the lock order.
 */
export function checkLockOrder(cls: LockClass, name: string): void {
  if (heldObj[cls] !== undefined) {
    throw new LockError(`${name} locked recursively on thread ${currentThreadName()} `
      + `(it already holds ${heldName[cls]}; it is not recursive)`);
  }
  if (cls === 'replay' && heldObj.bql !== undefined) {
    const h = heldName.bql;
    throw new LockError(`${name} taken while holding the ${h} on thread ${currentThreadName()} (lock order is ${name}, then ${h})`);
  }
}

/** Records that the calling thread now holds `lock` (class `cls`). */
export function noteLockAcquired(cls: LockClass, lock: object, name: string): void {
  heldObj[cls] = lock;
  heldName[cls] = name;
}

/** Records that the calling thread released its lock of class `cls`. */
export function noteLockReleased(cls: LockClass): void {
  heldObj[cls] = undefined;
}

/** The lock object of class `cls` the calling thread holds, or undefined. */
export function heldLock(cls: LockClass): object | undefined {
  return heldObj[cls];
}

/** Names of the ranked locks the calling thread holds, in lock order. */
export function heldLockNames(): string[] {
  const out: string[] = [];
  for (const c of CLASSES) {
    if (heldObj[c] !== undefined) out.push(heldName[c]);
  }
  return out;
}

/** Throws a LockError naming the held locks if the calling thread holds any ranked lock. */
export function assertNoLocksHeld(what: string): void {
  const names = heldLockNames();
  if (names.length > 0) {
    throw new LockError(`${what} on thread ${currentThreadName()} must hold no locks but holds ${names.join(' and ')}`);
  }
}
