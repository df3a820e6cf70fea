/**
 * The documented lock sequences of the replay design (seeds 000 and 001), as functions so
 * every caller follows them exactly. Each one checks its preconditions (LockError).
 */
import type { BigLock } from './bql.js';
import type { CondVar } from './condvar.js';
import { assertNoLocksHeld } from './lock-order.js';
import type { ReplayMutex } from './replay-mutex.js';

/**
 * The main loop's poll (seed 000, util/main-loop.c os_host_main_loop_wait):
 *   qemu_mutex_unlock_iothread(); replay_mutex_unlock();
 *   ... qemu_poll_ns(...) ...
 *   replay_mutex_lock(); qemu_mutex_lock_iothread();
 * Requires the BQL (and in record/play the replay mutex); runs the blocking `fn` with neither
 * held and returns holding both again, even when `fn` throws.
 */
export function releaseAroundWait<T>(bql: BigLock, replay: ReplayMutex, fn: () => T): T {
  bql.assertHeld('main loop wait');
  replay.assertHeld('main loop wait');
  bql.unlock();
  replay.unlock();
  try {
    return fn();
  } finally {
    replay.lock();
    bql.lock();
  }
}

/**
 * pause_all_vcpus (seed 000, cpus.c): called holding the BQL and the replay mutex.
 *   replay_mutex_unlock();   // "so any vCPU threads woken up can finish their replay tasks"
 *   while (!all_vcpus_paused()) { qemu_cond_wait(&qemu_pause_cond, &qemu_global_mutex); kick all; }
 *   qemu_mutex_unlock_iothread(); replay_mutex_lock(); qemu_mutex_lock_iothread();
 * Returns holding both again. The condvar wait honours setLockWaitLimit.
 */
export function pauseAllSequence(bql: BigLock, replay: ReplayMutex, pauseCond: CondVar,
  allPaused: () => boolean, kickAll: () => void): void {
  bql.assertHeld('pause_all_vcpus');
  replay.assertHeld('pause_all_vcpus');
  replay.unlock();
  while (!allPaused()) {
    pauseCond.wait(bql);
    kickAll();
  }
  bql.unlock();
  replay.lock();
  bql.lock();
}

/**
 * Replay mutex then BQL around `fn`, released in reverse order. Seed 001 (migration.c:
 * postcopy_start, migration_completion_precopy, bg_migration_thread: "replay_mutex_lock();
 * bql_lock(); ... bql_unlock(); replay_mutex_unlock();") and seed 000's vCPU thread between
 * execution sections (qemu_tcg_rr_cpu_thread_fn). The caller must hold neither lock.
 */
export function withReplayThenBql<T>(bql: BigLock, replay: ReplayMutex, fn: () => T): T {
  assertNoLocksHeld('replay-then-BQL section');
  replay.lock();
  try {
    bql.lock();
    try {
      return fn();
    } finally {
      bql.unlock();
    }
  } finally {
    replay.unlock();
  }
}

/**
 * A vCPU execution section (seed 000, cpus.c prepare_icount_for_run: replay_mutex_lock();
 * process_icount_data: replay_mutex_unlock()): the replay mutex for the whole section, without
 * the BQL. The caller must hold neither lock.
 */
export function executionSection<T>(replay: ReplayMutex, fn: () => T): T {
  assertNoLocksHeld('vCPU execution section');
  replay.lock();
  try {
    return fn();
  } finally {
    replay.unlock();
  }
}

/** The BQL around one MMIO/device access from a vCPU thread (the caller must not hold it). */
export function withBql<T>(bql: BigLock, fn: () => T): T {
  bql.lock();
  try {
    return fn();
  } finally {
    bql.unlock();
  }
}
