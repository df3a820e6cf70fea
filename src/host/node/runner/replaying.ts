/** The mode of a replay run: the log drives the machine; the user's inputs are ignored. */
import { ReplayVcpuChannel } from '../../../replay/index.js';
import { VcpuEventMailbox } from '../../../threads/vcpu/event-mailbox.js';
import type { HostConsole } from '../console.js';
import { ReplaySession, type ReplayOutcome } from '../replay/session.js';
import type { MachineLoop, RunOutcome } from '../run-loop.js';
import { ThreadedRunLoop } from '../threaded-run-loop.js';
import type { RunnerEnv } from './env.js';
import type { LoopSetup, ModeAttachment, ReplayEnd, ReplayMode, ReplayVerdict } from './mode.js';
import { checkOverlays, openLog, reportReplay } from './rr-session.js';

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

/** Opens a log for replay, checking the images against the recording's. */
export function openReplaying(file: string, env: RunnerEnv): Replaying {
  const session = openLog(file, () => ReplaySession.open(file));
  try {
    env.rrImages.check(session.header.body.images);
  } catch (e) {
    session.close();
    throw e;
  }
  return new Replaying(session, env);
}
