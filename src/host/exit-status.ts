/**
 * The exit statuses of a replayvm process, defined once. The host-side runner and replay code
 * return them; cli/ re-exports them (src/cli/exit-status.ts) and the README documents them.
 * A run's own status is the guest's (the sifive_test finisher's code, 0 on an SBI shutdown),
 * as in QEMU; the others say why replayvm itself stopped.
 */

/** Success; for a run, the guest's status takes this place. */
export const EXIT_OK = 0;
/** A runtime error: a file cannot be read, a bad image, an internal error. */
export const EXIT_ERROR = 1;
/** A usage error: a bad command line, a missing file argument, an unknown option. */
export const EXIT_USAGE = 2;
/** A replay diverged from its log. */
export const EXIT_REPLAY_DIVERGED = 3;
/** A replay log is damaged (corrupt in the middle, not just cut short). */
export const EXIT_LOG_DAMAGED = 4;
/** A replay of an incomplete log (a recording killed before its end): its prefix replayed. */
export const EXIT_LOG_INCOMPLETE = 5;

/** One of replayvm's own exit statuses (a guest's status may be any byte). */
export type ExitStatus =
  | typeof EXIT_OK | typeof EXIT_ERROR | typeof EXIT_USAGE
  | typeof EXIT_REPLAY_DIVERGED | typeof EXIT_LOG_DAMAGED | typeof EXIT_LOG_INCOMPLETE;

/** Each status with what it means, in order: the README's table and `-h` print these. */
export const EXIT_STATUSES: ReadonlyArray<readonly [ExitStatus, string]> = [
  [EXIT_OK, 'success (a run exits with the guest\'s status: sifive_test code, 0 on SBI shutdown)'],
  [EXIT_ERROR, 'runtime error (a file cannot be read, a bad image, an internal error)'],
  [EXIT_USAGE, 'usage error (bad command line, missing file argument, unknown option)'],
  [EXIT_REPLAY_DIVERGED, 'replay diverged from its log'],
  [EXIT_LOG_DAMAGED, 'replay log damaged (corrupt in the middle)'],
  [EXIT_LOG_INCOMPLETE, 'replay log incomplete (recording killed before its end)'],
];
