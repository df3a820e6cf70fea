/**
 * The runner: runs one machine from a plain configuration (what the command line parsed), with
 * its host services, monitors and record/replay session. The only entry to this folder.
 */
export type { BiosSpec, RrOption, RunConfig, SerialSpec, StdioMonitor } from './config.js';
export type { RrImages, RunnerEnv } from './env.js';
export { RunnerError } from './errors.js';
export { buildMachineConfig, readImage } from './machine-config.js';
export { runMachine, type RunResult } from './run-machine.js';
export type { ReplayMode, ReplayVerdict } from './replay-mode.js';
