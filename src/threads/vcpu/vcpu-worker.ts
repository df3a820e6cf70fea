/**
 * The vCPU thread's loop (seed 000, qemu_tcg_rr_cpu_thread_fn), host-independent: each
 * execution section holds the replay mutex (no-op in mode none) while `runSlice` runs; the
 * machine itself takes the BQL only around device access. Between sections it honours the
 * main thread's requests (pause -> state paused until resumed; quit -> stopped) and, when
 * every hart is idle, sleeps on the kick word until the next timer event or a kick.
 */
import type { Machine, SliceResult } from '../../board/machine-api.js';
import type { HostTime } from '../../main-loop/clock.js';
import { executionSection, withReplayThenBql, type LockSet } from '../lock/index.js';
import type { VcpuControl } from './control.js';

/** What the vCPU loop needs. */
export interface VcpuLoopDeps {
  /** The machine, attached to the shared buffers, with `MachineHost.bql` set. */
  readonly machine: Machine;
  readonly locks: LockSet;
  readonly control: VcpuControl;
  readonly time: HostTime;
  /** Called after every execution section, holding no lock (e.g. flush console output). */
  readonly afterSection?: () => void;
  /**
   * Record/replay: the vCPU thread's event mailbox is filling up; the loop waits (holding no
   * lock) until the main thread has drained it.
   */
  readonly backlogged?: () => boolean;
  /** A requested system reset was done at instruction `icount` (called holding the replay mutex and the BQL). */
  readonly onReset?: (icount: number) => void;
  /** The guest asked to stop the machine; the loop ends after this. */
  readonly onShutdown: (result: Extract<SliceResult, { kind: 'shutdown' }>) => void;
  /** Steps in the first slice (default 20 000). */
  readonly initialBudget?: number;
  /** Host time one section should take, in ms (default 10). */
  readonly targetSliceMs?: number;
}

const MIN_BUDGET = 1_000;
const MAX_BUDGET = 8_000_000;
/** Longest single sleep, so requests are seen even if a notify is missed. */
const MAX_SLEEP_MS = 500;

/** Runs the vCPU loop until quit or guest shutdown; the state word ends in `stopped`. */
export function runVcpuLoop(d: VcpuLoopDeps): void {
  const { machine, control, time } = d;
  const state = control.state;
  const targetNs = (d.targetSliceMs ?? 10) * 1e6;
  let budget = d.initialBudget ?? 20_000;
  // A system reset requested by the main thread (monitor), between sections: replay, then BQL.
  const resetIfRequested = (): void => {
    if (!control.takeResetRequest()) return;
    withReplayThenBql(d.locks.bql, d.locks.replay, () => {
      machine.reset();
      d.onReset?.(machine.totalSteps);
    });
    control.reportResetDone();
  };
  state.transition('running');
  try {
    while (!control.quitRequested()) {
      resetIfRequested();
      if (control.pauseRequested()) {
        state.transition('paused');
        while (control.pauseRequested() && !control.quitRequested()) {
          control.waitWhilePaused(MAX_SLEEP_MS);
          resetIfRequested();
        }
        if (control.quitRequested()) break;
        state.transition('running');
        continue;
      }
      const seenKick = control.kickValue();
      if (d.backlogged?.() === true) {
        control.reportLimitReached(); // wakes a replay driver, which drains the mailbox
        control.sleep(seenKick, 2);
        continue;
      }
      // Replay: run exactly up to the next event's instruction count, then park until the main
      // thread has applied it and moved the limit.
      const limit = control.stepLimit();
      let sliceBudget = budget;
      if (limit !== undefined) {
        const left = limit - machine.totalSteps;
        if (left <= 0) {
          control.reportLimitReached();
          control.sleep(seenKick, MAX_SLEEP_MS);
          continue;
        }
        sliceBudget = Math.min(budget, left);
      }
      const t0 = time.monotonicNs();
      const result = executionSection(d.locks.replay, () => machine.runSlice(sliceBudget));
      d.afterSection?.();
      if (result.kind === 'running') {
        const elapsed = time.monotonicNs() - t0;
        if (elapsed < targetNs / 2) budget = Math.min(MAX_BUDGET, budget * 2);
        else if (elapsed > targetNs * 2) budget = Math.max(MIN_BUDGET, Math.floor(budget / 2));
      } else if (result.kind === 'idle') {
        const ms = Number.isFinite(result.wakeAtHostNs) ? (result.wakeAtHostNs - time.monotonicNs()) / 1e6 : MAX_SLEEP_MS;
        control.sleep(seenKick, Math.min(ms, MAX_SLEEP_MS));
      } else {
        // Stopping before the report, so the main thread never kicks a machine that finished.
        state.transition('stopping');
        d.onShutdown(result);
        break;
      }
    }
  } finally {
    if (state.get() !== 'stopping' && state.get() !== 'stopped') state.transition('stopping');
    if (state.get() === 'stopping') state.transition('stopped');
  }
}
