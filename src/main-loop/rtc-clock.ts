/**
 * The time the guest's real-time clock (goldfish RTC) reads, as QEMU's softmmu/rtc.c computes it
 * for `-rtc base=...,clock=...`: a start date (the host's time at startup, or a given date)
 * that then advances with the chosen clock:
 * - clock=host: host wall time (follows host clock changes), shifted by the base date;
 * - clock=rt: host monotonic time, also while the VM is stopped;
 * - clock=vm: the virtual clock, so it stops with the VM and, with icount and a fixed date base,
 *   is deterministic.
 * base=localtime presents local wall time as if it were UTC (what a guest expecting a local
 * RTC wants); the time zone offset is injected, never read from the host here.
 */
import type { ClockKind, Clocks } from './clocks.js';

/** `-rtc base=`. */
export type RtcBase =
  | { readonly kind: 'utc' }
  | { readonly kind: 'localtime' }
  /** A fixed start date, ms since the Unix epoch (UTC). */
  | { readonly kind: 'date'; readonly epochMs: number };

/** `-rtc clock=`. */
export type RtcClockSource = 'host' | 'rt' | 'vm';

/** The parsed `-rtc` option. */
export interface RtcConfig {
  readonly base: RtcBase;
  readonly clock: RtcClockSource;
  /** `driftfix=` (accepted as QEMU does; only the x86 mc146818 RTC uses slew). */
  readonly driftfix?: 'none' | 'slew';
}

/** The RTC's reference point, fixed at machine creation (plain data; save it with the machine). */
export interface RtcReference {
  readonly config: RtcConfig;
  /** RTC time (ns since the epoch, before any local time shift) at the reference point. */
  readonly startNs: number;
  /** The source clock's value at the reference point. */
  readonly sourceNs: number;
}

/** Local time zone offset east of UTC in ns at the UTC instant `utcNs` (injected, DST aware). */
export type LocalOffsetNs = (utcNs: number) => number;

/** The RTC was read in a way its configuration cannot serve. */
export class RtcClockError extends Error {
  override name = 'RtcClockError';
}

const SOURCE: Readonly<Record<RtcClockSource, ClockKind>> = { host: 'host', rt: 'realtime', vm: 'virtual' };

/** The default `-rtc` (base=utc,clock=host). */
export const DEFAULT_RTC: RtcConfig = { base: { kind: 'utc' }, clock: 'host' };

/**
 * Fixes the RTC's reference at machine creation (QEMU's configure_rtc): start at the given date,
 * or at the host's wall time now for utc/localtime.
 */
export function createRtcReference(config: RtcConfig, clocks: Clocks): RtcReference {
  const startNs = config.base.kind === 'date' ? config.base.epochMs * 1_000_000 : clocks.now('host');
  return { config, startNs, sourceNs: clocks.now(SOURCE[config.clock]) };
}

/**
 * The RTC's current time in ns since the epoch: start date plus the time the chosen clock has
 * advanced since the reference, plus the local time offset for base=localtime (which needs
 * `localOffsetNs`). Pure apart from reading `clocks`.
 */
export function rtcNowNs(rtc: RtcReference, clocks: Clocks, localOffsetNs?: LocalOffsetNs): number {
  const utcNs = rtc.startNs + (clocks.now(SOURCE[rtc.config.clock]) - rtc.sourceNs);
  if (rtc.config.base.kind !== 'localtime') return utcNs;
  if (localOffsetNs === undefined) throw new RtcClockError('-rtc base=localtime needs the local time zone offset');
  return utcNs + localOffsetNs(utcNs);
}
