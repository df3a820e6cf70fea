/** What the runner is given besides the configuration: where it writes, and the caller's words. */
import type { LogImage } from '../../../replay/index.js';

/** The images of a record or replay run, as the log's header keeps them. */
export interface RrImages {
  /** The run's images (kernel, firmware, initrd, dtb, drives), hashed for a recording's header. */
  describe(): LogImage[];
  /** Throws (one line) if this run's images differ from the recording's. */
  check(recorded: readonly LogImage[]): void;
}

/** The runner's surroundings, supplied by its caller (the command line). */
export interface RunnerEnv {
  /** The program name that starts each message line (`replayvm: ...`). */
  readonly program: string;
  /** The program's version, kept in a recording's header. */
  readonly version: string;
  /** Writes diagnostics (the caller's stderr). */
  readonly stderr: (text: string) => void;
  /** The command that replays a log, printed after a recording. */
  readonly replayCommand: (log: string) => string;
  /** Describes and checks the images of a record/replay run. */
  readonly rrImages: RrImages;
}

/** The signals that end a run, with their numbers (for QEMU's "terminating on signal N"). */
export const SIGNALS: ReadonlyArray<readonly [NodeJS.Signals, number]> = [['SIGINT', 2], ['SIGTERM', 15], ['SIGHUP', 1]];
