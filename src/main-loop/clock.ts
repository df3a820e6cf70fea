/**
 * Guest time. In issue 3 there is one virtual clock, driven either by instructions executed
 * (icount: deterministic, `ns = steps << shift`) or by the host's monotonic clock. Host time is
 * non-deterministic input, so it enters only through the `HostTime` interface implemented in
 * src/host (which record/replay will wrap).
 */

/** The clocks, named as QEMU's QEMUClockType without the prefix (see clocks.ts). */
export type ClockKind = 'realtime' | 'host' | 'virtual' | 'virtual_rt';

/** All clock kinds, in QEMU's enum order (REALTIME, VIRTUAL, HOST, VIRTUAL_RT). */
export const CLOCK_KINDS: readonly ClockKind[] = ['realtime', 'virtual', 'host', 'virtual_rt'];

/** Non-deterministic time from the host. Implemented in src/host, injected into the core. */
export interface HostTime {
  /** A monotonic clock in nanoseconds (any epoch). */
  monotonicNs(): number;
  /** Wall-clock time in nanoseconds since the Unix epoch (for the RTC). */
  realtimeNs(): number;
}

/** Timebase of CLINT mtime on QEMU virt: 10 MHz, so one tick is 100 ns. */
export const MTIME_HZ = 10_000_000;
export const NS_PER_MTIME_TICK = 1_000_000_000 / MTIME_HZ;
