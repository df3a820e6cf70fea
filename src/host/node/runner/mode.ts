/**
 * What a record/replay mode is (QEMU's replay_mode, without the `if`s): the runner calls the
 * same methods in every mode, and never asks which one it has. The three implementations are
 * NoReplay (no-replay.ts), Recording (recording.ts) and Replaying (replaying.ts); replay-mode.ts
 * chooses one at start-up.
 */
import type { Machine, TraceFlags } from '../../../board/machine-api.js';
import type { CharBackend } from '../../../devices/char-backend.js';
import type { HostTime } from '../../../main-loop/clock.js';
import type { MainLoop } from '../../../main-loop/main-loop.js';
import type { HostConsole } from '../console.js';
import type { MachineLoop, RunOutcome } from '../run-loop.js';
import type { VirtioHost } from '../virtio-host.js';

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
