/**
 * `-rtc [base=utc|localtime|DATE][,clock=host|rt|vm][,driftfix=none|slew]`, parsed as QEMU's
 * configure_rtc does, with QEMU's messages after the usual `-rtc TEXT: ` prefix.
 * DATE is `YYYY-MM-DD` or `YYYY-MM-DDTHH:MM:SS`, in UTC.
 */
import type { RtcBase, RtcClockSource, RtcConfig } from '../main-loop/rtc-clock.js';
import { CliError, parseKeyValues } from './option-syntax.js';

const KEYS = new Set(['base', 'clock', 'driftfix']);

/**
 * Parses a `-rtc base=` date as ms since the epoch (UTC), or undefined when it is not one of
 * the two formats. Out-of-range fields carry over as with C's mktime (2006-13-01 is 2007-01-01).
 */
export function parseRtcDate(text: string): number | undefined {
  const m = /^([+-]?\d+)-([+-]?\d+)-([+-]?\d+)(?:T([+-]?\d+):([+-]?\d+):([+-]?\d+))?$/.exec(text);
  if (m === null) return undefined;
  const field = (n: number): number => {
    const f = m[n];
    return f === undefined ? 0 : Number(f);
  };
  const d = new Date(0);
  d.setUTCFullYear(field(1), field(2) - 1, field(3));
  d.setUTCHours(field(4), field(5), field(6), 0);
  const ms = d.getTime();
  return Number.isFinite(ms) ? ms : undefined;
}

/**
 * Parses the argument of `-rtc`; missing parts default to base=utc, clock=host.
 * Throws CliError with QEMU's message for invalid input.
 * @param option the option name used in messages.
 */
export function parseRtcOption(text: string, option = '-rtc'): RtcConfig {
  const fail = (message: string): never => {
    throw new CliError(`${option} ${text}: ${message}`);
  };
  let base: RtcBase = { kind: 'utc' };
  let clock: RtcClockSource = 'host';
  let driftfix: 'none' | 'slew' | undefined;
  for (const { key, value } of parseKeyValues(text, undefined, option)) {
    if (!KEYS.has(key)) fail(`Invalid parameter '${key}'`);
    if (key === 'base') {
      if (value === 'utc' || value === 'localtime') {
        base = { kind: value };
      } else {
        const epochMs = parseRtcDate(value);
        if (epochMs === undefined) {
          fail("invalid datetime format (valid formats: '2006-06-17T16:01:21' or '2006-06-17')");
        }
        base = { kind: 'date', epochMs: epochMs ?? 0 };
      }
    } else if (key === 'clock') {
      if (value !== 'host' && value !== 'rt' && value !== 'vm') fail(`invalid option value '${value}'`);
      clock = value as RtcClockSource;
    } else {
      if (value !== 'none' && value !== 'slew') fail(`invalid option value '${value}'`);
      driftfix = value as 'none' | 'slew';
    }
  }
  return driftfix === undefined ? { base, clock } : { base, clock, driftfix };
}
