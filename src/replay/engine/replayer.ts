/**
 * The replaying side of the engine: the vCPU runs exactly to the next event's instruction
 * count and parks; the main thread, under the replay mutex and the BQL, applies every event due
 * at that count with `applyDue`, checking each against the machine. The first mismatch stops
 * the replay with a report naming the instruction count, the event expected and what was found
 * instead, and the last digest that matched: a divergence is a report, never a hang.
 */
import type { Machine } from '../../board/machine-api.js';
import type { EndEvent, InterruptEvent, ReplayEvent } from '../log/events.js';
import {
  InterruptCheckpoints, checkClockReadsTaken, describeEvent, sourceOf,
  type ClockReadVcpu, type FullReplayContext, type ReplayDevices,
} from '../sources/index.js';
import type { StateDigester } from './digest.js';

export { describeEvent, type ReplayDevices };

/** Where events come from (a LogCursor). */
export interface EventSource {
  peek(): ReplayEvent | undefined;
  next(): ReplayEvent | undefined;
}

/** The vCPU thread's side of a replay (ReplayVcpuChannel): host clock values the guest reads. */
export interface ReplayVcpu extends ClockReadVcpu {
  /** What the vCPU thread reported since the last call (takes it). */
  takeReports(): VcpuReports;
}

/** What the vCPU thread reports while replaying. */
export interface VcpuReports {
  /** The interrupts harts took, in order (when the log has interrupt checkpoints). */
  readonly interrupts: readonly InterruptEvent[];
  /** A clock read it could not match with a queued value, described; undefined if none. */
  readonly mismatch: string | undefined;
}

/** The replay stopped matching the log. */
export class ReplayDivergence extends Error {
  override name = 'ReplayDivergence';
  constructor(
    /** The machine's instruction count when the mismatch was found. */
    readonly icount: number,
    /** What the log says should happen. */
    readonly expected: string,
    /** What happened instead. */
    readonly found: string,
    /** The instruction count of the last digest that matched, or undefined. */
    readonly lastGoodDigest: number | undefined,
  ) {
    super(`replay diverged at instruction ${icount}: expected ${expected}; found ${found}; `
      + (lastGoodDigest === undefined ? 'no digest matched before' : `last matching digest at instruction ${lastGoodDigest}`));
  }
}

/**
 * Replays one log onto one machine: a dispatcher over the sources (src/replay/sources/), each of
 * which applies its own events and checks them against the machine.
 */
export class Replayer {
  private lastGoodDigest: number | undefined;
  /** Events applied so far. */
  applied = 0;
  private resetDue = false;
  /** The log's interrupt checkpoints read ahead of the next event, not yet matched. */
  private readonly interrupts = new InterruptCheckpoints();
  /** What the sources' replay halves get (made once: nothing is allocated per event). */
  private readonly ctx: FullReplayContext;

  constructor(
    private readonly machine: Machine,
    private readonly source: EventSource,
    digester: StateDigester,
    devices: ReplayDevices,
    private readonly vcpu?: ReplayVcpu,
    /** Compare the interrupts the vCPU thread reports with the log's interrupt checkpoints. */
    private readonly checkInterrupts = false,
  ) {
    this.ctx = {
      machine, digester, devices, vcpu, interrupts: this.interrupts,
      diverge: (expected, found, icount) => this.diverge(expected, found, icount),
      describeNext: () => this.describeNext(),
      digestMatched: (icount) => { this.lastGoodDigest = icount; },
      requestReset: () => { this.resetDue = true; },
    };
  }

  /**
   * Moves the interrupt checkpoints at the head of the log aside: the vCPU does not park at
   * them; they are matched with what it reports (or dropped when not checked).
   */
  private readonly pullCheckpoints = (): void => {
    for (let e = this.source.peek(); e?.kind === 'interrupt'; e = this.source.peek()) {
      this.source.next();
      this.applied++;
      if (this.checkInterrupts) this.interrupts.expect(e);
    }
  };

  /**
   * Checks what the vCPU thread reported since the last call: a clock read the log did not
   * have, or an interrupt that is not the log's next checkpoint, throws ReplayDivergence. Call
   * under the locks.
   */
  checkVcpu(): void {
    if (this.vcpu === undefined) return;
    const reports = this.vcpu.takeReports();
    if (reports.mismatch !== undefined) this.diverge(this.describeNext(), reports.mismatch);
    if (this.checkInterrupts) {
      for (const got of reports.interrupts) this.interrupts.replayInterrupt(got, this.ctx, this.pullCheckpoints);
    }
    this.interrupts.compact();
  }

  /** The log's next event, described (what a replay expected when the vCPU found something else). */
  private describeNext(): string {
    const next = this.source.peek();
    return next === undefined ? 'the end of the log' : describeEvent(next);
  }

  /**
   * The instruction count of the next event, or undefined at the end of the log (the replay
   * driver then runs on to the last count the log reached: its report's lastIcount, which
   * counts interrupt checkpoints and progress checkpoints alike).
   */
  nextIcount(): number | undefined {
    this.pullCheckpoints();
    return this.source.peek()?.icount;
  }

  /**
   * Whether the last applyDue stopped at a system reset (a logged monitor `system_reset`): the
   * caller has the vCPU thread do it, then calls applyDue again for the rest of the events at
   * that count. Reading it clears it.
   */
  takeResetRequest(): boolean {
    const due = this.resetDue;
    this.resetDue = false;
    return due;
  }

  /** The instruction count of the last digest that matched. */
  get lastMatchingDigest(): number | undefined {
    return this.lastGoodDigest;
  }

  /**
   * Applies every event due at the machine's instruction count (call under the locks, with the
   * vCPU parked at that count). Returns the end event when the log's end is reached. Throws
   * ReplayDivergence on the first mismatch.
   */
  applyDue(): EndEvent | undefined {
    const now = this.machine.totalSteps;
    this.checkVcpu();
    this.pullCheckpoints();
    this.interrupts.checkTaken(now, false, this.ctx);
    checkClockReadsTaken(now, this.ctx);
    for (let e = this.source.peek(); e !== undefined && e.icount <= now; this.pullCheckpoints(), e = this.source.peek()) {
      if (e.icount < now) this.diverge(describeEvent(e), `the machine already at instruction ${now}`);
      this.source.next();
      const source = sourceOf(e);
      if (source === undefined) this.diverge(describeEvent(e), 'an event kind this replayer does not apply yet');
      source.replay(e, this.ctx);
      this.applied++;
      if (e.kind === 'end') return e;
      if (this.resetDue) return undefined;
    }
    return undefined;
  }

  /** Stops the replay: at `icount` (default: the machine's count now). */
  private diverge(expected: string, found: string, icount = this.machine.totalSteps): never {
    throw new ReplayDivergence(icount, expected, found, this.lastGoodDigest);
  }
}
