/**
 * Chunk framing. A chunk is
 *   [magic "CHNK"][u32 payload length P][u32 uncompressed length U][u8 flags]
 *   [u64 first icount][u32 event count][P payload bytes][u32 CRC-32 of everything before it]
 * all little-endian. Flag bit 0: the payload is deflate-raw compressed (else P === U).
 */
import { crc32 } from './crc32.js';
import { decodeEvents } from './event-codec.js';
import { ReplayLogError } from './errors.js';
import type { ReplayEvent } from './events.js';
import {
  CHUNK_FLAG_DEFLATE, CHUNK_HEADER_BYTES, CHUNK_KNOWN_FLAGS, CHUNK_MAGIC, CHUNK_TRAILER_BYTES, FORMAT_MAJOR,
  FORMAT_MINOR, MAX_CHUNK_STORED, MAX_CHUNK_UNCOMPRESSED, MAX_DEFLATE_RATIO,
} from './format.js';
import type { ByteSource } from './source.js';
import { ByteWriter } from './varint.js';

/** Compresses a payload (deflate-raw); the writer keeps the result only if it is smaller. */
export type Compress = (raw: Uint8Array) => Uint8Array;
/**
 * Inflates a deflate-raw payload that must yield exactly `uncompressedLength` bytes; it must not
 * produce more (node: `inflateRawSync(data, { maxOutputLength })`). May throw on bad data.
 */
export type Decompress = (data: Uint8Array, uncompressedLength: number) => Uint8Array;

const TWO_32 = 0x1_0000_0000;

/** A framed chunk ready to be written with one write call. */
export interface FramedChunk {
  readonly bytes: Uint8Array;
  readonly compressed: boolean;
  /** Payload bytes as stored (after compression). */
  readonly storedLength: number;
}

/** Frames `raw` (the encoded events); compresses with `compress` when that makes it smaller. */
export function frameChunk(raw: Uint8Array, eventCount: number, firstIcount: number, compress?: Compress): FramedChunk {
  if (raw.length > MAX_CHUNK_UNCOMPRESSED) throw new RangeError(`chunk payload of ${raw.length} bytes exceeds ${MAX_CHUNK_UNCOMPRESSED}`);
  let payload = raw;
  let flags = 0;
  if (compress !== undefined && raw.length > 0) {
    const c = compress(raw);
    if (c.length < raw.length) {
      payload = c;
      flags |= CHUNK_FLAG_DEFLATE;
    }
  }
  if (payload.length > MAX_CHUNK_STORED) throw new RangeError(`chunk payload of ${payload.length} bytes exceeds ${MAX_CHUNK_STORED}`);
  const w = new ByteWriter(CHUNK_HEADER_BYTES + payload.length + CHUNK_TRAILER_BYTES);
  w.bytes(CHUNK_MAGIC);
  w.u32(payload.length);
  w.u32(raw.length);
  w.u8(flags);
  w.u64(firstIcount);
  w.u32(eventCount);
  w.bytes(payload);
  w.u32(crc32(w.written()));
  return { bytes: w.toBytes(), compressed: flags !== 0, storedLength: payload.length };
}

/** A chunk as read back. */
export interface LogChunk {
  /** File offset of the chunk's magic. */
  readonly offset: number;
  /** Bytes the chunk takes in the file (framing included). */
  readonly fileLength: number;
  /** Payload bytes as stored. */
  readonly storedLength: number;
  readonly uncompressedLength: number;
  readonly compressed: boolean;
  readonly firstIcount: number;
  /** Icount of the chunk's last event. */
  readonly lastIcount: number;
  /** Events the chunk header declares (including skipped optional ones). */
  readonly eventCount: number;
  readonly events: readonly ReplayEvent[];
  /** Encoded bytes of each event (parallel to `events`). */
  readonly eventSizes: readonly number[];
  /** Optional events of unknown kinds that were skipped. */
  readonly skipped: number;
  /** Progress checkpoints in the chunk (not in `events`; the last one may set `lastIcount`). */
  readonly progress: number;
}

/** Why reading stopped at a chunk. */
export type ChunkDamage = 'truncated' | 'corrupt' | 'unsupported';

export type ChunkResult =
  | { readonly ok: true; readonly chunk: LogChunk }
  | { readonly ok: false; readonly damage: ChunkDamage; readonly error: ReplayLogError };

export interface ChunkReadContext {
  readonly major: number;
  readonly minor: number;
  /** Icount of the previous chunk's last event (chunks may not go back in time). */
  readonly prevIcount: number;
  readonly decompress: Decompress | undefined;
}

function bad(damage: ChunkDamage, offset: number, message: string): ChunkResult {
  return { ok: false, damage, error: new ReplayLogError(offset, message, damage === 'unsupported') };
}

/**
 * The file length of the chunk at `offset` if its framing and CRC are intact (magic, a stored
 * length within the maximum and within the file, a matching CRC), else undefined. Nothing past
 * the CRC is checked: this only tells whether a writer framed whole bytes there (see resync.ts).
 */
export function intactChunkLength(source: ByteSource, offset: number): number | undefined {
  const head = source.read(offset, CHUNK_HEADER_BYTES);
  if (head.length < CHUNK_HEADER_BYTES) return undefined;
  for (let i = 0; i < CHUNK_MAGIC.length; i++) if (head[i] !== CHUNK_MAGIC[i]) return undefined;
  const stored = new DataView(head.buffer, head.byteOffset, head.byteLength).getUint32(4, true);
  if (stored > MAX_CHUNK_STORED) return undefined;
  const total = CHUNK_HEADER_BYTES + stored + CHUNK_TRAILER_BYTES;
  if (total > source.size - offset) return undefined;
  const bytes = source.read(offset, total);
  if (bytes.length !== total) return undefined;
  const crcAt = total - CHUNK_TRAILER_BYTES;
  const storedCrc = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(crcAt, true);
  return crc32(bytes, 0, crcAt) === storedCrc ? total : undefined;
}

/** Reads and checks the chunk at `offset`; never throws for bad data (reports it instead). */
export function readChunk(source: ByteSource, offset: number, ctx: ChunkReadContext): ChunkResult {
  const left = source.size - offset;
  const head = source.read(offset, CHUNK_HEADER_BYTES);
  for (let i = 0; i < Math.min(head.length, CHUNK_MAGIC.length); i++) {
    if (head[i] !== CHUNK_MAGIC[i]) return bad('corrupt', offset, `bad chunk magic at offset ${offset}`);
  }
  if (head.length < CHUNK_HEADER_BYTES) {
    return bad('truncated', offset, `truncated chunk at offset ${offset} (the file ends after ${head.length} of its ${CHUNK_HEADER_BYTES} header bytes)`);
  }
  const dv = new DataView(head.buffer, head.byteOffset, head.byteLength);
  const stored = dv.getUint32(4, true);
  const uncompressed = dv.getUint32(8, true);
  const flags = dv.getUint8(12);
  const icountLo = dv.getUint32(13, true);
  const icountHi = dv.getUint32(17, true);
  const eventCount = dv.getUint32(21, true);
  if (stored > MAX_CHUNK_STORED) {
    return bad('corrupt', offset + 4, `chunk at offset ${offset}: payload length ${stored} exceeds the maximum of ${MAX_CHUNK_STORED}`);
  }
  const total = CHUNK_HEADER_BYTES + stored + CHUNK_TRAILER_BYTES;
  if (total > left) {
    return bad('truncated', offset, `truncated chunk at offset ${offset} (it is ${total} bytes, the file has ${left} left)`);
  }
  const bytes = source.read(offset, total);
  if (bytes.length !== total) return bad('truncated', offset, `truncated chunk at offset ${offset} (short read)`);
  const crcAt = total - CHUNK_TRAILER_BYTES;
  const storedCrc = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(crcAt, true);
  if (crc32(bytes, 0, crcAt) !== storedCrc) return bad('corrupt', offset, `CRC mismatch in chunk at offset ${offset}`);

  // The CRC matched: what follows is what the writer wrote, so problems are bugs or versions.
  const newer = ctx.major === FORMAT_MAJOR && ctx.minor > FORMAT_MINOR;
  if ((flags & ~CHUNK_KNOWN_FLAGS) !== 0) {
    return bad(newer ? 'unsupported' : 'corrupt', offset + 12,
      `chunk at offset ${offset} has unknown flags 0x${flags.toString(16)} (log format ${ctx.major}.${ctx.minor}, this replayvm reads ${FORMAT_MAJOR}.${FORMAT_MINOR})`);
  }
  if (icountHi >= 0x20_0000) return bad('corrupt', offset + 13, `chunk at offset ${offset}: first icount exceeds 2^53 - 1`);
  const firstIcount = icountHi * TWO_32 + icountLo;
  if (firstIcount < ctx.prevIcount) {
    return bad('corrupt', offset + 13, `chunk at offset ${offset} starts at icount ${firstIcount}, before the previous event's ${ctx.prevIcount} (icounts may not decrease)`);
  }
  const compressed = (flags & CHUNK_FLAG_DEFLATE) !== 0;
  if (uncompressed > MAX_CHUNK_UNCOMPRESSED) {
    return bad('corrupt', offset + 8, `chunk at offset ${offset}: uncompressed length ${uncompressed} exceeds the maximum of ${MAX_CHUNK_UNCOMPRESSED}`);
  }
  if (!compressed && uncompressed !== stored) {
    return bad('corrupt', offset + 8, `chunk at offset ${offset}: uncompressed length ${uncompressed} differs from the stored length ${stored} of an uncompressed chunk`);
  }
  if (compressed && (stored === 0 || uncompressed > stored * MAX_DEFLATE_RATIO)) {
    return bad('corrupt', offset + 8, `chunk at offset ${offset}: uncompressed length ${uncompressed} is impossible for ${stored} compressed bytes`);
  }
  if (eventCount * 2 > uncompressed) {
    return bad('corrupt', offset + 21, `chunk at offset ${offset}: ${eventCount} events cannot fit in ${uncompressed} bytes`);
  }
  let payload = bytes.subarray(CHUNK_HEADER_BYTES, crcAt);
  if (compressed) {
    if (ctx.decompress === undefined) {
      return bad('unsupported', offset, `chunk at offset ${offset} is compressed but no decompressor was given`);
    }
    try {
      payload = ctx.decompress(payload, uncompressed);
    } catch (e) {
      const why = e instanceof Error ? e.message.split('\n')[0] : String(e);
      return bad('corrupt', offset + CHUNK_HEADER_BYTES, `chunk at offset ${offset}: cannot decompress its payload (${why})`);
    }
    if (payload.length !== uncompressed) {
      return bad('corrupt', offset + CHUNK_HEADER_BYTES, `chunk at offset ${offset}: payload inflates to ${payload.length} bytes, not the declared ${uncompressed}`);
    }
  }
  try {
    const d = decodeEvents(payload, eventCount, firstIcount, {
      chunkOffset: offset,
      payloadFileOffset: compressed ? undefined : offset + CHUNK_HEADER_BYTES,
      major: ctx.major, minor: ctx.minor, readerMajor: FORMAT_MAJOR, readerMinor: FORMAT_MINOR,
    });
    return {
      ok: true,
      chunk: {
        offset, fileLength: total, storedLength: stored, uncompressedLength: uncompressed, compressed,
        firstIcount, lastIcount: d.lastIcount, eventCount, events: d.events, eventSizes: d.sizes, skipped: d.skipped,
        progress: d.progress,
      },
    };
  } catch (e) {
    if (e instanceof ReplayLogError) return { ok: false, damage: e.unsupported ? 'unsupported' : 'corrupt', error: e };
    throw e;
  }
}
