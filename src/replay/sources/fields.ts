/**
 * Field encodings shared by the sources' codec cases: byte strings, UTF-8 strings, 64-bit
 * hashes and small enumerations (docs/replay-log.md describes each).
 */
import { ByteReader, ByteWriter, FormatFault } from '../log/varint.js';

const UTF8_ENCODER = new TextEncoder();
const UTF8_DECODER = new TextDecoder('utf-8', { fatal: true });

const HEX_RE = /^[0-9a-fA-F]{16}$/;
const HEX_DIGITS = '0123456789abcdef';

/** Writes a length-prefixed byte string; `what` names the field when it is not a Uint8Array. */
export function writeBytes(w: ByteWriter, data: unknown, what: string): void {
  if (!(data instanceof Uint8Array)) throw new RangeError(`${what} must be a Uint8Array`);
  w.lengthPrefixed(data);
}

/** Writes a length-prefixed UTF-8 string. */
export function writeString(w: ByteWriter, text: unknown, what: string): void {
  if (typeof text !== 'string') throw new RangeError(`${what} must be a string`);
  w.lengthPrefixed(UTF8_ENCODER.encode(text));
}

/** Reads a length-prefixed UTF-8 string. */
export function readString(r: ByteReader, what: string): string {
  const start = r.pos;
  const bytes = r.lengthPrefixed(what);
  try {
    return UTF8_DECODER.decode(bytes);
  } catch {
    throw new FormatFault(start, `${what} is not valid UTF-8`);
  }
}

/** Writes a 64-bit hash given as 16 hex digits, as 8 bytes. */
export function writeHash(w: ByteWriter, hash: string, what: string): void {
  if (typeof hash !== 'string' || !HEX_RE.test(hash)) {
    throw new RangeError(`${what} must be 16 hex digits, got ${JSON.stringify(hash)}`);
  }
  for (let i = 0; i < 16; i += 2) w.u8(parseInt(hash.slice(i, i + 2), 16));
}

/** Reads 8 bytes as a hash of 16 lowercase hex digits. */
export function readHash(r: ByteReader, what: string): string {
  const b = r.bytesView(8, what);
  let s = '';
  for (let i = 0; i < 8; i++) s += HEX_DIGITS[b[i]! >> 4]! + HEX_DIGITS[b[i]! & 15]!;
  return s;
}

/** An enumeration stored as a u8 code: `codes` maps each name to its code. */
export class CodedName<T extends string> {
  private readonly names: readonly (T | undefined)[];

  constructor(private readonly codes: Readonly<Record<T, number>>, private readonly what: string) {
    const names: (T | undefined)[] = [];
    for (const [name, code] of Object.entries(codes) as [T, number][]) names[code] = name;
    this.names = names;
  }

  /** Writes `name`'s code; `field` names the field when `name` is not one of the codes. */
  write(w: ByteWriter, name: T, field: string): void {
    const c = Object.prototype.hasOwnProperty.call(this.codes, name) ? this.codes[name] : undefined;
    if (c === undefined) throw new RangeError(`${field} must be one of ${Object.keys(this.codes).join(', ')}, got ${JSON.stringify(name)}`);
    w.u8(c);
  }

  /** Reads a code and returns its name; an unknown code is a FormatFault at its byte. */
  read(r: ByteReader, field: string): T {
    const pos = r.pos;
    const c = r.u8(field);
    const n = this.names[c];
    if (n === undefined) throw new FormatFault(pos, `unknown ${this.what} code ${c}`);
    return n;
  }
}
