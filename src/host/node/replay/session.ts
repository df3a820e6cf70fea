/**
 * Record and replay sessions of one machine run (the host side of src/replay/engine): the log
 * file, the recorder's periodic digests and flushes, and the replay driver that moves the vCPU
 * from one event's instruction count to the next.
 */
import { rmSync } from 'node:fs';
import type { Machine } from '../../../board/machine-api.js';
import type { LockedRunner } from '../../../main-loop/main-loop.js';
import {
  INTERRUPT_CHECKPOINTS, LogCursor, Recorder, ReplayDivergence, Replayer, StateDigester,
  describeEvent, describeReport, drainVcpuEvents, type EndEvent, type LogHeader, type LogImage,
  type LogReader, type LogReport, type LogWriter, type ReplayDevices, type ReplayEvent, type ReplayVcpuChannel,
} from '../../../replay/index.js';
import type { VcpuEventMailbox } from '../../../threads/vcpu/event-mailbox.js';
import type { VcpuController } from '../vcpu-controller.js';
import { EXIT_LOG_INCOMPLETE } from '../../exit-status.js';
import { exitStatusOfLog } from './exit-status.js';
import { openLogReader, openLogWriter } from './log-file.js';

/** Instructions between two state digests of a recording. */
export const DIGEST_INTERVAL = 5_000_000;
/**
 * How often the recorder checks for a digest and writes a progress checkpoint (host ms): well
 * under 100 ms, so that a recording killed at any moment replays to within ~100 ms of the kill
 * even when the timer fires late. Each tick is one small write(); fdatasync stays at the log
 * writer's 200 ms interval.
 */
const TICK_MS = 50;
/** A replay with no progress for this long while an event is due is reported as stuck. */
const STUCK_MS = 15_000;

/** What a recording's header says about the machine (enough to start it again). */
export interface RecordedMachine {
  /** The machine options, as on the command line (without the record/replay options). */
  readonly argv: readonly string[];
}

/** A recording in progress. */
export class RecordSession {
  private recorder: Recorder | undefined;
  private timer: ReturnType<typeof setInterval> | undefined;
  private closed = false;

  private constructor(readonly path: string, private readonly writer: LogWriter) {}

  /** Creates the log (refuses to overwrite an existing file) and writes its header. */
  static open(path: string, machine: RecordedMachine, images: readonly LogImage[], version: string): RecordSession {
    return new RecordSession(path, openLogWriter(path, { replayvm: version, machine, images, checkpoints: [INTERRUPT_CHECKPOINTS] }));
  }

  /** Starts recording `machine`: returns the recorder the input paths go through. */
  attach(machine: Machine, locked: LockedRunner, mailbox?: VcpuEventMailbox): Recorder {
    const vcpuEvents = (): ReplayEvent[] => (mailbox === undefined ? [] : drainVcpuEvents(mailbox));
    const recorder = new Recorder(machine, this.writer, new StateDigester(machine.arena, machine.ram, machine.harts), vcpuEvents);
    this.recorder = recorder;
    // The instruction count is read under the locks, after the vCPU's pending events: every
    // event recorded later has at least this count, so the checkpoint never goes back in time.
    this.writer.checkpoint(locked(() => {
      recorder.digest();
      return recorder.icount;
    }), performance.now());
    this.timer = setInterval(() => {
      if (this.closed) return;
      const reached = locked(() => {
        recorder.flushVcpuEvents();
        recorder.digest(DIGEST_INTERVAL);
        return recorder.icount;
      });
      this.writer.checkpoint(reached, performance.now());
    }, TICK_MS);
    this.timer.unref();
    return recorder;
  }

  /** Ends the recording (the machine has stopped): final digest, end event, close. */
  finish(reason: EndEvent['reason'], exitCode: number): void {
    if (this.closed) return;
    this.closed = true;
    if (this.timer !== undefined) clearInterval(this.timer);
    this.recorder?.end(reason, exitCode);
    this.writer.close();
  }

  /**
   * The run failed before the machine started recording (e.g. a socket it could not listen
   * on): closes and removes the log, which holds only its header, so a retry can use the name.
   * After `attach` this is `finish('error', 1)`.
   */
  abandon(): void {
    if (this.recorder !== undefined) {
      this.finish('error', 1);
      return;
    }
    if (this.closed) return;
    this.closed = true;
    this.writer.close();
    rmSync(this.path, { force: true });
  }

  /** Instructions recorded so far. */
  get icount(): number {
    return this.recorder?.icount ?? 0;
  }
}

/** How a replay ended. */
export type ReplayOutcome =
  | { readonly kind: 'end'; readonly event: EndEvent; readonly events: number }
  /**
   * The log has no end event: a crashed recording (`exitStatus` 5) or a damaged log (4). The
   * replay ran to its last event or progress checkpoint; `report` says why it stopped.
   */
  | { readonly kind: 'log-ended'; readonly icount: number; readonly events: number; readonly report: string; readonly exitStatus: number }
  | { readonly kind: 'diverged'; readonly error: ReplayDivergence }
  | { readonly kind: 'machine-stopped'; readonly events: number };

/** A replay of one log. */
export class ReplaySession {
  private stopped = false;

  private constructor(readonly path: string, private readonly reader: LogReader, private readonly cursor: LogCursor) {}

  /** Opens a log (errors name the byte offset). */
  static open(path: string): ReplaySession {
    const reader = openLogReader(path);
    return new ReplaySession(path, reader, new LogCursor(reader));
  }

  get header(): LogHeader {
    return this.reader.header;
  }

  /** Whether the log holds interrupt checkpoints (the replay then reports and compares them). */
  get interruptCheckpoints(): boolean {
    const c = this.header.body['checkpoints'];
    return Array.isArray(c) && c.includes(INTERRUPT_CHECKPOINTS);
  }

  /** The machine options the recording was made with. */
  get recordedMachine(): RecordedMachine {
    const m = this.header.body.machine as Partial<RecordedMachine>;
    if (!Array.isArray(m.argv) || !m.argv.every((a) => typeof a === 'string')) throw new Error(`${this.path}: the log's header names no machine options`);
    return { argv: m.argv };
  }

  /** Sets the first step limit; call before the vCPU starts. */
  prepare(controller: VcpuController): void {
    controller.setStepLimit(this.cursor.peek()?.icount ?? this.progressTarget(0) ?? 0);
  }

  /**
   * Once the events ran out: the last instruction count the log says the recording reached (a
   * progress checkpoint after its last event) if the machine is still before it.
   */
  private progressTarget(icount: number): number | undefined {
    const reached = this.cursor.peek() === undefined ? this.cursor.report?.lastIcount : undefined;
    return reached !== undefined && reached > icount ? reached : undefined;
  }

  /** Asks the driver to stop (the machine ended or the user quit); wakes it at once. */
  stop(): void {
    this.stopped = true;
    this.wakeDriver?.();
  }

  private wakeDriver: (() => void) | undefined;

  /**
   * Drives the replay: waits for the vCPU to park at each event's instruction count, applies the
   * events there under the locks, moves the limit on. Resolves when the log's end event is
   * applied, the log runs out (a crashed recording), a divergence is found, or `stop` is called.
   */
  async drive(machine: Machine, controller: VcpuController, locked: LockedRunner, devices: ReplayDevices, vcpu?: ReplayVcpuChannel): Promise<ReplayOutcome> {
    // Atomics.waitAsync does not keep Node's event loop alive: a timer does, until the end.
    const keepAlive = setInterval(() => {}, 1000);
    this.wakeDriver = () => controller.wakeLimitWaiters();
    try {
      return await this.driveInner(machine, controller, locked, devices, vcpu);
    } finally {
      clearInterval(keepAlive);
    }
  }

  private async driveInner(machine: Machine, controller: VcpuController, locked: LockedRunner, devices: ReplayDevices, vcpu?: ReplayVcpuChannel): Promise<ReplayOutcome> {
    const replayer = new Replayer(machine, this.cursor, new StateDigester(machine.arena, machine.ram, machine.harts), devices, vcpu,
      vcpu !== undefined && this.interruptCheckpoints);
    // The machine stopped by itself (guest power-off): the events recorded at that instruction
    // (the final digest and the end) still apply.
    // The log ran out (a crashed recording or damage): the vCPU stays parked where it is.
    const logEnded = (report: LogReport | undefined): ReplayOutcome => ({
      kind: 'log-ended', icount: machine.totalSteps, events: replayer.applied,
      report: report === undefined ? 'no end event' : describeReport(report),
      exitStatus: report === undefined ? EXIT_LOG_INCOMPLETE : exitStatusOfLog(report),
    });
    const stoppedOutcome = (): ReplayOutcome => {
      const next = replayer.nextIcount();
      if (next === machine.totalSteps) {
        const end = locked(() => replayer.applyDue());
        if (end !== undefined) return { kind: 'end', event: end, events: replayer.applied };
      }
      // Stopped after the last event of a log without an end (the guest powered off, or the user
      // quit while it ran to the last checkpoint): still an incomplete or damaged log.
      const report = this.cursor.report;
      if (replayer.nextIcount() === undefined && report !== undefined && !report.complete) return logEnded(report);
      return { kind: 'machine-stopped', events: replayer.applied };
    };
    try {
      for (;;) {
        // After the last event, the guest runs on to the log's last progress checkpoint.
        const target = replayer.nextIcount() ?? this.progressTarget(machine.totalSteps);
        if (target === undefined) return logEnded(this.cursor.report);
        controller.setStepLimit(target);
        let last = machine.totalSteps;
        let lastProgress = Date.now();
        for (;;) {
          // Read the report count first: a park between the test and the wait is not missed.
          const seen = controller.limitReports();
          if (machine.totalSteps >= target) break;
          if (this.stopped) return stoppedOutcome();
          await controller.waitLimitReached(200, seen);
          if (vcpu?.reportsWaiting === true) locked(() => replayer.checkVcpu());
          if (machine.totalSteps !== last) {
            last = machine.totalSteps;
            lastProgress = Date.now();
          } else if (Date.now() - lastProgress > STUCK_MS && controller.state === 'running') {
            const next = this.cursor.peek();
            throw new ReplayDivergence(machine.totalSteps, next === undefined ? `an event at instruction ${target}` : describeEvent(next),
              `no progress for ${STUCK_MS / 1000} s (every hart waits for an interrupt that never comes)`, replayer.lastMatchingDigest);
          }
        }
        if (this.stopped) return stoppedOutcome();
        if (machine.totalSteps > target) {
          const next = this.cursor.peek();
          throw new ReplayDivergence(machine.totalSteps, next === undefined ? `an event at instruction ${target}` : describeEvent(next),
            `the vCPU ran past it`, replayer.lastMatchingDigest);
        }
        const end = locked(() => replayer.applyDue());
        if (end !== undefined) return { kind: 'end', event: end, events: replayer.applied };
        if (replayer.takeResetRequest()) {
          try {
            await controller.resetAtLimit();
          } catch {
            return stoppedOutcome();
          }
        }
      }
    } catch (e) {
      if (e instanceof ReplayDivergence) return { kind: 'diverged', error: e };
      throw e;
    }
  }

  close(): void {
    this.reader.close();
  }
}
