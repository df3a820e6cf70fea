/**
 * The replay engine's side of the vCPU thread's mailboxes (src/threads/vcpu/event-mailbox.ts):
 * recording, the events the vCPU thread logged (idle warps, host clock values the guest read,
 * system resets the monitor asked for, interrupts) become log events, each built by its source;
 * replaying, the recorded clock values are queued for the vCPU thread, and what it found
 * (interrupts taken, reads it could not match) comes back as reports.
 */
import type { ClockReadEvent, InterruptEvent, ReplayEvent } from '../log/events.js';
import {
  VCPU_EVENT_CLOCK_WARP, VCPU_EVENT_INTERRUPT, VCPU_EVENT_MONITOR_RESET, VCPU_EVENT_UNEXPECTED_CLOCK_READ,
  clockReadKind, type VcpuEventMailbox,
} from '../../threads/vcpu/event-mailbox.js';
import {
  describeUnexpectedClockRead, recordClockRead, recordClockWarp, recordInterrupt, recordMonitorReset,
} from '../sources/index.js';
import type { ReplayVcpu, VcpuReports } from './replayer.js';

export { INTERRUPT_CHECKPOINTS, MONITOR_RESET_CAUSE } from '../sources/index.js';

/** Recording: the vCPU thread's events since the last call, as log events, in order. */
export function drainVcpuEvents(mailbox: VcpuEventMailbox): ReplayEvent[] {
  const out: ReplayEvent[] = [];
  mailbox.drain((icount, kind, value) => {
    if (kind === VCPU_EVENT_CLOCK_WARP) out.push(recordClockWarp(icount, value));
    else if (kind === VCPU_EVENT_INTERRUPT) out.push(recordInterrupt(icount, value));
    else if (kind === VCPU_EVENT_MONITOR_RESET) out.push(recordMonitorReset(icount));
    else {
      const read = recordClockRead(icount, kind, value);
      if (read !== undefined) out.push(read);
    }
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
      if (kind === VCPU_EVENT_INTERRUPT) interrupts.push(recordInterrupt(icount, value));
      else if (kind === VCPU_EVENT_UNEXPECTED_CLOCK_READ && mismatch === undefined) mismatch = describeUnexpectedClockRead(icount, value);
    });
    return { interrupts, mismatch };
  }
}
