/**
 * Event encoding inside a chunk payload. Each event is
 *   [kind code u8][icount delta varint][kind-specific fields]
 * where the delta is from the previous event of the same chunk (the first event's base is the
 * chunk's first icount, so its delta is 0). Codes 0x80..0xff are optional events:
 *   [code][delta varint][body length varint][body]
 * which a reader that does not know them skips. See docs/replay-log.md for every field.
 */
import { ReplayLogError } from './errors.js';
import type { ReplayEvent } from './events.js';
import { OPTIONAL_KIND_FIRST, PROGRESS_CODE } from './format.js';
import { ByteReader, ByteWriter, FormatFault } from './varint.js';
import { sourceOf, sourceOfCode } from '../sources/index.js';

/**
 * Appends the encoding of `e` to `w`, its icount as a delta from `prevIcount`. Throws a
 * RangeError naming the field when the event is not encodable (nothing is then appended).
 */
export function encodeEvent(w: ByteWriter, e: ReplayEvent, prevIcount: number): void {
  const mark = w.length;
  try {
    encodeEventUnchecked(w, e, prevIcount);
  } catch (err) {
    w.truncate(mark);
    throw err;
  }
}

/** Progress checkpoints belong with the end of a recording (sources/end.ts); the log writer appends them. */
export { encodeProgress } from '../sources/end.js';

function encodeEventUnchecked(w: ByteWriter, e: ReplayEvent, prevIcount: number): void {
  const source = sourceOf(e);
  if (source === undefined) throw new RangeError(`unknown event kind ${JSON.stringify((e as { kind: unknown }).kind)}`);
  if (!Number.isSafeInteger(e.icount) || e.icount < 0) {
    throw new RangeError(`${e.kind} event: icount must be an integer in [0, 2^53), got ${e.icount}`);
  }
  if (e.icount < prevIcount) {
    throw new RangeError(`${e.kind} event: icount ${e.icount} is before the previous event's ${prevIcount} (icounts may not decrease)`);
  }
  w.u8(source.code);
  w.varint(e.icount - prevIcount);
  source.encode(w, e);
}

/** Encodes a list of events (first delta from `baseIcount`) into fresh bytes. */
export function encodeEvents(events: readonly ReplayEvent[], baseIcount = events[0]?.icount ?? 0): Uint8Array {
  const w = new ByteWriter();
  let prev = baseIcount;
  for (const e of events) {
    encodeEvent(w, e, prev);
    prev = e.icount;
  }
  return w.toBytes();
}

/** Where a payload sits in the file and which format version wrote it (for error messages). */
export interface PayloadContext {
  /** File offset of the chunk. */
  readonly chunkOffset: number;
  /** File offset of the payload's first byte when it is stored uncompressed. */
  readonly payloadFileOffset: number | undefined;
  /** The log's format version. */
  readonly major: number;
  readonly minor: number;
  /** This reader's format version. */
  readonly readerMajor: number;
  readonly readerMinor: number;
}

export interface DecodedEvents {
  readonly events: ReplayEvent[];
  /** Encoded size of each event (parallel to `events`). */
  readonly sizes: number[];
  /** Optional events of kinds this reader does not know, skipped. */
  readonly skipped: number;
  /** Progress checkpoints read (optional event 0x80; not in `events`). */
  readonly progress: number;
  /** Icount of the last event, progress checkpoints included (the base when there is none). */
  readonly lastIcount: number;
}

/**
 * Decodes exactly `count` events (optional unknown ones are skipped but counted) filling all of
 * `payload`; throws a ReplayLogError naming the byte and the event index.
 */
export function decodeEvents(payload: Uint8Array, count: number, baseIcount: number, ctx: PayloadContext): DecodedEvents {
  const r = new ByteReader(payload);
  const events: ReplayEvent[] = [];
  const sizes: number[] = [];
  let skipped = 0;
  let progress = 0;
  let icount = baseIcount;
  let index = 0;
  let newerKind = false;
  const fail = (f: FormatFault): ReplayLogError => {
    const where = ctx.payloadFileOffset !== undefined
      ? { offset: ctx.payloadFileOffset + f.pos, text: `at offset ${ctx.payloadFileOffset + f.pos}` }
      : { offset: ctx.chunkOffset, text: `at uncompressed payload byte ${f.pos}` };
    const chunk = ctx.payloadFileOffset !== undefined ? 'chunk' : 'compressed chunk';
    return new ReplayLogError(where.offset,
      `event ${index} of the ${chunk} at offset ${ctx.chunkOffset}: ${f.message} ${where.text}`, newerKind);
  };
  try {
    for (; index < count; index++) {
      const start = r.pos;
      if (r.remaining === 0) throw new FormatFault(start, `the payload ends after ${index} of ${count} events`);
      const c = r.u8('kind');
      const delta = r.varint('icount delta');
      if (index === 0 && delta !== 0) throw new FormatFault(start + 1, `the first event of a chunk has icount delta ${delta} (must be 0)`);
      if (icount + delta > Number.MAX_SAFE_INTEGER) throw new FormatFault(start + 1, `icount ${icount} + ${delta} exceeds 2^53 - 1`);
      icount += delta;
      if (events.length > 0 && events[events.length - 1]!.kind === 'end') {
        throw new FormatFault(start, 'an event follows the end event');
      }
      if (c >= OPTIONAL_KIND_FIRST) {
        const n = r.varint('optional event length');
        if (n > r.remaining) throw new FormatFault(start, `optional event 0x${c.toString(16)} length ${n} exceeds the ${r.remaining} bytes left`);
        r.pos += n;
        // A progress checkpoint's body is empty in 1.1; a later minor may append fields to it.
        if (c === PROGRESS_CODE) progress++;
        else skipped++;
        continue;
      }
      const source = sourceOfCode(c);
      if (source === undefined) {
        const newer = ctx.major === ctx.readerMajor && ctx.minor > ctx.readerMinor;
        newerKind = newer;
        throw new FormatFault(start, newer
          ? `unknown event kind 0x${c.toString(16).padStart(2, '0')}: the log's format ${ctx.major}.${ctx.minor} is newer than this replayvm's ${ctx.readerMajor}.${ctx.readerMinor}`
          : `unknown event kind 0x${c.toString(16).padStart(2, '0')} (not defined in format ${ctx.major}.${ctx.minor})`);
      }
      events.push(source.decode(r, icount));
      sizes.push(r.pos - start);
    }
    if (r.remaining !== 0) throw new FormatFault(r.pos, `${r.remaining} bytes of unexpected data after the chunk's ${count} events`);
  } catch (e) {
    if (e instanceof FormatFault) throw fail(e);
    throw e;
  }
  return { events, sizes, skipped, progress, lastIcount: icount };
}
