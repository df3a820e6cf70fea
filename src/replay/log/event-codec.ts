/**
 * Event encoding inside a chunk payload. Each event is
 *   [kind code u8][icount delta varint][kind-specific fields]
 * where the delta is from the previous event of the same chunk (the first event's base is the
 * chunk's first icount, so its delta is 0). Codes 0x80..0xff are optional events:
 *   [code][delta varint][body length varint][body]
 * which a reader that does not know them skips. See docs/replay-log.md for every field.
 */
import { ReplayLogError } from './errors.js';
import type { ReplayEvent, ReplayEventKind } from './events.js';
import { CLOCK_CODES, END_CODES, KIND_CODES, OPTIONAL_KIND_FIRST, PROGRESS_CODE, REQUEST_CODES } from './format.js';
import { ByteReader, ByteWriter, FormatFault } from './varint.js';

const UTF8_ENCODER = new TextEncoder();
const UTF8_DECODER = new TextDecoder('utf-8', { fatal: true });

const KIND_BY_CODE: ReadonlyMap<number, ReplayEventKind> = new Map(
  Object.entries(KIND_CODES).map(([k, c]) => [c, k as ReplayEventKind]));

function invert<T extends string>(codes: Readonly<Record<T, number>>): readonly T[] {
  const out: T[] = [];
  for (const [name, code] of Object.entries(codes) as [T, number][]) out[code] = name;
  return out;
}
const CLOCK_NAMES = invert(CLOCK_CODES);
const REQUEST_NAMES = invert(REQUEST_CODES);
const END_NAMES = invert(END_CODES);

const HEX_RE = /^[0-9a-fA-F]{16}$/;
const HEX_DIGITS = '0123456789abcdef';

function hashBytes(w: ByteWriter, hash: string, what: string): void {
  if (typeof hash !== 'string' || !HEX_RE.test(hash)) {
    throw new RangeError(`${what} must be 16 hex digits, got ${JSON.stringify(hash)}`);
  }
  for (let i = 0; i < 16; i += 2) w.u8(parseInt(hash.slice(i, i + 2), 16));
}

function readHash(r: ByteReader, what: string): string {
  const b = r.bytesView(8, what);
  let s = '';
  for (let i = 0; i < 8; i++) s += HEX_DIGITS[b[i]! >> 4]! + HEX_DIGITS[b[i]! & 15]!;
  return s;
}

function bytesField(w: ByteWriter, data: unknown, what: string): void {
  if (!(data instanceof Uint8Array)) throw new RangeError(`${what} must be a Uint8Array`);
  w.lengthPrefixed(data);
}

function stringField(w: ByteWriter, text: unknown, what: string): void {
  if (typeof text !== 'string') throw new RangeError(`${what} must be a string`);
  w.lengthPrefixed(UTF8_ENCODER.encode(text));
}

function readString(r: ByteReader, what: string): string {
  const start = r.pos;
  const bytes = r.lengthPrefixed(what);
  try {
    return UTF8_DECODER.decode(bytes);
  } catch {
    throw new FormatFault(start, `${what} is not valid UTF-8`);
  }
}

function code<T extends string>(codes: Readonly<Record<T, number>>, name: T, what: string): number {
  const c = Object.prototype.hasOwnProperty.call(codes, name) ? codes[name] : undefined;
  if (c === undefined) throw new RangeError(`${what} must be one of ${Object.keys(codes).join(', ')}, got ${JSON.stringify(name)}`);
  return c;
}

function named<T extends string>(names: readonly T[], c: number, pos: number, what: string): T {
  const n = names[c];
  if (n === undefined) throw new FormatFault(pos, `unknown ${what} code ${c}`);
  return n;
}

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

/**
 * Appends a progress checkpoint at `icount` (optional event 0x80 with an empty body), its icount
 * as a delta from `prevIcount`. Throws a RangeError (nothing appended) for a bad or decreasing icount.
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

function encodeEventUnchecked(w: ByteWriter, e: ReplayEvent, prevIcount: number): void {
  const kindCode = (KIND_CODES as Record<string, number>)[e.kind];
  if (kindCode === undefined) throw new RangeError(`unknown event kind ${JSON.stringify((e as { kind: unknown }).kind)}`);
  if (!Number.isSafeInteger(e.icount) || e.icount < 0) {
    throw new RangeError(`${e.kind} event: icount must be an integer in [0, 2^53), got ${e.icount}`);
  }
  if (e.icount < prevIcount) {
    throw new RangeError(`${e.kind} event: icount ${e.icount} is before the previous event's ${prevIcount} (icounts may not decrease)`);
  }
  w.u8(kindCode);
  w.varint(e.icount - prevIcount);
  const k = e.kind;
  switch (e.kind) {
    case 'console-input':
      bytesField(w, e.bytes, `${k}.bytes`);
      break;
    case 'virtio-doorbell':
      w.varint(e.slot, `${k}.slot`);
      break;
    case 'block-complete': {
      w.varint(e.slot, `${k}.slot`);
      w.varint(e.request, `${k}.request`);
      const hasError = e.error !== undefined;
      const hasData = e.data !== undefined;
      w.u8((hasError ? 1 : 0) | (hasData ? 2 : 0));
      if (hasError) stringField(w, e.error, `${k}.error`);
      if (hasData) bytesField(w, e.data, `${k}.data`);
      break;
    }
    case 'entropy':
      w.varint(e.slot, `${k}.slot`);
      w.varint(e.request, `${k}.request`);
      bytesField(w, e.bytes, `${k}.bytes`);
      break;
    case 'net-receive':
      w.varint(e.slot, `${k}.slot`);
      bytesField(w, e.frame, `${k}.frame`);
      break;
    case 'clock-read':
      w.u8(code(CLOCK_CODES, e.clock, `${k}.clock`));
      if (typeof e.value !== 'number') throw new RangeError(`${k}.value must be a number`);
      w.f64(e.value);
      break;
    case 'clock-warp':
      w.varint(e.ns, `${k}.ns`);
      break;
    case 'timer':
      w.varint(e.id, `${k}.id`);
      w.varint(e.shift, `${k}.shift`);
      break;
    case 'request':
      w.u8(code(REQUEST_CODES, e.what, `${k}.what`));
      w.u8(e.exitCode !== undefined ? 1 : 0);
      stringField(w, e.cause, `${k}.cause`);
      if (e.exitCode !== undefined) w.svarint(e.exitCode, `${k}.exitCode`);
      break;
    case 'monitor':
      stringField(w, e.command, `${k}.command`);
      break;
    case 'interrupt':
      w.varint(e.hart, `${k}.hart`);
      w.varint(e.cause, `${k}.cause`);
      break;
    case 'digest':
      if (!Array.isArray(e.harts)) throw new RangeError(`${k}.harts must be an array`);
      w.varint(e.harts.length);
      e.harts.forEach((h, i) => {
        if (!Number.isInteger(h.pc) || h.pc < 0 || h.pc > 0xffffffff) {
          throw new RangeError(`${k}.harts[${i}].pc must be an unsigned 32-bit integer, got ${h.pc}`);
        }
        w.u32(h.pc);
        hashBytes(w, h.regsHash, `${k}.harts[${i}].regsHash`);
        const regs = h.regs ?? [];
        if (regs.length > 31) throw new RangeError(`${k}.harts[${i}].regs has ${regs.length} entries (at most 31)`);
        w.varint(regs.length);
        for (const v of regs) {
          if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new RangeError(`${k}.harts[${i}].regs must hold unsigned 32-bit integers`);
          w.u32(v);
        }
      });
      hashBytes(w, e.devicesHash, `${k}.devicesHash`);
      hashBytes(w, e.ramHash, `${k}.ramHash`);
      w.varint(e.ramPages, `${k}.ramPages`);
      break;
    case 'end':
      w.u8(code(END_CODES, e.reason, `${k}.reason`));
      w.svarint(e.exitCode, `${k}.exitCode`);
      break;
    default: {
      const never: never = e;
      throw new RangeError(`unknown event ${JSON.stringify(never)}`);
    }
  }
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

function decodeBody(r: ByteReader, kind: ReplayEventKind, icount: number): ReplayEvent {
  switch (kind) {
    case 'console-input':
      return { kind, icount, bytes: r.lengthPrefixed('console bytes') };
    case 'virtio-doorbell':
      return { kind, icount, slot: r.varint('slot') };
    case 'block-complete': {
      const slot = r.varint('slot');
      const request = r.varint('request');
      const flagsPos = r.pos;
      const flags = r.u8('block flags');
      if ((flags & ~3) !== 0) throw new FormatFault(flagsPos, `unknown block-complete flags 0x${flags.toString(16)}`);
      const error = flags & 1 ? readString(r, 'block error') : undefined;
      const data = flags & 2 ? r.lengthPrefixed('block data') : undefined;
      return {
        kind, icount, slot, request,
        ...(error !== undefined ? { error } : {}),
        ...(data !== undefined ? { data } : {}),
      };
    }
    case 'entropy': {
      const slot = r.varint('slot');
      const request = r.varint('request');
      return { kind, icount, slot, request, bytes: r.lengthPrefixed('entropy bytes') };
    }
    case 'net-receive': {
      const slot = r.varint('slot');
      return { kind, icount, slot, frame: r.lengthPrefixed('frame') };
    }
    case 'clock-read': {
      const pos = r.pos;
      const clock = named(CLOCK_NAMES, r.u8('clock'), pos, 'clock');
      return { kind, icount, clock, value: r.f64('clock value') };
    }
    case 'clock-warp':
      return { kind, icount, ns: r.varint('warp ns') };
    case 'timer': {
      const id = r.varint('timer id');
      return { kind, icount, id, shift: r.varint('shift') };
    }
    case 'request': {
      const pos = r.pos;
      const what = named(REQUEST_NAMES, r.u8('request kind'), pos, 'request');
      const flagsPos = r.pos;
      const flags = r.u8('request flags');
      if ((flags & ~1) !== 0) throw new FormatFault(flagsPos, `unknown request flags 0x${flags.toString(16)}`);
      const cause = readString(r, 'request cause');
      if (flags & 1) return { kind, icount, what, cause, exitCode: r.svarint('exit code') };
      return { kind, icount, what, cause };
    }
    case 'monitor':
      return { kind, icount, command: readString(r, 'monitor command') };
    case 'interrupt': {
      const hart = r.varint('hart');
      return { kind, icount, hart, cause: r.varint('cause') };
    }
    case 'digest': {
      const countPos = r.pos;
      const n = r.varint('hart count');
      // Each hart takes 12 bytes: refuse a count the data cannot hold before allocating.
      if (n * 12 > r.remaining) throw new FormatFault(countPos, `digest hart count ${n} exceeds the data left`);
      const harts: { pc: number; regsHash: string; regs?: number[] }[] = [];
      for (let i = 0; i < n; i++) {
        const pc = r.u32('pc');
        const regsHash = readHash(r, 'regs hash');
        const regPos = r.pos;
        const count = r.varint('register count');
        if (count > 31 || count * 4 > r.remaining) throw new FormatFault(regPos, `digest register count ${count} is invalid`);
        const regs: number[] = [];
        for (let j = 0; j < count; j++) regs.push(r.u32('register'));
        harts.push(count > 0 ? { pc, regsHash, regs } : { pc, regsHash });
      }
      const devicesHash = readHash(r, 'devices hash');
      const ramHash = readHash(r, 'ram hash');
      return { kind, icount, harts, devicesHash, ramHash, ramPages: r.varint('ram pages') };
    }
    case 'end': {
      const pos = r.pos;
      const reason = named(END_NAMES, r.u8('end reason'), pos, 'end reason');
      return { kind, icount, reason, exitCode: r.svarint('exit code') };
    }
  }
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
      const kind = KIND_BY_CODE.get(c);
      if (kind === undefined) {
        const newer = ctx.major === ctx.readerMajor && ctx.minor > ctx.readerMinor;
        newerKind = newer;
        throw new FormatFault(start, newer
          ? `unknown event kind 0x${c.toString(16).padStart(2, '0')}: the log's format ${ctx.major}.${ctx.minor} is newer than this replayvm's ${ctx.readerMajor}.${ctx.readerMinor}`
          : `unknown event kind 0x${c.toString(16).padStart(2, '0')} (not defined in format ${ctx.major}.${ctx.minor})`);
      }
      events.push(decodeBody(r, kind, icount));
      sizes.push(r.pos - start);
    }
    if (r.remaining !== 0) throw new FormatFault(r.pos, `${r.remaining} bytes of unexpected data after the chunk's ${count} events`);
  } catch (e) {
    if (e instanceof FormatFault) throw fail(e);
    throw e;
  }
  return { events, sizes, skipped, progress, lastIcount: icount };
}
