/** A settable HostTime for tests (shared by the main-loop tests). */
import type { HostTime } from '../../../src/main-loop/clock.js';

/** Host time that moves only when told. */
export class FakeHostTime implements HostTime {
  mono = 1_000_000_000;
  // Small enough for exact ns arithmetic (real epoch ns exceed 2^53).
  wall = 1_700_000_000_000_000;

  monotonicNs(): number {
    return this.mono;
  }

  realtimeNs(): number {
    return this.wall;
  }

  /** Advances both clocks by `ns`. */
  advance(ns: number): void {
    this.mono += ns;
    this.wall += ns;
  }
}
