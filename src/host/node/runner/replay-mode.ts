/**
 * Record/replay as one object chosen at start-up (QEMU's replay_mode, without the `if`s):
 * `NoReplay`, `Recording` or `Replaying`. The runner calls the same methods in every mode, and
 * never asks which one it has; "none" adds no work per instruction or per event (its methods
 * pass inputs straight through).
 */
import type { Machine, TraceFlags } from '../../../board/machine-api.js';
import type { CharBackend } from '../../../devices/char-backend.js';
import type { HostTime } from '../../../main-loop/clock.js';
import { installAutoShiftTimers } from '../../../main-loop/icount.js';
import type { MainLoop } from '../../../main-loop/main-loop.js';
import { ReplayVcpuChannel } from '../../../replay/index.js';
import { VcpuEventMailbox } from '../../../threads/vcpu/event-mailbox.js';
import type { HostConsole } from '../console.js';
import { RecordSession, ReplaySession, type ReplayOutcome } from '../replay/session.js';
import { RunLoop, type MachineLoop, type RunOutcome } from '../run-loop.js';
import { ThreadedRunLoop } from '../threaded-run-loop.js';
import type { VirtioHost } from '../virtio-host.js';
import type { RunConfig } from './config.js';
import type { RunnerEnv } from './env.js';
import { checkOverlays, openLog, reportRecording, reportReplay } from './rr-session.js';

/**
 * How a replay ended: it reached the recording's end (and its disk writes matched), the
 * machine or the user stopped it first, the log ran out (a crashed recording), or it diverged.
 */
export type ReplayVerdict = 'complete' | 'machine-stopped' | 'log-ended' | 'diverged';

/** How a replay ended, and for a log that ran out, the exit status it calls for. */
export interface ReplayEnd {
  readonly verdict: ReplayVerdict;
  /** With 'log-ended' (and a guest stopped after an incomplete log's last event): 5 incomplete, 4 damaged, 1 unsupported. */
  readonly logExitStatus?: number;
}

/** What every run loop is made with. */
export interface LoopSetup {
  readonly machine: Machine;
  readonly time: HostTime;
  readonly console: CharBackend;
  readonly trace: TraceFlags;
  readonly log: (line: string) => void;
  /** A guest rang a virtio doorbell. */
  readonly onDoorbell: () => void;
  /** Harts in a vCPU thread (false: on the main thread, for -d tracing or REPLAYVM_THREADS=0). */
  readonly threaded: boolean;
}

/** The parts of a running machine a mode connects to. */
export interface ModeAttachment {
  readonly machine: Machine;
  readonly loop: MachineLoop;
  readonly mainLoop: MainLoop;
  readonly virtio: VirtioHost | undefined;
}

/** Record/replay's side of a run (one of NoReplay, Recording, Replaying). */
export interface ReplayMode {
  /** How the virtio host opens backends: the real ones, or ones the log completes. */
  readonly virtioBackends: 'live' | 'replay';
  /** Whether a console file's output replaces the file only once committed (a replay's). */
  readonly stagedConsole: boolean;
  /** Why the monitor refuses `system_reset`, if it does. */
  readonly resetRefused: string | undefined;
  /** Makes the run loop. */
  createLoop(setup: LoopSetup): MachineLoop;
  /**
   * Connects the machine's inputs (console, virtio completions, shift=auto timers) to the mode;
   * returns the virtio doorbell's action.
   */
  attach(a: ModeAttachment): () => void;
  /** Console input from the user. */
  consoleInput(bytes: Uint8Array, quitKeys: string | undefined): void;
  /** The machine started: a replay starts applying its log. */
  started(): void;
  /** The machine stopped: ends the log (recording) or the replay; returns how a replay ended. */
  finish(outcome: RunOutcome, console: HostConsole): Promise<ReplayEnd | undefined>;
  /** Releases the log (after `finish`, or after a failure before the machine ran). */
  close(): void;
}

/** No record/replay: inputs go straight to the machine. */
export class NoReplay implements ReplayMode {
  readonly virtioBackends = 'live';
  readonly stagedConsole = false;
  readonly resetRefused = undefined;
  private loop: MachineLoop | undefined;

  createLoop(s: LoopSetup): MachineLoop {
    this.loop = s.threaded
      ? new ThreadedRunLoop(s.machine, s.time, { console: s.console, trace: s.trace, log: s.log, onDoorbell: s.onDoorbell })
      : new RunLoop(s.machine, s.time);
    return this.loop;
  }

  attach(a: ModeAttachment): () => void {
    installAutoShiftTimers(a.machine.clocks, a.mainLoop.timers);
    const queues = a.virtio?.attach(a.mainLoop, a.machine);
    return () => queues?.schedule();
  }

  consoleInput(bytes: Uint8Array): void {
    this.loop?.input(bytes);
  }

  started(): void {}

  finish(): Promise<undefined> {
    return Promise.resolve(undefined);
  }

  close(): void {}
}

/** Recording: every input goes through the recorder into the log. */
export class Recording implements ReplayMode {
  readonly virtioBackends = 'live';
  readonly stagedConsole = false;
  readonly resetRefused = undefined;
  private readonly mailbox = VcpuEventMailbox.create();
  private loop: ThreadedRunLoop | undefined;
  private machine: Machine | undefined;
  private virtio: VirtioHost | undefined;

  constructor(private readonly session: RecordSession, private readonly env: RunnerEnv) {}

  createLoop(s: LoopSetup): MachineLoop {
    this.loop = new ThreadedRunLoop(s.machine, s.time, {
      console: s.console, trace: s.trace, log: s.log, onDoorbell: s.onDoorbell, mode: 'record',
      rr: { mode: 'record', mailbox: this.mailbox.buffer, interrupts: true },
    });
    return this.loop;
  }

  attach(a: ModeAttachment): () => void {
    const loop = this.loop!;
    this.machine = a.machine;
    this.virtio = a.virtio;
    const recorder = this.session.attach(a.machine, (fn) => loop.locked(fn), this.mailbox);
    // shift=auto's adjustments read host time: recorded.
    installAutoShiftTimers(a.machine.clocks, a.mainLoop.timers, (id, shift) => recorder.shiftChanged(id, shift));
    loop.setInputTap((bytes) => recorder.consoleInput(bytes));
    a.virtio?.setInputTap(recorder);
    const queues = a.virtio?.attach(a.mainLoop, a.machine, () => recorder.virtioDoorbells());
    return () => queues?.schedule();
  }

  consoleInput(bytes: Uint8Array): void {
    this.loop?.input(bytes);
  }

  started(): void {}

  finish(outcome: RunOutcome): Promise<undefined> {
    this.session.finish(outcome.cause === 'host-request' ? 'quit' : 'shutdown', outcome.exitCode);
    reportRecording(this.session.path, this.machine?.totalSteps ?? 0, this.virtio?.diskOverlays() ?? [], this.env);
    return Promise.resolve(undefined);
  }

  close(): void {
    this.session.abandon();
  }
}

/** Replaying: the log drives the machine; the user's inputs are ignored. */
export class Replaying implements ReplayMode {
  readonly virtioBackends = 'replay';
  readonly stagedConsole = true;
  readonly resetRefused = 'system_reset is refused while replaying: the replay applies the recording\'s resets';
  private readonly mailbox = VcpuEventMailbox.create();
  private readonly clockInputs = VcpuEventMailbox.create(256);
  private loop: ThreadedRunLoop | undefined;
  private attached: ModeAttachment | undefined;
  private driving: Promise<ReplayOutcome> | undefined;
  private inputNoticeShown = false;

  constructor(private readonly session: ReplaySession, private readonly env: RunnerEnv) {}

  createLoop(s: LoopSetup): MachineLoop {
    this.loop = new ThreadedRunLoop(s.machine, s.time, {
      console: s.console, trace: s.trace, log: s.log, onDoorbell: s.onDoorbell, mode: 'play',
      rr: { mode: 'replay', mailbox: this.mailbox.buffer, inputs: this.clockInputs.buffer, interrupts: this.session.interruptCheckpoints },
    });
    return this.loop;
  }

  attach(a: ModeAttachment): () => void {
    this.attached = a;
    // shift=auto's adjustments come from the log; doorbells' queue work too.
    a.virtio?.attach(a.mainLoop, a.machine);
    this.session.prepare(this.loop!.controller);
    return () => {};
  }

  consoleInput(_bytes: Uint8Array, quitKeys: string | undefined): void {
    if (!this.inputNoticeShown) {
      this.env.stderr(`\r\n${this.env.program}: replaying ${this.session.path}: console input is ignored${quitKeys !== undefined ? ` (${quitKeys} quits)` : ''}\r\n`);
    }
    this.inputNoticeShown = true;
  }

  started(): void {
    const a = this.attached;
    const loop = this.loop;
    if (a === undefined || loop === undefined || a.virtio === undefined) return;
    this.driving = this.session.drive(a.machine, loop.controller, (fn) => loop.locked(fn), a.virtio.replayDevices(),
      new ReplayVcpuChannel(this.mailbox, this.clockInputs)).then((r) => {
      if (r.kind !== 'machine-stopped') loop.stop(r.kind === 'end' ? r.event.exitCode : 0);
      return r;
    });
  }

  async finish(_outcome: RunOutcome, console: HostConsole): Promise<ReplayEnd | undefined> {
    if (this.driving === undefined || this.attached === undefined) return undefined;
    this.session.stop();
    const r = await this.driving;
    const { machine, virtio } = this.attached;
    reportReplay(r, machine.totalSteps, this.env);
    const complete = r.kind === 'end' && !checkOverlays(this.session.path, virtio?.diskOverlays() ?? [], this.env);
    const staged = console.staged;
    if (staged !== undefined && complete) {
      await console.flush();
      staged.commit();
    } else if (staged !== undefined) {
      this.env.stderr(`${this.env.program}: the replay's console output is in ${staged.path}; ${staged.target} is unchanged\n`);
    }
    const verdict: ReplayVerdict = complete ? 'complete' : r.kind === 'end' ? 'diverged' : r.kind;
    return r.kind === 'log-ended' ? { verdict, logExitStatus: r.exitStatus } : { verdict };
  }

  close(): void {
    this.session.close();
  }
}

/**
 * The mode of a run, chosen once: none, or a record or replay run with its log opened (a
 * replay's images checked against the recording's).
 */
export function openReplayMode(o: RunConfig, env: RunnerEnv): ReplayMode {
  const rr = o.rr;
  if (rr === undefined || o.dumpDtb !== undefined) return new NoReplay();
  const images = env.rrImages.describe();
  if (rr.mode === 'record') return new Recording(openLog(rr.file, () => RecordSession.open(rr.file, { argv: o.argv }, images, env.version)), env);
  const session = openLog(rr.file, () => ReplaySession.open(rr.file));
  try {
    env.rrImages.check(session.header.body.images);
  } catch (e) {
    session.close();
    throw e;
  }
  return new Replaying(session, env);
}
