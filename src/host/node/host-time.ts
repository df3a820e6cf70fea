/**
 * The host's clocks for the machine. This is the only place host time enters replayvm:
 * record/replay will wrap this object.
 */
import type { HostTime } from '../../main-loop/clock.js';

/**
 * The origin of monotonic time, shared by every thread of the process: the machine's clock
 * state holds offsets against it, which both the main thread and the vCPU thread apply.
 */
let processOrigin = process.hrtime.bigint();

/** `HostTime` from Node: `process.hrtime.bigint()` (monotonic) and `Date.now()` (wall clock). */
export class NodeHostTime implements HostTime {
  /** The process-wide origin of `monotonicNs` (pass it to a worker thread). */
  static origin(): bigint {
    return processOrigin;
  }

  /** A worker thread adopts the main thread's origin before it reads any time. */
  static adoptOrigin(origin: bigint): void {
    processOrigin = origin;
  }

  /** Nanoseconds since the process-wide origin (monotonic; exact for about 104 days). */
  monotonicNs(): number {
    return Number(process.hrtime.bigint() - processOrigin);
  }

  /** Nanoseconds since the Unix epoch (millisecond resolution). */
  realtimeNs(): number {
    return Date.now() * 1_000_000;
  }
}
