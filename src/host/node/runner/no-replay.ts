/** The mode of a run without record/replay: inputs go straight to the machine, at no cost. */
import { installAutoShiftTimers } from '../../../main-loop/icount.js';
import { RunLoop, type MachineLoop } from '../run-loop.js';
import { ThreadedRunLoop } from '../threaded-run-loop.js';
import type { LoopSetup, ModeAttachment, ReplayMode } from './mode.js';

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
