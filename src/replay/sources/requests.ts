/**
 * Requests from outside the guest: a system shutdown, reset or powerdown (QEMU's
 * replay_shutdown_request), and monitor commands that change the guest. Today one is recorded:
 * a monitor `system_reset`, which the vCPU thread performs between instructions and puts in its
 * event mailbox. Replaying, a logged reset makes the Replayer stop applying events so the vCPU
 * thread can do the reset at the same instruction; the other requests are not replayed yet.
 */
import { KIND_CODES, REQUEST_CODES } from '../log/format.js';
import { FormatFault } from '../log/varint.js';
import { CodedName, readString, writeString } from './fields.js';
import type { At, EventSource, ReplayContext } from './source.js';

/** The cause of a logged `system_reset` from the monitor (QEMU's SHUTDOWN_CAUSE_HOST_QMP_SYSTEM_RESET). */
export const MONITOR_RESET_CAUSE = 'host-qmp-system-reset';

/** A shutdown/reset/powerdown request. */
export interface RequestEvent extends At {
  readonly kind: 'request';
  readonly what: 'shutdown' | 'reset' | 'powerdown';
  readonly cause: string;
  readonly exitCode?: number;
}

/** A monitor command that changes the guest. */
export interface MonitorEvent extends At {
  readonly kind: 'monitor';
  readonly command: string;
}

/** What a replayed reset needs from the Replayer. */
export interface RequestReplayContext extends ReplayContext {
  /** Stops applying events at this one: the caller has the vCPU thread reset the machine. */
  requestReset(): void;
}

const REQUESTS = new CodedName(REQUEST_CODES, 'request');

/** Recording: the monitor's `system_reset`, done by the vCPU thread at `icount` (from its mailbox). */
export function recordMonitorReset(icount: number): RequestEvent {
  return { kind: 'request', icount, what: 'reset', cause: MONITOR_RESET_CAUSE };
}

/** Replaying: a reset is handed to the caller; other requests are not replayed yet. */
export function replayRequest(e: RequestEvent, ctx: RequestReplayContext): void {
  if (e.what !== 'reset') ctx.diverge(describeRequest(e), 'a request kind this replayer does not apply');
  ctx.requestReset();
}

/** Replaying: monitor commands are not recorded yet, so a log that has one is not replayable. */
export function replayMonitor(e: MonitorEvent, ctx: ReplayContext): void {
  ctx.diverge(describeMonitor(e), 'an event kind this replayer does not apply yet');
}

/** Describes a request event for reports. */
export function describeRequest(e: RequestEvent): string {
  return `a system ${e.what} (${e.cause}) at instruction ${e.icount}`;
}

/** Describes a monitor event for reports. */
export function describeMonitor(e: MonitorEvent): string {
  return `monitor event at instruction ${e.icount}`;
}

/** `request` events (code 0x08: what u8, flags u8 (1: exit code), cause string, then the exit code svarint when flagged). */
export const REQUEST: EventSource<RequestEvent, RequestReplayContext> = {
  kind: 'request',
  code: KIND_CODES.request,
  encode(w, e) {
    REQUESTS.write(w, e.what, 'request.what');
    w.u8(e.exitCode !== undefined ? 1 : 0);
    writeString(w, e.cause, 'request.cause');
    if (e.exitCode !== undefined) w.svarint(e.exitCode, 'request.exitCode');
  },
  decode(r, icount) {
    const what = REQUESTS.read(r, 'request kind');
    const flagsPos = r.pos;
    const flags = r.u8('request flags');
    if ((flags & ~1) !== 0) throw new FormatFault(flagsPos, `unknown request flags 0x${flags.toString(16)}`);
    const cause = readString(r, 'request cause');
    if (flags & 1) return { kind: 'request', icount, what, cause, exitCode: r.svarint('exit code') };
    return { kind: 'request', icount, what, cause };
  },
  describe: describeRequest,
  replay: replayRequest,
};

/** `monitor` events (code 0x09: command string). */
export const MONITOR: EventSource<MonitorEvent> = {
  kind: 'monitor',
  code: KIND_CODES.monitor,
  encode: (w, e) => writeString(w, e.command, 'monitor.command'),
  decode: (r, icount) => ({ kind: 'monitor', icount, command: readString(r, 'monitor command') }),
  describe: describeMonitor,
  replay: replayMonitor,
};
