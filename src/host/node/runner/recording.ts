/** The mode of a recording run: every input goes through the recorder into the log. */
import type { Machine } from '../../../board/machine-api.js';
import { installAutoShiftTimers } from '../../../main-loop/icount.js';
import { VcpuEventMailbox } from '../../../threads/vcpu/event-mailbox.js';
import { RecordSession } from '../replay/session.js';
import type { MachineLoop, RunOutcome } from '../run-loop.js';
import { ThreadedRunLoop } from '../threaded-run-loop.js';
import type { VirtioHost } from '../virtio-host.js';
import type { RunConfig } from './config.js';
import type { RunnerEnv } from './env.js';
import type { LoopSetup, ModeAttachment, ReplayMode } from './mode.js';
import { openLog, reportRecording } from './rr-session.js';

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

/** Creates the log of a recording (its header names the machine options and images). */
export function openRecording(file: string, o: RunConfig, env: RunnerEnv): Recording {
  const images = env.rrImages.describe();
  return new Recording(openLog(file, () => RecordSession.open(file, { argv: o.argv }, images, env.version)), env);
}
