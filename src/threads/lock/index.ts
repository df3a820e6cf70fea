/** The lock layer: fair futex mutex, condition variable, BQL, replay mutex and their rules. */
export { LockError } from './errors.js';
export {
  MAIN_THREAD_ID, MAX_THREAD_ID, currentThreadId, currentThreadName, setCurrentThreadId,
  registerThreadName, threadName, setLockWaitLimit, lockWaitLimit,
} from './thread-context.js';
export { Mutex, type Lockable } from './mutex.js';
export { CondVar } from './condvar.js';
export { BigLock } from './bql.js';
export { ReplayMutex, type ReplayMode } from './replay-mutex.js';
export {
  LOCK_RANK, type LockClass, checkLockOrder, heldLock, heldLockNames, assertNoLocksHeld,
} from './lock-order.js';
export { LOCK_SET_WORDS, type LockSet, createLockBuffer, attachLocks, initLocks } from './lock-set.js';
export { releaseAroundWait, pauseAllSequence, withReplayThenBql, executionSection, withBql } from './sequences.js';
