/**
 * Per-thread identity for the lock layer. Module-level state is per thread under
 * worker_threads (each worker has its own module instances), so this is thread-local storage.
 *
 * Ids: the main (main-loop) thread is 0, vCPU threads are 1, 2, ... Each worker must call
 * {@link setCurrentThreadId} before touching a lock; a thread that never does is thread 0.
 * Lock owner words store `id + 1` (0 means "not held").
 *
 * Names are kept in a thread-local registry used only for error messages; a thread that wants
 * to name another thread in messages calls {@link registerThreadName} (unknown ids print as
 * `thread <id>`).
 */
import { LockError } from './errors.js';

/** Id of the main (main-loop) thread. */
export const MAIN_THREAD_ID = 0;
/** Largest thread id (owner words hold id + 1 in an int32). */
export const MAX_THREAD_ID = 0x3fff_ffff;

let myId = MAIN_THREAD_ID;
let myName = 'main';
const names = new Map<number, string>([[MAIN_THREAD_ID, 'main']]);
let waitLimitMs = Infinity;

/** The calling thread's id (0 on the main thread unless changed). */
export function currentThreadId(): number {
  return myId;
}

/** The calling thread's name, for messages. */
export function currentThreadName(): string {
  return myName;
}

/** Sets the calling thread's id and name (call first thing in a worker: vCPU 0 is id 1). */
export function setCurrentThreadId(id: number, name: string): void {
  if (!Number.isInteger(id) || id < 0 || id > MAX_THREAD_ID) {
    throw new LockError(`setCurrentThreadId: id ${id} for thread '${name}' is not an integer in 0..${MAX_THREAD_ID}`);
  }
  myId = id;
  myName = name;
  names.set(id, name);
}

/** Records the name of another thread so this thread's error messages can name it. */
export function registerThreadName(id: number, name: string): void {
  names.set(id, name);
}

/** The name registered for `id` in this thread, or `thread <id>`. */
export function threadName(id: number): string {
  return names.get(id) ?? `thread ${id}`;
}

/**
 * Sets this thread's deadlock limit: a blocking `Mutex.lock()` or `CondVar.wait()` that waits
 * longer than `ms` throws a LockError instead of blocking forever. Default Infinity. Meant for
 * tests and diagnostics: a mutex whose lock() timed out is unusable afterwards (its ticket is
 * abandoned), which is acceptable because the situation is already a deadlock.
 */
export function setLockWaitLimit(ms: number): void {
  if (!(ms > 0)) throw new LockError(`setLockWaitLimit: limit ${ms} ms on thread ${myName} must be > 0`);
  waitLimitMs = ms;
}

/** This thread's deadlock limit in ms (Infinity unless set). */
export function lockWaitLimit(): number {
  return waitLimitMs;
}
