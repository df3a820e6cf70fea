/**
 * What drives a machine for the host: the single-threaded `RunLoop` (slices on the main
 * thread) and the threaded runner (a vCPU worker) share this surface, so the CLI and the
 * monitor's `MachineVmControl` work with either.
 */

/** Pausing and resuming a running machine (what the monitor's stop/cont need). */
export interface VmPauseControl {
  /** Host input arrived: end an idle wait now (no effect while paused). */
  wake(): void;
  /** Ends the run at the next safe point; `run` settles with `exitCode`. */
  stop(exitCode: number): void;
  /**
   * Stops executing guest instructions. Resolves once no vCPU runs (between slices on the main
   * thread; after the vCPU thread parked for the threaded runner). Pausing a paused runner,
   * or one that has not started yet (`-S`), just resolves.
   */
  pause(): Promise<void>;
  /** Continues after `pause`; resolves once the vCPUs are scheduled again. */
  resume(): Promise<void>;
  /** True between `pause` and `resume`. */
  readonly paused: boolean;
}

/**
 * A machine runner: `run` starts it (honouring an earlier `pause`, as `-S` needs) and resolves
 * with the process exit code once the machine shut down or `stop` was called.
 * (`RunLoop.run` resolves with a `RunOutcome` carrying the exit code and cause, so it
 * implements `VmPauseControl`; the threaded runner implements the whole interface.)
 */
export interface VmRunner extends VmPauseControl {
  run(): Promise<number>;
}
