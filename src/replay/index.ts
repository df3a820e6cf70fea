/**
 * Record/replay: the only module that code outside src/replay imports (as QEMU's
 * include/sysemu/replay.h). The log format (log/), the engine that records and replays
 * events onto a machine (engine/), and what the vCPU thread's mailboxes carry. Internals stay
 * private; tests beside the code may import them.
 */
export * from './log/index.js';
export { StateDigester } from './engine/digest.js';
export { compareDigests } from './sources/index.js';
export { Recorder, type EventSink } from './engine/recorder.js';
export {
  ReplayDivergence, Replayer, describeEvent,
  type EventSource, type ReplayDevices, type ReplayVcpu, type VcpuReports,
} from './engine/replayer.js';
export { INTERRUPT_CHECKPOINTS, MONITOR_RESET_CAUSE, ReplayVcpuChannel, drainVcpuEvents } from './engine/vcpu-channel.js';
