// Lock layer tests with real worker_threads: rules raise the documented LockError, mutual
// exclusion, FIFO fairness, condition variables, the record-mode ping-pong and mode none.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';
import {
  BigLock, CondVar, LockError, Mutex, ReplayMutex, createLockBuffer, initLocks, pauseAllSequence,
  registerThreadName, releaseAroundWait, setLockWaitLimit, heldLockNames, attachLocks,
} from '../../src/threads/lock/index.js';
import { MAIN_RAN, VCPU_RAN, W, type LocksWorkerData } from './locks-worker.js';

setLockWaitLimit(8000); // a deadlock on the test's main thread throws instead of hanging

const WORKER_TIMEOUT_MS = 15000;

interface Running {
  worker: Worker;
  done: Promise<unknown>;
}

function startWorker(data: LocksWorkerData): Running {
  const worker = new Worker(new URL('./locks-worker.js', import.meta.url), { workerData: data });
  const done = new Promise<unknown>((resolve, reject) => {
    const timer = setTimeout(() => {
      void worker.terminate();
      reject(new Error(`worker ${data.name} (${data.scenario}) timed out`));
    }, WORKER_TIMEOUT_MS);
    worker.once('message', (msg: { ok: boolean; result?: unknown; error?: string }) => {
      clearTimeout(timer);
      if (msg.ok) resolve(msg.result);
      else reject(new Error(`worker ${data.name}: ${msg.error}`));
    });
    worker.once('error', (e) => { clearTimeout(timer); reject(e); });
  });
  return { worker, done };
}

function online(r: Running): Promise<void> {
  return new Promise((resolve) => r.worker.once('online', () => resolve()));
}

async function pollUntil(pred: () => boolean, what: string, ms = 8000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 1));
  }
}

function sharedBuf(): { buf: SharedArrayBuffer; a: Int32Array; m: Mutex; cv: CondVar } {
  const buf = new SharedArrayBuffer(W.WORDS * 4);
  const a = new Int32Array(buf);
  return {
    buf, a,
    m: new Mutex(a.subarray(W.MUTEX, W.MUTEX + Mutex.WORDS), 'm'),
    cv: new CondVar(a.subarray(W.CV, W.CV + CondVar.WORDS), 'cv'),
  };
}

function go(a: Int32Array): void {
  Atomics.store(a, W.GO, 1);
  Atomics.notify(a, W.GO);
}

// ---- rules ---------------------------------------------------------------------------------

test('rule: replay mutex after the BQL throws, naming both locks and the thread (worker vcpu0)', async () => {
  const { buf } = sharedBuf();
  const msg = await startWorker({ scenario: 'order-violation', id: 1, name: 'vcpu0', buf, locks: createLockBuffer(), mode: 'record' }).done;
  assert.equal(msg, 'replay mutex taken while holding the BQL on thread vcpu0 (lock order is replay mutex, then BQL)');
});

test('rule: replay mutex after the BQL on the main thread; dropping replay while holding the BQL is allowed', () => {
  const { bql, replay } = attachLocks(createLockBuffer(), 'play');
  bql.lock();
  try {
    assert.throws(() => replay.lock(), (e: unknown) => e instanceof LockError
      && e.message === 'replay mutex taken while holding the BQL on thread main (lock order is replay mutex, then BQL)');
  } finally {
    bql.unlock();
  }
  replay.lock();
  bql.lock();
  replay.unlock(); // allowed (seed 000)
  assert.deepEqual(heldLockNames(), ['BQL']);
  bql.unlock();
  assert.deepEqual(heldLockNames(), []);
});

test('rule: recursive locking throws (replay mutex, BQL, Mutex)', () => {
  const { bql, replay } = attachLocks(createLockBuffer(), 'record');
  replay.lock();
  assert.throws(() => replay.lock(), /replay mutex locked recursively on thread main/);
  replay.unlock();
  bql.lock();
  assert.throws(() => bql.lock(), /BQL locked recursively on thread main/);
  bql.unlock();
  const m = new Mutex(Mutex.allocateWords(), 'plain');
  m.lock();
  assert.throws(() => m.lock(), /mutex 'plain' locked recursively by thread main/);
  assert.throws(() => m.tryLock(), /mutex 'plain' try-locked recursively by thread main/);
  m.unlock();
});

test('rule: unlock by a thread that does not hold the lock throws, naming lock and both threads', async () => {
  const { buf, a, m } = sharedBuf();
  registerThreadName(1, 'worker1');
  const w = startWorker({ scenario: 'hold', id: 1, name: 'worker1', buf });
  await pollUntil(() => Atomics.load(a, W.READY) === 1, 'worker1 to lock m');
  assert.throws(() => m.unlock(), (e: unknown) => e instanceof LockError
    && e.message === "mutex 'm' unlocked by thread main but it is held by thread worker1");
  assert.equal(m.heldByMe(), false);
  assert.equal(m.tryLock(), false);
  const t0 = Date.now();
  assert.equal(m.lockWithTimeout(50), false);
  assert.ok(Date.now() - t0 >= 40, 'lockWithTimeout returned early');
  Atomics.store(a, W.CONTROL, 1);
  Atomics.notify(a, W.CONTROL);
  await w.done;
  assert.equal(m.lockWithTimeout(1000), true);
  m.unlock();
  assert.throws(() => m.unlock(), /mutex 'm' unlocked by thread main but it is not held/);
  const { bql, replay } = attachLocks(createLockBuffer(), 'record');
  assert.throws(() => bql.unlock(), /BQL unlocked by thread main which does not hold it/);
  assert.throws(() => replay.unlock(), /replay mutex unlocked by thread main which does not hold it/);
  assert.throws(() => bql.assertHeld('device write'), /device write requires the BQL, but thread main does not hold it/);
  assert.throws(() => replay.assertHeld('replay_put_event'), /replay_put_event requires the replay mutex/);
});

test('rule: condvar wait without holding the mutex throws', () => {
  const { m, cv } = sharedBuf();
  assert.throws(() => cv.wait(m), (e: unknown) => e instanceof LockError
    && e.message === "condvar 'cv' waited on by thread main without holding 'm'");
  assert.throws(() => cv.waitWithTimeout(m, 10), /without holding 'm'/);
});

test('rule: a lock wait over the deadlock limit throws instead of hanging', async () => {
  const { buf, a, m } = sharedBuf();
  const w = startWorker({ scenario: 'hold', id: 1, name: 'worker1', buf });
  await pollUntil(() => Atomics.load(a, W.READY) === 1, 'worker1 to lock m');
  setLockWaitLimit(100);
  try {
    assert.throws(() => m.lock(), /mutex 'm': thread main waited more than 100 ms \(held by thread worker1, 1 tickets ahead\): possible deadlock/);
  } finally {
    setLockWaitLimit(8000);
    Atomics.store(a, W.CONTROL, 1);
    Atomics.notify(a, W.CONTROL);
  }
  await w.done;
});

// ---- mutual exclusion and fairness ---------------------------------------------------------

test('mutual exclusion: two workers x 100k non-atomic increments under the mutex', async () => {
  const { buf, a } = sharedBuf();
  const n = 100_000;
  const ws = [1, 2].map((id) => startWorker({ scenario: 'increment', id, name: `inc${id}`, buf, n }));
  await pollUntil(() => Atomics.load(a, W.READY) === 2, 'workers ready');
  go(a);
  await Promise.all(ws.map((w) => w.done));
  assert.equal(a[W.COUNTER], 2 * n);
});

test('fairness: 3 contending workers are served in ticket order, none waits for more than 2 others', async (t) => {
  const { buf, a } = sharedBuf();
  const n = 2000;
  const threads = 3;
  const log = new SharedArrayBuffer(threads * n * 3 * 4);
  const ws = [1, 2, 3].map((id) => startWorker({ scenario: 'fairness', id, name: `fair${id}`, buf, n, log }));
  await pollUntil(() => Atomics.load(a, W.READY) === threads, 'workers ready');
  go(a);
  await Promise.all(ws.map((w) => w.done));
  const l = new Int32Array(log);
  const total = threads * n;
  assert.equal(a[W.POS], total);
  let maxAhead = 0;
  let maxGap = 0;
  let contended = 0;
  const last = new Map<number, number>();
  const counts = new Map<number, number>();
  for (let k = 0; k < total; k++) {
    const id = l[k * 3]!;
    const ticket = l[k * 3 + 1]!;
    const ahead = l[k * 3 + 2]!;
    assert.equal(ticket, k, `acquisition ${k} was served ticket ${ticket}: not FIFO`);
    maxAhead = Math.max(maxAhead, ahead);
    if (ahead > 0) contended++;
    const prev = last.get(id);
    if (prev !== undefined) maxGap = Math.max(maxGap, k - prev - 1);
    last.set(id, k);
    counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  assert.ok(maxAhead <= threads - 1, `a thread waited behind ${maxAhead} others after taking its ticket`);
  for (const id of [1, 2, 3]) assert.equal(counts.get(id), n);
  t.diagnostic(`fairness: ${total} acquisitions, ${contended} contended, max others ahead after ticket = ${maxAhead}, `
    + `max others' acquisitions between two of one thread = ${maxGap}`);
});

// ---- condition variables -------------------------------------------------------------------

test('condvar: waitWithTimeout times out and returns holding the mutex', () => {
  const { m, cv } = sharedBuf();
  m.lock();
  const t0 = Date.now();
  assert.equal(cv.waitWithTimeout(m, 50), false);
  assert.ok(Date.now() - t0 >= 40);
  assert.equal(m.heldByMe(), true);
  m.unlock();
});

test('condvar: signal wakes one consumer per token across threads', async () => {
  const { buf, a, m, cv } = sharedBuf();
  const ws = [1, 2].map((id) => startWorker({ scenario: 'cv-consume', id, name: `cons${id}`, buf }));
  await pollUntil(() => Atomics.load(a, W.WAITING) === 2, 'both consumers waiting');
  for (const expected of [1, 2]) {
    m.lock();
    a[W.TOKENS] = 1;
    cv.signal();
    m.unlock();
    await pollUntil(() => Atomics.load(a, W.DONE) === expected, `consumer ${expected} done`);
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(Atomics.load(a, W.DONE), expected, 'one token woke more than one consumer to completion');
  }
  await Promise.all(ws.map((w) => w.done));
});

test('condvar: broadcast wakes all three waiters', async () => {
  const { buf, a, m, cv } = sharedBuf();
  const ws = [1, 2, 3].map((id) => startWorker({ scenario: 'cv-flag', id, name: `flag${id}`, buf }));
  await pollUntil(() => Atomics.load(a, W.WAITING) === 3, 'three waiters');
  m.lock();
  a[W.FLAG] = 1;
  cv.broadcast();
  m.unlock();
  await Promise.all(ws.map((w) => w.done));
  assert.equal(Atomics.load(a, W.DONE), 3);
});

// ---- the replay ping-pong ------------------------------------------------------------------

async function pingPong(rounds: number): Promise<{ log: Int32Array; overlaps: number; ms: number }> {
  const { buf, a } = sharedBuf();
  const locksBuf = createLockBuffer();
  const log = new SharedArrayBuffer(rounds * 2 * 4);
  const l = new Int32Array(log);
  // Start-up: the main thread takes the replay mutex, then the BQL, and keeps both until it
  // first blocks. The turn starts at the vCPU on purpose: it must still wait for main's first poll.
  const { bql, replay } = initLocks(locksBuf, 'record');
  Atomics.store(a, W.TURN, 1);
  const w = startWorker({ scenario: 'pingpong-vcpu', id: 1, name: 'vcpu0', buf, locks: locksBuf, mode: 'record', log, n: rounds });
  try {
    await online(w);
    const t0 = performance.now();
    for (let r = 0; r < rounds; r++) {
      // Main loop section: replay mutex + BQL held (timers, checkpoints, device events).
      assert.ok(replay.heldByMe() && bql.heldByMe());
      if (Atomics.exchange(a, W.IN_SECTION, 1) !== 0) Atomics.add(a, W.OVERLAPS, 1);
      const p = a[W.POS]!;
      l[p] = MAIN_RAN;
      a[W.POS] = p + 1;
      Atomics.store(a, W.IN_SECTION, 0);
      Atomics.store(a, W.TURN, 1);
      Atomics.notify(a, W.TURN);
      // The poll: drop BQL then replay, block, retake replay then BQL.
      releaseAroundWait(bql, replay, () => {
        const deadline = Date.now() + 8000;
        for (;;) {
          const v = Atomics.load(a, W.TURN);
          if (v === 0) return;
          if (Date.now() > deadline) throw new Error(`ping-pong round ${r}: vcpu0 never handed back`);
          Atomics.wait(a, W.TURN, v, 100);
        }
      });
    }
    const ms = performance.now() - t0;
    await w.done;
    return { log: l, overlaps: Atomics.load(a, W.OVERLAPS), ms };
  } finally {
    if (bql.heldByMe()) bql.unlock();
    if (replay.heldByMe()) replay.unlock();
    await w.done.catch(() => undefined);
  }
}

test('ping-pong: main loop and vcpu0 alternate strictly for 10k rounds in record mode, deterministically', async (t) => {
  const rounds = 10_000;
  const first = await pingPong(rounds);
  const second = await pingPong(rounds);
  for (const run of [first, second]) {
    assert.equal(run.overlaps, 0);
    for (let i = 0; i < 2 * rounds; i++) {
      if (run.log[i] !== (i % 2 === 0 ? MAIN_RAN : VCPU_RAN)) {
        assert.fail(`section ${i} was run by ${run.log[i] === MAIN_RAN ? 'main' : 'vcpu0'}: not strictly alternating`);
      }
    }
  }
  assert.deepEqual(first.log, second.log);
  t.diagnostic(`ping-pong: ${rounds} rounds in ${first.ms.toFixed(0)} ms / ${second.ms.toFixed(0)} ms `
    + `(${((first.ms * 1000) / rounds).toFixed(1)} us per round trip)`);
});

test('pause_all_vcpus sequence: main drops replay while waiting, then BQL/replay/BQL; vcpu0 pauses', async () => {
  const { buf, a } = sharedBuf();
  const locksBuf = createLockBuffer();
  const { bql, replay } = initLocks(locksBuf, 'record');
  const pauseCond = new CondVar(a.subarray(W.CV, W.CV + CondVar.WORDS), 'qemu_pause_cond');
  const w = startWorker({ scenario: 'pause-vcpu', id: 1, name: 'vcpu0', buf, locks: locksBuf, mode: 'record' });
  try {
    await online(w);
    a[W.PAUSE_REQ] = 1; // under the BQL
    pauseAllSequence(bql, replay, pauseCond, () => Atomics.load(a, W.PAUSED) === 1, () => undefined);
    assert.ok(replay.heldByMe() && bql.heldByMe(), 'pauseAllSequence must return holding replay and BQL');
    assert.deepEqual(heldLockNames(), ['replay mutex', 'BQL']);
    assert.ok(a[W.SECTIONS]! >= 1);
  } finally {
    if (bql.heldByMe()) bql.unlock();
    if (replay.heldByMe()) replay.unlock();
  }
  await w.done;
});

// ---- mode none and costs -------------------------------------------------------------------

test('mode none: replay lock/unlock are no-ops even while holding the BQL; nothing is held at start-up', (t) => {
  const locksBuf = createLockBuffer();
  const { bql, replay } = initLocks(locksBuf, 'none');
  try {
    assert.deepEqual(heldLockNames(), ['BQL']);
    assert.equal(replay.heldByMe(), false);
    replay.lock(); // while holding the BQL: no error in mode none
    replay.lock(); // not even recursion is checked
    replay.unlock();
    replay.unlock();
    replay.assertHeld('replay_put_event'); // never fires in mode none
    assert.equal(replay.destroyIfUnused(), true);
    assert.equal(replay.mutex.ownerThreadId(), -1);
    releaseAroundWait(bql, replay, () => assert.deepEqual(heldLockNames(), []));
    assert.ok(bql.heldByMe());
    const n = 10_000_000;
    for (let i = 0; i < 100_000; i++) { replay.lock(); replay.unlock(); }
    const t0 = performance.now();
    for (let i = 0; i < n; i++) { replay.lock(); replay.unlock(); }
    const ns = ((performance.now() - t0) * 1e6) / n;
    t.diagnostic(`mode none: replay lock+unlock ${ns.toFixed(2)} ns per pair (${n} pairs)`);
  } finally {
    bql.unlock();
  }
});

test('cost: uncontended Mutex, BQL and record-mode replay lock+unlock', (t) => {
  const m = new Mutex(Mutex.allocateWords(), 'bench');
  const bql = new BigLock(Mutex.allocateWords());
  const replay = new ReplayMutex(Mutex.allocateWords(), 'record');
  const n = 2_000_000;
  const measure = (lock: () => void, unlock: () => void): number => {
    for (let i = 0; i < 100_000; i++) { lock(); unlock(); }
    const t0 = performance.now();
    for (let i = 0; i < n; i++) { lock(); unlock(); }
    return ((performance.now() - t0) * 1e6) / n;
  };
  const mNs = measure(() => m.lock(), () => m.unlock());
  const bNs = measure(() => bql.lock(), () => bql.unlock());
  const rNs = measure(() => replay.lock(), () => replay.unlock());
  assert.equal(m.heldByMe() || bql.heldByMe() || replay.heldByMe(), false);
  t.diagnostic(`uncontended lock+unlock: Mutex ${mNs.toFixed(1)} ns, BQL ${bNs.toFixed(1)} ns, replay(record) ${rNs.toFixed(1)} ns`);
});
