/**
 * The host's clocks for the machine. This is the only place host time enters replayvm:
 * record/replay will wrap this object.
 */
import type { HostTime } from '../../main-loop/clock.js';

/** `HostTime` from Node: `process.hrtime.bigint()` (monotonic) and `Date.now()` (wall clock). */
export class NodeHostTime implements HostTime {
  private readonly origin = process.hrtime.bigint();

  /** Nanoseconds since this object was created (monotonic; exact for about 104 days). */
  monotonicNs(): number {
    return Number(process.hrtime.bigint() - this.origin);
  }

  /** Nanoseconds since the Unix epoch (millisecond resolution). */
  realtimeNs(): number {
    return Date.now() * 1_000_000;
  }
}
