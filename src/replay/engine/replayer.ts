/**
 * The replaying side of the engine: the vCPU runs exactly to the next event's instruction
 * count and parks; the main thread, under the replay mutex and the BQL, applies every event due
 * at that count with `applyDue`, checking each against the machine. The first mismatch stops
 * the replay with a report naming the instruction count, the event expected and what was found
 * instead, and the last digest that matched: a divergence is a report, never a hang.
 */
import type { Machine } from '../../board/machine-api.js';
import type { BlockCompleteEvent, ClockReadEvent, EndEvent, InterruptEvent, EntropyEvent, NetReceiveEvent, ReplayEvent } from '../log/events.js';
import { MAX_ICOUNT_SHIFT } from '../../main-loop/icount.js';
import { compareDigests, type StateDigester } from './digest.js';

/** Where events come from (a LogCursor). */
export interface EventSource {
  peek(): ReplayEvent | undefined;
  next(): ReplayEvent | undefined;
}

/** The replay backends of the virtio devices: each returns false when it has no such request. */
export interface ReplayDevices {
  blockComplete(event: BlockCompleteEvent): boolean;
  entropy(event: EntropyEvent): boolean;
  netReceive(event: NetReceiveEvent): boolean;
}

/** The vCPU thread's side of a replay (ReplayVcpuChannel): host clock values the guest reads. */
export interface ReplayVcpu {
  /** Queues a recorded clock value for the guest's read at `e.icount`; false when the queue is full. */
  queueClockRead(e: ClockReadEvent): boolean;
  /** Queued clock values the guest has not read yet. */
  readonly pendingClockReads: number;
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

/** RISC-V interrupt numbers by name (mcause without its top bit). */
const INTERRUPT_NAMES: Readonly<Record<number, string>> = {
  1: '1 (supervisor software)', 3: '3 (machine software)', 5: '5 (supervisor timer)', 7: '7 (machine timer)',
  9: '9 (supervisor external)', 11: '11 (machine external)',
};

/** A short description of an event for reports. */
export function describeEvent(e: ReplayEvent): string {
  switch (e.kind) {
    case 'console-input': return `console input of ${e.bytes.length} byte(s) at instruction ${e.icount}`;
    case 'virtio-doorbell': return `queue work of virtio${e.slot} at instruction ${e.icount}`;
    case 'block-complete': return `completion of block request ${e.request} on virtio${e.slot} at instruction ${e.icount}`;
    case 'entropy': return `entropy for request ${e.request} on virtio${e.slot} at instruction ${e.icount}`;
    case 'net-receive': return `a ${e.frame.length}-byte frame for virtio${e.slot} at instruction ${e.icount}`;
    case 'interrupt': return `interrupt ${INTERRUPT_NAMES[e.cause] ?? e.cause} on hart ${e.hart} at instruction ${e.icount}`;
    case 'request': return `a system ${e.what} (${e.cause}) at instruction ${e.icount}`;
    case 'clock-read': return `a read of the ${e.clock} clock at instruction ${e.icount}`;
    case 'timer': return `icount shift=auto adjustment to shift ${e.shift} at instruction ${e.icount}`;
    case 'digest': return `state digest at instruction ${e.icount}`;
    case 'end': return `end of recording (${e.reason}, exit ${e.exitCode}) at instruction ${e.icount}`;
    default: return `${e.kind} event at instruction ${e.icount}`;
  }
}

/** Replays one log onto one machine. */
export class Replayer {
  private lastGoodDigest: number | undefined;
  /** Events applied so far. */
  applied = 0;
  private resetDue = false;

  constructor(
    private readonly machine: Machine,
    private readonly source: EventSource,
    private readonly digester: StateDigester,
    private readonly devices: ReplayDevices,
    private readonly vcpu?: ReplayVcpu,
    /** Compare the interrupts the vCPU thread reports with the log's interrupt checkpoints. */
    private readonly checkInterrupts = false,
  ) {}

  /** The log's interrupt checkpoints read ahead of the next event, not yet matched. */
  private readonly expectedInterrupts: InterruptEvent[] = [];
  private expectedHead = 0;

  /**
   * Moves the interrupt checkpoints at the head of the log aside: the vCPU does not park at
   * them; they are matched with what it reports (or dropped when not checked).
   */
  private pullCheckpoints(): void {
    for (let e = this.source.peek(); e?.kind === 'interrupt'; e = this.source.peek()) {
      this.source.next();
      this.applied++;
      if (this.checkInterrupts) this.expectedInterrupts.push(e);
    }
  }

  /**
   * Checks what the vCPU thread reported since the last call: a clock read the log did not
   * have, or an interrupt that is not the log's next checkpoint, throws ReplayDivergence. Call
   * under the locks.
   */
  checkVcpu(): void {
    if (this.vcpu === undefined) return;
    const reports = this.vcpu.takeReports();
    if (reports.mismatch !== undefined) this.diverge(this.describeNext(), reports.mismatch);
    for (const got of reports.interrupts) {
      if (!this.checkInterrupts) break;
      this.pullCheckpoints();
      const want = this.expectedInterrupts[this.expectedHead];
      const found = describeEvent(got);
      // Reported at the interrupt's own count (the vCPU thread may have run on since).
      if (want === undefined) this.diverge(this.describeNext(), found, got.icount);
      if (want.icount !== got.icount || want.hart !== got.hart || want.cause !== got.cause) {
        this.diverge(describeEvent(want), found, Math.min(want.icount, got.icount));
      }
      this.expectedHead++;
    }
    if (this.expectedHead > 1024 || this.expectedHead === this.expectedInterrupts.length) {
      this.expectedInterrupts.splice(0, this.expectedHead);
      this.expectedHead = 0;
    }
  }

  /** The log's next event, described (what a replay expected when the vCPU found something else). */
  private describeNext(): string {
    const next = this.source.peek();
    return next === undefined ? 'the end of the log' : describeEvent(next);
  }

  /** Every interrupt checkpoint before instruction `now` must have been taken. */
  private checkInterruptsTaken(now: number, end: boolean): void {
    const want = this.expectedInterrupts[this.expectedHead];
    if (want !== undefined && (want.icount < now || end)) {
      this.diverge(describeEvent(want), end ? 'the recording ended before it' : `no such interrupt taken before instruction ${now}`);
    }
  }

  /** The instruction count of the next event, or undefined at the end of the log. */
  nextIcount(): number | undefined {
    this.pullCheckpoints();
    const e = this.source.peek();
    if (e !== undefined) return e.icount;
    // The log ran out (a crashed recording): run on to its last interrupt checkpoint.
    const last = this.expectedInterrupts[this.expectedInterrupts.length - 1];
    return last !== undefined && last.icount > this.machine.totalSteps ? last.icount : undefined;
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
    this.checkInterruptsTaken(now, false);
    const unread = this.vcpu?.pendingClockReads ?? 0;
    if (unread > 0) this.diverge(`${unread} more read(s) of a host clock before instruction ${now}`, 'the guest did not read the clock');
    for (let e = this.source.peek(); e !== undefined && e.icount <= now; this.pullCheckpoints(), e = this.source.peek()) {
      if (e.icount < now) this.diverge(describeEvent(e), `the machine already at instruction ${now}`);
      this.source.next();
      const end = this.apply(e);
      this.applied++;
      if (end !== undefined) return end;
      if (this.resetDue) return undefined;
    }
    return undefined;
  }

  private apply(e: ReplayEvent): EndEvent | undefined {
    switch (e.kind) {
      case 'console-input': {
        const n = this.machine.receiveConsoleInput(e.bytes);
        if (n !== e.bytes.length) this.diverge(describeEvent(e), `the machine took ${n} of them (its input ring was fuller than when recorded)`);
        return undefined;
      }
      case 'virtio-doorbell':
        if (!this.machine.virtioDoorbells().includes(e.slot)) this.diverge(describeEvent(e), `no doorbell pending on virtio${e.slot}`);
        this.machine.processVirtioQueue(e.slot);
        return undefined;
      case 'block-complete':
        if (!this.devices.blockComplete(e)) this.diverge(describeEvent(e), 'no such request in flight');
        return undefined;
      case 'entropy':
        if (!this.devices.entropy(e)) this.diverge(describeEvent(e), 'no such request in flight');
        return undefined;
      case 'net-receive':
        if (!this.devices.netReceive(e)) this.diverge(describeEvent(e), 'the device had no receive buffer for it');
        return undefined;
      case 'digest': {
        const diffs = compareDigests(e, this.digester.digest());
        if (diffs.length > 0) this.diverge(describeEvent(e), `a different state: ${diffs.map((d) => `${d.part}: ${d.detail}`).join('; ')}`);
        this.lastGoodDigest = e.icount;
        return undefined;
      }
      case 'clock-warp':
        this.machine.clocks.warp(e.ns);
        return undefined;
      case 'clock-read':
        if (this.vcpu === undefined) this.diverge(describeEvent(e), 'a replay that cannot pass clock values to the vCPU');
        if (!this.vcpu.queueClockRead(e)) this.diverge(describeEvent(e), 'more clock reads at one instruction than the queue holds');
        return undefined;
      case 'timer':
        if (this.machine.clocks.icount?.shift !== 'auto') this.diverge(describeEvent(e), 'a machine without icount shift=auto');
        if (e.shift > MAX_ICOUNT_SHIFT) this.diverge(describeEvent(e), `a shift beyond the largest, ${MAX_ICOUNT_SHIFT}`);
        this.machine.clocks.setShift(e.shift);
        return undefined;
      case 'request':
        if (e.what !== 'reset') return this.diverge(describeEvent(e), 'a request kind this replayer does not apply');
        this.resetDue = true;
        return undefined;
      case 'interrupt':
        return undefined; // a checkpoint only
      case 'end':
        this.checkInterruptsTaken(e.icount, true);
        return e;
      default:
        return this.diverge(describeEvent(e), 'an event kind this replayer does not apply yet');
    }
  }

  /** Stops the replay: at `icount` (default: the machine's count now). */
  private diverge(expected: string, found: string, icount = this.machine.totalSteps): never {
    throw new ReplayDivergence(icount, expected, found, this.lastGoodDigest);
  }
}
