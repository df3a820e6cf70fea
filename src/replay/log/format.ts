/**
 * Constants of the replay log format (docs/replay-log.md describes every byte).
 */

/** The file's first 8 bytes: "RVMRLOG" and a NUL. */
export const LOG_MAGIC: Uint8Array = new Uint8Array([0x52, 0x56, 0x4d, 0x52, 0x4c, 0x4f, 0x47, 0x00]);
/** Every chunk's first 4 bytes: "CHNK". */
export const CHUNK_MAGIC: Uint8Array = new Uint8Array([0x43, 0x48, 0x4e, 0x4b]);

/** The format version this code writes. Readers accept any minor of the same major. */
export const FORMAT_MAJOR = 2;
/**
 * 1.1 added the `progress` checkpoint (optional event 0x80), which 1.0 readers skip. 2.0 is 1.1
 * with state digests that leave out the hart's x0 write sink (host-derived since the block
 * translator, which leaves other garbage there): a 1.x log's digests would not match, so 1.x logs
 * are refused by their version rather than reported as diverged.
 */
export const FORMAT_MINOR = 0;

/** magic 8 + major u16 + minor u16 + body length u32. */
export const HEADER_FIXED_BYTES = 16;
/** The JSON body of the header may not exceed this. */
export const MAX_HEADER_BODY = 1 << 20;

/** magic 4 + payload length u32 + uncompressed length u32 + flags u8 + first icount u64 + event count u32. */
export const CHUNK_HEADER_BYTES = 25;
/** The CRC32 after the payload. */
export const CHUNK_TRAILER_BYTES = 4;
/** Chunk flag bit 0: the payload is deflate-raw compressed. */
export const CHUNK_FLAG_DEFLATE = 0x01;
/** Flags this version knows; any other bit set is an error. */
export const CHUNK_KNOWN_FLAGS = CHUNK_FLAG_DEFLATE;
/** Largest payload as stored in the file (after compression). */
export const MAX_CHUNK_STORED = 16 << 20;
/** Largest payload after decompression. */
export const MAX_CHUNK_UNCOMPRESSED = 64 << 20;
/** Deflate cannot expand more than ~1032:1; a declared size beyond this is corrupt. */
export const MAX_DEFLATE_RATIO = 1100;

/** The writer refuses a single event whose encoding exceeds this. */
export const MAX_EVENT_BYTES = 8 << 20;
/** The writer's largest size threshold for cutting chunks. */
export const MAX_CHUNK_THRESHOLD = 4 << 20;

/** Varints are at most 8 bytes (56 bits) and their value at most 2^53 - 1. */
export const MAX_VARINT_BYTES = 8;

/** Event kind codes. Codes 0x80..0xff are optional events (a varint body length follows the code). */
export const KIND_CODES = {
  'console-input': 0x01,
  'virtio-doorbell': 0x02,
  'block-complete': 0x03,
  'entropy': 0x04,
  'net-receive': 0x05,
  'clock-read': 0x06,
  'timer': 0x07,
  'request': 0x08,
  'monitor': 0x09,
  'interrupt': 0x0a,
  'digest': 0x0b,
  'end': 0x0c,
  'clock-warp': 0x0d,
} as const;

/** First code of the optional (skippable) event range. */
export const OPTIONAL_KIND_FIRST = 0x80;

/**
 * Optional event 0x80 (format 1.1): a progress checkpoint, "the recording reached this icount",
 * with an empty body. Not a ReplayEvent: the reader folds it into the chunk's `lastIcount` and
 * `progress`, so a replay of a killed recording runs up to it (docs/replay-log.md).
 */
export const PROGRESS_CODE = 0x80;

export const CLOCK_CODES = { host: 0, realtime: 1 } as const;
export const REQUEST_CODES = { shutdown: 0, reset: 1, powerdown: 2 } as const;
export const END_CODES = { shutdown: 0, quit: 1, error: 2, signal: 3 } as const;
