/**
 * The log header: magic, format version, a JSON body describing the recording, and a CRC.
 *
 *   offset 0   8 bytes  magic "RVMRLOG\0"
 *   offset 8   u16 LE   format major
 *   offset 10  u16 LE   format minor
 *   offset 12  u32 LE   body length B (at most 1 MiB)
 *   offset 16  B bytes  JSON body (UTF-8)
 *   offset 16+B u32 LE  CRC-32 of bytes [0, 16+B)
 */
import { crc32 } from './crc32.js';
import { ReplayLogError } from './errors.js';
import { FORMAT_MAJOR, FORMAT_MINOR, HEADER_FIXED_BYTES, LOG_MAGIC, MAX_HEADER_BODY } from './format.js';
import type { ByteSource } from './source.js';
import { ByteWriter } from './varint.js';

/** A file the machine was started with (kernel, bios, initrd, drive...). */
export interface LogImage {
  /** What the file is for: 'kernel', 'bios', 'initrd', 'dtb', 'drive0'... */
  readonly role: string;
  readonly path: string;
  /** 64 lowercase hex digits. */
  readonly sha256: string;
  /** Bytes. */
  readonly size: number;
}

/** What the writer puts in the header's JSON body. */
export interface LogHeaderInit {
  /** replayvm's version (the `-version` string's number). */
  readonly replayvm: string;
  /** ISO 8601 date of the recording's start. */
  readonly created: string;
  /**
   * The machine configuration, an opaque JSON object: command line, RAM size, smp, icount
   * shift... The log format does not interpret it.
   */
  readonly machine: object;
  readonly images: readonly LogImage[];
  /**
   * Optional checkpoint kinds the log holds besides digests (today 'interrupt': every interrupt
   * a hart took, which a replay compares). Absent means none.
   */
  readonly checkpoints?: readonly string[];
}

/** The JSON body as read back (extra fields a newer minor version added are kept). */
export interface LogHeaderBody {
  readonly replayvm: string;
  readonly created: string;
  readonly machine: Readonly<Record<string, unknown>>;
  readonly images: readonly LogImage[];
  readonly [extra: string]: unknown;
}

export interface LogHeader {
  readonly major: number;
  readonly minor: number;
  readonly body: LogHeaderBody;
  /** Total bytes of the header (fixed part, body and CRC): the file offset of the first chunk. */
  readonly length: number;
}

/** The encoded header (written first and synced before any chunk). */
export function encodeHeader(init: LogHeaderInit, major = FORMAT_MAJOR, minor = FORMAT_MINOR): Uint8Array {
  if (typeof init.machine !== 'object' || init.machine === null || Array.isArray(init.machine)) {
    throw new RangeError('header.machine must be a JSON object');
  }
  const body = {
    replayvm: init.replayvm, created: init.created, machine: init.machine, images: init.images,
    ...(init.checkpoints !== undefined ? { checkpoints: init.checkpoints } : {}),
  };
  const problem = bodyProblem(JSON.parse(JSON.stringify(body)) as unknown);
  if (problem !== undefined) throw new RangeError(`header: ${problem}`);
  const json = new TextEncoder().encode(JSON.stringify(body));
  if (json.length > MAX_HEADER_BODY) throw new RangeError(`header: the JSON body is ${json.length} bytes (the maximum is ${MAX_HEADER_BODY})`);
  const w = new ByteWriter(HEADER_FIXED_BYTES + json.length + 4);
  w.bytes(LOG_MAGIC);
  w.u16(major);
  w.u16(minor);
  w.u32(json.length);
  w.bytes(json);
  w.u32(crc32(w.written()));
  return w.toBytes();
}

const SHA256_RE = /^[0-9a-f]{64}$/;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Why `v` is not a valid header body, or undefined. */
function bodyProblem(v: unknown): string | undefined {
  if (!isObject(v)) return 'the body is not a JSON object';
  if (typeof v.replayvm !== 'string') return "field 'replayvm' must be a string";
  if (typeof v.created !== 'string') return "field 'created' must be a string";
  if (!isObject(v.machine)) return "field 'machine' must be an object";
  if (!Array.isArray(v.images)) return "field 'images' must be an array";
  if (v.checkpoints !== undefined && !(Array.isArray(v.checkpoints) && v.checkpoints.every((c) => typeof c === 'string'))) {
    return "field 'checkpoints' must be an array of strings";
  }
  for (let i = 0; i < v.images.length; i++) {
    const im: unknown = v.images[i];
    if (!isObject(im)) return `images[${i}] must be an object`;
    if (typeof im.role !== 'string') return `images[${i}].role must be a string`;
    if (typeof im.path !== 'string') return `images[${i}].path must be a string`;
    if (typeof im.sha256 !== 'string' || !SHA256_RE.test(im.sha256)) return `images[${i}].sha256 must be 64 lowercase hex digits`;
    if (!Number.isSafeInteger(im.size) || (im.size as number) < 0) return `images[${i}].size must be a non-negative integer`;
  }
  return undefined;
}

/** "1.x": the versions this code reads. */
function readable(): string {
  return `${FORMAT_MAJOR}.x`;
}

/**
 * Reads and validates the header at the start of `source`; throws a ReplayLogError saying
 * exactly what is wrong and where. Checks the magic before anything else, so any non-log file
 * fails at once whatever its size.
 */
export function readHeader(source: ByteSource): LogHeader {
  const size = source.size;
  const fixed = source.read(0, HEADER_FIXED_BYTES);
  const magicHave = Math.min(fixed.length, LOG_MAGIC.length);
  for (let i = 0; i < magicHave; i++) {
    if (fixed[i] !== LOG_MAGIC[i]) throw new ReplayLogError(0, 'not a replayvm log (bad magic at offset 0)');
  }
  if (size === 0) throw new ReplayLogError(0, 'not a replayvm log (empty file, offset 0)');
  if (fixed.length < HEADER_FIXED_BYTES) {
    throw new ReplayLogError(size, `truncated header: the file ends at offset ${size} (the fixed header is ${HEADER_FIXED_BYTES} bytes)`);
  }
  const dv = new DataView(fixed.buffer, fixed.byteOffset, fixed.byteLength);
  const major = dv.getUint16(8, true);
  const minor = dv.getUint16(10, true);
  if (major > FORMAT_MAJOR) {
    throw new ReplayLogError(8, `log version ${major}.${minor} at offset 8 is newer than this replayvm (${readable()})`);
  }
  if (major < FORMAT_MAJOR) {
    throw new ReplayLogError(8, `log version ${major}.${minor} at offset 8 is older than this replayvm reads (${readable()})`);
  }
  const bodyLength = dv.getUint32(12, true);
  if (bodyLength > MAX_HEADER_BODY) {
    throw new ReplayLogError(12, `header length ${bodyLength} at offset 12 exceeds the maximum of ${MAX_HEADER_BODY}`);
  }
  const total = HEADER_FIXED_BYTES + bodyLength + 4;
  if (total > size) {
    throw new ReplayLogError(size, `truncated header: the header is ${total} bytes (length at offset 12) but the file ends at offset ${size}`);
  }
  const all = source.read(0, total);
  const stored = new DataView(all.buffer, all.byteOffset, all.byteLength).getUint32(total - 4, true);
  const crcOffset = total - 4;
  if (crc32(all, 0, crcOffset) !== stored) throw new ReplayLogError(crcOffset, `header CRC mismatch at offset ${crcOffset}`);
  let body: unknown;
  try {
    body = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(all.subarray(HEADER_FIXED_BYTES, crcOffset)));
  } catch (e) {
    throw new ReplayLogError(HEADER_FIXED_BYTES, `header body at offset ${HEADER_FIXED_BYTES} is not valid UTF-8 JSON (${e instanceof Error ? e.message : String(e)})`);
  }
  const problem = bodyProblem(body);
  if (problem !== undefined) throw new ReplayLogError(HEADER_FIXED_BYTES, `header body at offset ${HEADER_FIXED_BYTES}: ${problem}`);
  return { major, minor, body: body as LogHeaderBody, length: total };
}
