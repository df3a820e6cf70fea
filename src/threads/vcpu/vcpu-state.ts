/**
 * The vCPU thread's life cycle as an explicit state machine over one shared int32 word, so the
 * main thread can observe (and wait for) the state the vCPU thread sets:
 *
 *   created -> running | stopping
 *   running -> paused | stopping
 *   paused  -> running | stopping
 *   stopping -> stopped
 *
 * Only the vCPU thread transitions; any other transition throws a VcpuError.
 */
import { VcpuError } from './errors.js';
import { waitAsync } from './wait-async.js';

/** The states of a vCPU thread. */
export type VcpuStateName = 'created' | 'running' | 'paused' | 'stopping' | 'stopped';

const NAMES: readonly VcpuStateName[] = ['created', 'running', 'paused', 'stopping', 'stopped'];

const ALLOWED: Readonly<Record<VcpuStateName, readonly VcpuStateName[]>> = {
  created: ['running', 'stopping'],
  running: ['paused', 'stopping'],
  paused: ['running', 'stopping'],
  stopping: ['stopped'],
  stopped: [],
};

/** True when `from -> to` is a valid transition. */
export function isValidTransition(from: VcpuStateName, to: VcpuStateName): boolean {
  return ALLOWED[from].includes(to);
}

/** The state word of one vCPU thread, as seen by either thread. */
export class VcpuState {
  /** @param words an Int32Array whose element `index` is the state word (0 = created). */
  constructor(private readonly words: Int32Array, private readonly index = 0) {
    const code = Atomics.load(words, index);
    if (NAMES[code] === undefined) throw new VcpuError(`vCPU state word holds ${code}, not a state`);
  }

  /** The current state. */
  get(): VcpuStateName {
    return NAMES[Atomics.load(this.words, this.index)] ?? 'stopped';
  }

  /** Moves to `to` and wakes waiters; throws a VcpuError on an invalid transition. */
  transition(to: VcpuStateName): void {
    const from = this.get();
    if (!isValidTransition(from, to)) throw new VcpuError(`vCPU state: invalid transition ${from} -> ${to}`);
    Atomics.store(this.words, this.index, NAMES.indexOf(to));
    Atomics.notify(this.words, this.index);
  }

  /**
   * Resolves with the state once `accept(state)` holds, without blocking the thread
   * (Atomics.waitAsync); rejects with a VcpuError after `timeoutMs`.
   */
  async waitFor(accept: (s: VcpuStateName) => boolean, timeoutMs: number): Promise<VcpuStateName> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const code = Atomics.load(this.words, this.index);
      const s = NAMES[code] ?? 'stopped';
      if (accept(s)) return s;
      const left = deadline - Date.now();
      if (left <= 0) throw new VcpuError(`vCPU state: still '${s}' after ${timeoutMs} ms`);
      const r = waitAsync(this.words, this.index, code, Math.min(left, 100));
      if (r.async) await r.value;
    }
  }
}
