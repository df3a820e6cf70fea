/**
 * The one error class of the lock layer. Every lock rule violation (lock order, recursion,
 * unlock by a thread that does not hold the lock, waiting on a condition variable without its
 * mutex, a wait that exceeded the deadlock limit) raises a LockError whose message names the
 * lock(s) involved and the calling thread.
 */

/** Raised when a lock rule is broken; the message names the lock(s) and the thread. */
export class LockError extends Error {
  override name = 'LockError';
}
