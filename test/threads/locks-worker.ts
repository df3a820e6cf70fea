// Worker side of test/threads/locks.test.ts. Loaded with
// new Worker(new URL('./locks-worker.js', import.meta.url), { workerData }).
// Importing this module from the main thread only brings in the layout constants.
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import {
  BigLock, CondVar, Mutex, attachLocks, executionSection, setCurrentThreadId, setLockWaitLimit,
  withBql, withReplayThenBql, type ReplayMode,
} from '../../src/threads/lock/index.js';

/** Word layout of the shared test buffer `buf`. */
export const W = {
  MUTEX: 0, // Mutex.WORDS words
  CV: 4, // CondVar.WORDS words
  CONTROL: 8, // release flag for 'hold'
  COUNTER: 9, // non-atomic counter for 'increment'
  READY: 10, // start barrier count
  GO: 11, // start barrier flag
  WAITING: 12, // condvar tests: waiters that reached the wait
  TOKENS: 13, // condvar signal test: tokens to consume
  DONE: 14, // condvar tests: woke / consumed
  FLAG: 15, // condvar broadcast flag
  TURN: 16, // ping-pong turn word: 0 main, 1 vcpu
  POS: 17, // ping-pong / fairness log position
  IN_SECTION: 18, // ping-pong: thread currently in a section (id + 1), 0 none
  OVERLAPS: 19, // ping-pong: overlapping sections seen
  PAUSE_REQ: 20,
  PAUSED: 21,
  SECTIONS: 22,
  WORDS: 32,
} as const;

/** Ping-pong log values. */
export const MAIN_RAN = 1;
export const VCPU_RAN = 2;

/** What the test passes to a worker. */
export interface LocksWorkerData {
  scenario: string;
  id: number;
  name: string;
  buf: SharedArrayBuffer;
  locks?: SharedArrayBuffer;
  mode?: ReplayMode;
  log?: SharedArrayBuffer;
  n?: number;
}

const LIMIT_MS = 8000;

function waitUntil(a: Int32Array, index: number, value: number, what: string): void {
  const deadline = Date.now() + LIMIT_MS;
  for (;;) {
    const v = Atomics.load(a, index);
    if (v === value) return;
    const remaining = deadline - Date.now();
    if (remaining <= 0) throw new Error(`worker timed out waiting for ${what}`);
    Atomics.wait(a, index, v, remaining);
  }
}

let sink = 0;
function spin(n: number): void {
  for (let i = 0; i < n; i++) sink = (sink * 31 + i) | 0;
}

function run(d: LocksWorkerData): unknown {
  setCurrentThreadId(d.id, d.name);
  setLockWaitLimit(LIMIT_MS);
  const a = new Int32Array(d.buf);
  const m = new Mutex(a.subarray(W.MUTEX, W.MUTEX + Mutex.WORDS), 'm');
  const cv = new CondVar(a.subarray(W.CV, W.CV + CondVar.WORDS), 'cv');
  const n = d.n ?? 0;
  switch (d.scenario) {
    case 'increment': {
      Atomics.add(a, W.READY, 1);
      waitUntil(a, W.GO, 1, 'go');
      for (let i = 0; i < n; i++) {
        m.lock();
        a[W.COUNTER] = a[W.COUNTER]! + 1; // deliberately not atomic
        m.unlock();
      }
      return null;
    }
    case 'fairness': {
      const log = new Int32Array(d.log!);
      Atomics.add(a, W.READY, 1);
      waitUntil(a, W.GO, 1, 'go');
      for (let i = 0; i < n; i++) {
        m.lock();
        const p = a[W.POS]!;
        log[p * 3] = d.id;
        log[p * 3 + 1] = m.lastTicket;
        log[p * 3 + 2] = m.lastAhead;
        a[W.POS] = p + 1;
        spin(300); // some work in the critical section so the threads really contend
        m.unlock();
        spin(100);
      }
      return null;
    }
    case 'hold': {
      m.lock();
      Atomics.store(a, W.READY, 1);
      Atomics.notify(a, W.READY);
      waitUntil(a, W.CONTROL, 1, 'release');
      m.unlock();
      return null;
    }
    case 'cv-consume': {
      m.lock();
      a[W.WAITING] = a[W.WAITING]! + 1;
      while (a[W.TOKENS] === 0) cv.wait(m);
      a[W.TOKENS] = a[W.TOKENS]! - 1;
      Atomics.add(a, W.DONE, 1);
      m.unlock();
      return null;
    }
    case 'cv-flag': {
      m.lock();
      a[W.WAITING] = a[W.WAITING]! + 1;
      while (a[W.FLAG] === 0) cv.wait(m);
      Atomics.add(a, W.DONE, 1);
      m.unlock();
      return null;
    }
    case 'order-violation': {
      const { bql, replay } = attachLocks(d.locks!, d.mode ?? 'record');
      bql.lock();
      try {
        replay.lock();
        return 'no error';
      } catch (e) {
        return (e as Error).message;
      } finally {
        bql.unlock();
      }
    }
    case 'pingpong-vcpu': {
      const { bql, replay } = attachLocks(d.locks!, d.mode ?? 'record');
      const log = new Int32Array(d.log!);
      for (let r = 0; r < n; r++) {
        waitUntil(a, W.TURN, 1, `turn ${r}`); // idle: no locks held
        // Between sections: replay mutex then BQL (check interrupts / exit requests).
        withReplayThenBql(bql, replay, () => undefined);
        executionSection(replay, () => {
          if (Atomics.exchange(a, W.IN_SECTION, d.id + 1) !== 0) Atomics.add(a, W.OVERLAPS, 1);
          const p = a[W.POS]!; // plain: protected by the replay mutex
          log[p] = VCPU_RAN;
          a[W.POS] = p + 1;
          withBql(bql, () => undefined); // an MMIO access
          Atomics.store(a, W.IN_SECTION, 0);
          Atomics.store(a, W.TURN, 0);
          Atomics.notify(a, W.TURN);
        });
      }
      return null;
    }
    case 'pause-vcpu': {
      const { bql, replay } = attachLocks(d.locks!, d.mode ?? 'record');
      const pauseCond = new CondVar(a.subarray(W.CV, W.CV + CondVar.WORDS), 'qemu_pause_cond');
      for (;;) {
        executionSection(replay, () => { a[W.SECTIONS] = a[W.SECTIONS]! + 1; });
        const stop = withReplayThenBql(bql, replay, () => {
          if (a[W.PAUSE_REQ] === 0) return false;
          Atomics.store(a, W.PAUSED, 1);
          pauseCond.broadcast();
          return true;
        });
        if (stop) return sink;
      }
    }
    case 'bql-hold-probe': {
      const bql = new BigLock(a.subarray(W.MUTEX, W.MUTEX + Mutex.WORDS));
      return bql.lockWithTimeout(100);
    }
    default:
      throw new Error(`unknown scenario ${d.scenario}`);
  }
}

if (!isMainThread && parentPort !== null && (workerData as LocksWorkerData | null)?.scenario !== undefined) {
  const port = parentPort;
  try {
    port.postMessage({ ok: true, result: run(workerData as LocksWorkerData) });
  } catch (e) {
    port.postMessage({ ok: false, error: (e as Error).message });
  }
}
