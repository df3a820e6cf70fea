/**
 * The replay engine's side of the vCPU thread's mailboxes (src/threads/vcpu/event-mailbox.ts):
 * recording, the events the vCPU thread logged (idle warps, host clock values the guest read,
 * system resets the monitor asked for, interrupts) become log events; replaying, the recorded
 * clock values are queued for the vCPU thread, and what it found (interrupts taken, reads it
 * could not match) comes back as reports.
 */
import type { ClockReadEvent, InterruptEvent, ReplayEvent } from '../log/events.js';
import {
  VCPU_EVENT_CLOCK_WARP, VCPU_EVENT_INTERRUPT, VCPU_EVENT_MONITOR_RESET, VCPU_EVENT_UNEXPECTED_CLOCK_READ,
  clockOfReadKind, clockReadKind, interruptOf, type VcpuEventMailbox,
} from '../../threads/vcpu/event-mailbox.js';
import type { ReplayVcpu, VcpuReports } from './replayer.js';

/** The header's `checkpoints` entry of a log with interrupt checkpoints. */
export const INTERRUPT_CHECKPOINTS = 'interrupt';

/** The cause of a logged `system_reset` from the monitor (QEMU's SHUTDOWN_CAUSE_HOST_QMP_SYSTEM_RESET). */
export const MONITOR_RESET_CAUSE = 'host-qmp-system-reset';

/** Recording: the vCPU thread's events since the last call, as log events, in order. */
export function drainVcpuEvents(mailbox: VcpuEventMailbox): ReplayEvent[] {
  const out: ReplayEvent[] = [];
  mailbox.drain((icount, kind, value) => {
    if (kind === VCPU_EVENT_CLOCK_WARP) {
      out.push({ kind: 'clock-warp', icount, ns: value });
      return;
    }
    if (kind === VCPU_EVENT_INTERRUPT) {
      out.push({ kind: 'interrupt', icount, ...interruptOf(value) });
      return;
    }
    if (kind === VCPU_EVENT_MONITOR_RESET) {
      out.push({ kind: 'request', icount, what: 'reset', cause: MONITOR_RESET_CAUSE });
      return;
    }
    const clock = clockOfReadKind(kind);
    if (clock !== undefined) out.push({ kind: 'clock-read', icount, clock, value });
  });
  return out;
}

/** Replaying: recorded clock values to the vCPU thread, its mismatch reports back. */
export class ReplayVcpuChannel implements ReplayVcpu {
  constructor(private readonly reports: VcpuEventMailbox, private readonly inputs: VcpuEventMailbox) {}

  queueClockRead(e: ClockReadEvent): boolean {
    return this.inputs.append(e.icount, clockReadKind(e.clock), e.value);
  }

  get pendingClockReads(): number {
    return this.inputs.size;
  }

  /** Whether the vCPU thread reported anything (read without the locks). */
  get reportsWaiting(): boolean {
    return this.reports.size > 0;
  }

  takeReports(): VcpuReports {
    const interrupts: InterruptEvent[] = [];
    let mismatch: string | undefined;
    this.reports.drain((icount, kind, value) => {
      if (kind === VCPU_EVENT_INTERRUPT) interrupts.push({ kind: 'interrupt', icount, ...interruptOf(value) });
      else if (kind === VCPU_EVENT_UNEXPECTED_CLOCK_READ && mismatch === undefined) {
        mismatch = `the guest read the ${clockOfReadKind(value) ?? 'host'} clock at instruction ${icount}, where the log has no value for it`;
      }
    });
    return { interrupts, mismatch };
  }
}
