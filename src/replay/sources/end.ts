/**
 * The end of a recording: why it stopped and the exit status, the last event of the last chunk
 * (after a final digest). Replaying, every interrupt checkpoint must have been taken by then, and
 * the Replayer returns the end event to its caller. A log without one was cut short (a crash or
 * a kill). Progress checkpoints bound how far such a log replays: every 50 ms of host time the
 * log writer appends one, "the recording reached this icount" (optional event 0x80 with an empty
 * body, format 1.1, not a ReplayEvent: the reader folds it into the chunk's last icount), so a
 * replay runs to within that of the kill (docs/replay-log.md).
 */
import { END_CODES, KIND_CODES, PROGRESS_CODE } from '../log/format.js';
import type { ByteWriter } from '../log/varint.js';
import { CodedName } from './fields.js';
import type { InterruptCheckpoints } from './interrupts.js';
import type { At, EventSource, RecordContext, ReplayContext } from './source.js';

/** The clean end of the recording: the last event of the last chunk. */
export interface EndEvent extends At {
  readonly kind: 'end';
  readonly reason: 'shutdown' | 'quit' | 'error' | 'signal';
  readonly exitCode: number;
}

const REASONS = new CodedName(END_CODES, 'end reason');

/** Recording: logs the end (the Recorder logs a final digest first). */
export function recordEnd(ctx: RecordContext<EndEvent>, reason: EndEvent['reason'], exitCode: number): void {
  ctx.emit({ kind: 'end', icount: ctx.icount, reason, exitCode });
}

/** What a replayed end needs from the Replayer. */
export interface EndReplayContext extends ReplayContext {
  readonly interrupts: InterruptCheckpoints;
}

/** Replaying: every interrupt checkpoint left must have been taken (the Replayer then stops). */
export function replayEnd(e: EndEvent, ctx: EndReplayContext): void {
  ctx.interrupts.checkTaken(e.icount, true, ctx);
}

/** Describes an end event for reports. */
export function describeEnd(e: EndEvent): string {
  return `end of recording (${e.reason}, exit ${e.exitCode}) at instruction ${e.icount}`;
}

/** `end` events (code 0x0c: reason u8, exit code svarint). */
export const END: EventSource<EndEvent, EndReplayContext> = {
  kind: 'end',
  code: KIND_CODES.end,
  encode(w, e) {
    REASONS.write(w, e.reason, 'end.reason');
    w.svarint(e.exitCode, 'end.exitCode');
  },
  decode(r, icount) {
    const reason = REASONS.read(r, 'end reason');
    return { kind: 'end', icount, reason, exitCode: r.svarint('exit code') };
  },
  describe: describeEnd,
  replay: replayEnd,
};

/**
 * Recording: appends a progress checkpoint at `icount` (optional event 0x80 with an empty body),
 * its icount as a delta from `prevIcount`. Throws a RangeError (nothing appended) for a bad or
 * decreasing icount.
 */
export function encodeProgress(w: ByteWriter, icount: number, prevIcount: number): void {
  if (!Number.isSafeInteger(icount) || icount < 0) throw new RangeError(`progress checkpoint: icount must be an integer in [0, 2^53), got ${icount}`);
  if (icount < prevIcount) {
    throw new RangeError(`progress checkpoint: icount ${icount} is before the previous event's ${prevIcount} (icounts may not decrease)`);
  }
  w.u8(PROGRESS_CODE);
  w.varint(icount - prevIcount);
  w.varint(0);
}
