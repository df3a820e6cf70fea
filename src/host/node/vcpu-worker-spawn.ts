/**
 * Starts the vCPU worker thread, possibly early. A new worker spends most of its start-up
 * loading its modules (the CPU, the board, the devices); the program starts one with
 * {@link prestartVcpuWorker} before loading its own modules, so the two load side by side, and
 * the controller takes it with {@link takeVcpuWorker}. The worker waits for its
 * {@link VcpuWorkerData} as its first message (see vcpu-worker-main.ts), so the same worker
 * serves whatever machine the command line builds.
 */
import { Worker } from 'node:worker_threads';

const WORKER_URL = new URL('./vcpu-worker-main.js', import.meta.url);

interface SpareWorker {
  readonly worker: Worker;
  /** It failed or exited before it was taken (its 'error'/'exit' would reach no one). */
  failed: boolean;
  readonly onFail: () => void;
}

let spare: SpareWorker | undefined;

/**
 * Starts a vCPU worker now, for a later {@link takeVcpuWorker}. It does not keep the process
 * alive while nobody took it (a run without a vCPU thread just leaves it idle).
 */
export function prestartVcpuWorker(): void {
  if (spare !== undefined) return;
  const worker = new Worker(WORKER_URL);
  const s: SpareWorker = { worker, failed: false, onFail: () => { s.failed = true; } };
  worker.once('error', s.onFail);
  worker.once('exit', s.onFail);
  worker.unref();
  spare = s;
}

/**
 * A vCPU worker waiting for its data: the prestarted one if it is still alive, else a new one
 * (whose failures reach the caller's listeners, which it attaches at once).
 */
export function takeVcpuWorker(): Worker {
  const s = spare;
  spare = undefined;
  if (s === undefined || s.failed) {
    if (s !== undefined) void s.worker.terminate();
    return new Worker(WORKER_URL);
  }
  s.worker.off('error', s.onFail);
  s.worker.off('exit', s.onFail);
  s.worker.ref();
  return s.worker;
}
