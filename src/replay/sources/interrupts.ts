/**
 * Interrupt checkpoints (optional in a log, header `checkpoints: ["interrupt"]`): the
 * interrupts each hart took, and at which instruction. They add nothing the machine needs, but
 * let a replay find a divergence at the interrupt that caused it rather than at the next digest.
 * Recording, the vCPU thread puts each interrupt in its event mailbox; replaying, the checkpoints
 * are set aside as the log is read (the vCPU does not stop at them) and matched in order with
 * the interrupts the vCPU thread reports.
 */
import { KIND_CODES } from '../log/format.js';
import { interruptOf } from '../../threads/vcpu/event-mailbox.js';
import type { At, EventSource, ReplayContext } from './source.js';

/** The header's `checkpoints` entry of a log with interrupt checkpoints. */
export const INTERRUPT_CHECKPOINTS = 'interrupt';

/** Checkpoint: hart `hart` took interrupt `cause` (optional in logs). */
export interface InterruptEvent extends At {
  readonly kind: 'interrupt';
  readonly hart: number;
  readonly cause: number;
}

/** RISC-V interrupt numbers by name (mcause without its top bit). */
const INTERRUPT_NAMES: Readonly<Record<number, string>> = {
  1: '1 (supervisor software)', 3: '3 (machine software)', 5: '5 (supervisor timer)', 7: '7 (machine timer)',
  9: '9 (supervisor external)', 11: '11 (machine external)',
};

/** Recording (and the replay's reports): the interrupt the vCPU thread put in its mailbox at `icount`. */
export function recordInterrupt(icount: number, mailboxValue: number): InterruptEvent {
  return { kind: 'interrupt', icount, ...interruptOf(mailboxValue) };
}

/** What the interrupt checkpoints need from the Replayer. */
export interface InterruptReplayContext extends ReplayContext {
  /** The log's next event, described (what was expected when the vCPU took an extra interrupt). */
  describeNext(): string;
}

/** Replaying: the log's interrupt checkpoints not matched yet, in order. */
export class InterruptCheckpoints {
  private readonly expected: InterruptEvent[] = [];
  private head = 0;

  /** Sets a checkpoint read from the log aside, to be matched with what the vCPU reports. */
  expect(e: InterruptEvent): void {
    this.expected.push(e);
  }

  /**
   * Replaying: an interrupt the vCPU thread took must be the next checkpoint (`pull` sets aside
   * the ones at the head of the log first); stops the replay at the interrupt's own count if not.
   */
  replayInterrupt(got: InterruptEvent, ctx: InterruptReplayContext, pull: () => void): void {
    pull();
    const want = this.expected[this.head];
    const found = describeInterrupt(got);
    // Reported at the interrupt's own count (the vCPU thread may have run on since).
    if (want === undefined) ctx.diverge(ctx.describeNext(), found, got.icount);
    if (want.icount !== got.icount || want.hart !== got.hart || want.cause !== got.cause) {
      ctx.diverge(describeInterrupt(want), found, Math.min(want.icount, got.icount));
    }
    this.head++;
  }

  /** Forgets the matched checkpoints (call after a batch of replayInterrupt). */
  compact(): void {
    if (this.head > 1024 || this.head === this.expected.length) {
      this.expected.splice(0, this.head);
      this.head = 0;
    }
  }

  /** Every checkpoint before instruction `now` (every one left, at the `end`) must have been taken. */
  checkTaken(now: number, end: boolean, ctx: ReplayContext): void {
    const want = this.expected[this.head];
    if (want !== undefined && (want.icount < now || end)) {
      ctx.diverge(describeInterrupt(want), end ? 'the recording ended before it' : `no such interrupt taken before instruction ${now}`);
    }
  }
}

/** Describes an interrupt checkpoint for reports. */
export function describeInterrupt(e: InterruptEvent): string {
  return `interrupt ${INTERRUPT_NAMES[e.cause] ?? e.cause} on hart ${e.hart} at instruction ${e.icount}`;
}

/** `interrupt` checkpoints (code 0x0a: hart varint, cause varint). Applying one does nothing: they are matched as the vCPU reports them. */
export const INTERRUPT: EventSource<InterruptEvent> = {
  kind: 'interrupt',
  code: KIND_CODES.interrupt,
  encode(w, e) {
    w.varint(e.hart, 'interrupt.hart');
    w.varint(e.cause, 'interrupt.cause');
  },
  decode(r, icount) {
    const hart = r.varint('hart');
    return { kind: 'interrupt', icount, hart, cause: r.varint('cause') };
  },
  describe: describeInterrupt,
  replay: () => undefined,
};
