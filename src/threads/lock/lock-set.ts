/**
 * The machine's global locks in one SharedArrayBuffer: the BQL and the replay mutex. The main
 * thread creates the buffer and calls {@link initLocks}; each worker receives the buffer and
 * calls {@link attachLocks} with the same mode.
 *
 * Buffer layout (int32 words): [0..3] BQL, [4..7] replay mutex.
 */
import { BigLock } from './bql.js';
import { LockError } from './errors.js';
import { ReplayMutex, type ReplayMode } from './replay-mutex.js';

/** Int32 words in a lock-set buffer. */
export const LOCK_SET_WORDS = BigLock.WORDS + ReplayMutex.WORDS;

/** The global locks as seen from one thread. */
export interface LockSet {
  /** The shared words (send this to workers). */
  readonly buffer: SharedArrayBuffer;
  /** The big lock. */
  readonly bql: BigLock;
  /** The replay mutex (no-op in mode none). */
  readonly replay: ReplayMutex;
}

/** Allocates a zeroed buffer for a lock set. */
export function createLockBuffer(): SharedArrayBuffer {
  return new SharedArrayBuffer(LOCK_SET_WORDS * 4);
}

/** Maps the locks of `buffer` in the calling thread; takes nothing. */
export function attachLocks(buffer: SharedArrayBuffer, mode: ReplayMode): LockSet {
  if (buffer.byteLength < LOCK_SET_WORDS * 4) {
    throw new LockError(`attachLocks: lock buffer is ${buffer.byteLength} bytes, need ${LOCK_SET_WORDS * 4}`);
  }
  return {
    buffer,
    bql: new BigLock(new Int32Array(buffer, 0, BigLock.WORDS)),
    replay: new ReplayMutex(new Int32Array(buffer, BigLock.WORDS * 4, ReplayMutex.WORDS), mode),
  };
}

/**
 * Start-up on the main thread (vl.c: replay_init_locks(); qemu_mutex_lock_iothread()): maps the
 * locks, takes the replay mutex (record/play only) and then the BQL. The main thread returns
 * holding the BQL, and in record/play the replay mutex, until its first poll.
 */
export function initLocks(buffer: SharedArrayBuffer, mode: ReplayMode): LockSet {
  const set = attachLocks(buffer, mode);
  set.replay.startUp();
  set.bql.lock();
  return set;
}
