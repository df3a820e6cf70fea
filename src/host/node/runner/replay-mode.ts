/**
 * Record/replay as one object chosen at start-up (QEMU's replay_mode, without the `if`s):
 * `NoReplay`, `Recording` or `Replaying` (mode.ts says what a mode does). A run without
 * record/replay does not load the replay engine: the recording and replaying modes, and the log
 * code under them, are imported only when chosen (start-up time).
 */
import type { RunConfig } from './config.js';
import type { RunnerEnv } from './env.js';
import type { ReplayMode } from './mode.js';
import { NoReplay } from './no-replay.js';

export type { LoopSetup, ModeAttachment, ReplayEnd, ReplayMode, ReplayVerdict } from './mode.js';

/**
 * The mode of a run, chosen once: none, or a record or replay run with its log opened (a
 * replay's images checked against the recording's).
 */
export async function openReplayMode(o: RunConfig, env: RunnerEnv): Promise<ReplayMode> {
  const rr = o.rr;
  if (rr === undefined || o.dumpDtb !== undefined) return new NoReplay();
  if (rr.mode === 'record') return (await import('./recording.js')).openRecording(rr.file, o, env);
  return (await import('./replaying.js')).openReplaying(rr.file, env);
}
