/**
 * Byte-level encoding used inside chunk payloads: unsigned LEB128 varints (at most 8 bytes,
 * values below 2^53, no overlong forms), zigzag signed varints, little-endian fixed-width
 * numbers, and raw bytes. A growable writer and a bounds-checked reader.
 */
import { MAX_VARINT_BYTES } from './format.js';

/** A decoding problem at byte `pos` of the buffer being read (turned into a ReplayLogError by the caller). */
export class FormatFault extends Error {
  override name = 'FormatFault';
  constructor(readonly pos: number, message: string) {
    super(message);
  }
}

const TWO_32 = 0x1_0000_0000;

function checkUnsigned(value: number, what: string): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`${what} must be an integer in [0, 2^53), got ${value}`);
  }
}

/** Bytes of the varint encoding of `value` (a safe non-negative integer). */
export function varintSize(value: number): number {
  let n = 1;
  while (value >= 0x80) {
    value = Math.floor(value / 128);
    n++;
  }
  return n;
}

/** Zigzag mapping of a safe integer to a non-negative one (0, -1, 1, -2 → 0, 1, 2, 3). */
export function zigzag(value: number): number {
  return value >= 0 ? value * 2 : -value * 2 - 1;
}

export function unzigzag(value: number): number {
  return value % 2 === 0 ? value / 2 : -(value + 1) / 2;
}

/** A growable byte buffer. */
export class ByteWriter {
  private buf: Uint8Array;
  private view: DataView;
  length = 0;

  constructor(initialCapacity = 1024) {
    this.buf = new Uint8Array(Math.max(16, initialCapacity));
    this.view = new DataView(this.buf.buffer);
  }

  private ensure(extra: number): void {
    const need = this.length + extra;
    if (need <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < need) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  u8(value: number): void {
    this.ensure(1);
    this.buf[this.length++] = value;
  }

  u16(value: number): void {
    this.ensure(2);
    this.view.setUint16(this.length, value, true);
    this.length += 2;
  }

  u32(value: number): void {
    this.ensure(4);
    this.view.setUint32(this.length, value >>> 0, true);
    this.length += 4;
  }

  /** A safe non-negative integer as 8 bytes little-endian. */
  u64(value: number): void {
    checkUnsigned(value, 'u64');
    this.u32(value % TWO_32);
    this.u32(Math.floor(value / TWO_32));
  }

  f64(value: number): void {
    this.ensure(8);
    this.view.setFloat64(this.length, value, true);
    this.length += 8;
  }

  /** An unsigned varint; `what` names the field in the RangeError for a bad value. */
  varint(value: number, what = 'varint'): void {
    checkUnsigned(value, what);
    this.ensure(MAX_VARINT_BYTES);
    const b = this.buf;
    let n = this.length;
    while (value >= 0x80) {
      b[n++] = (value % 128) | 0x80;
      value = Math.floor(value / 128);
    }
    b[n++] = value;
    this.length = n;
  }

  /** A signed safe integer, zigzag-mapped. */
  svarint(value: number, what = 'signed varint'): void {
    if (!Number.isSafeInteger(value) || Math.abs(value) > Number.MAX_SAFE_INTEGER / 2) {
      throw new RangeError(`${what} must be an integer in (-2^52, 2^52), got ${value}`);
    }
    this.varint(zigzag(value), what);
  }

  bytes(data: Uint8Array): void {
    this.ensure(data.length);
    this.buf.set(data, this.length);
    this.length += data.length;
  }

  /** Varint length, then the bytes. */
  lengthPrefixed(data: Uint8Array): void {
    this.varint(data.length);
    this.bytes(data);
  }

  /** Drops everything after byte `length` (used to undo a half-encoded event). */
  truncate(length: number): void {
    this.length = length;
  }

  /** A view of the bytes written (valid until the next write). */
  written(): Uint8Array {
    return this.buf.subarray(0, this.length);
  }

  /** A copy of the bytes written. */
  toBytes(): Uint8Array {
    return this.buf.slice(0, this.length);
  }
}

/** A bounds-checked reader over `bytes`; every problem is a FormatFault naming the position. */
export class ByteReader {
  pos: number;
  private readonly view: DataView;

  constructor(readonly bytes: Uint8Array, start = 0, readonly end = bytes.length) {
    this.pos = start;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  private need(n: number, what: string): void {
    if (n > this.end - this.pos) {
      throw new FormatFault(this.pos, `${what} needs ${n} bytes but only ${this.end - this.pos} remain`);
    }
  }

  u8(what = 'byte'): number {
    this.need(1, what);
    return this.bytes[this.pos++]!;
  }

  u32(what = 'u32'): number {
    this.need(4, what);
    const v = this.view.getUint32(this.pos, true);
    this.pos += 4;
    return v;
  }

  f64(what = 'float64'): number {
    this.need(8, what);
    const v = this.view.getFloat64(this.pos, true);
    this.pos += 8;
    return v;
  }

  varint(what = 'varint'): number {
    const start = this.pos;
    let value = 0;
    let scale = 1;
    for (let i = 0; i < MAX_VARINT_BYTES; i++) {
      if (this.pos >= this.end) throw new FormatFault(start, `${what} runs past the end of the data`);
      const b = this.bytes[this.pos++]!;
      value += (b & 0x7f) * scale;
      if ((b & 0x80) === 0) {
        if (b === 0 && i > 0) throw new FormatFault(start, `${what} has an overlong encoding`);
        if (value > Number.MAX_SAFE_INTEGER) throw new FormatFault(start, `${what} exceeds 2^53 - 1`);
        return value;
      }
      scale *= 128;
    }
    throw new FormatFault(start, `${what} is longer than ${MAX_VARINT_BYTES} bytes`);
  }

  svarint(what = 'signed varint'): number {
    return unzigzag(this.varint(what));
  }

  /** `n` bytes as a view into the underlying buffer. */
  bytesView(n: number, what = 'bytes'): Uint8Array {
    this.need(n, what);
    const v = this.bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    return v;
  }

  /** A varint length, then that many bytes, copied into a fresh Uint8Array. */
  lengthPrefixed(what: string): Uint8Array {
    const start = this.pos;
    const n = this.varint(`${what} length`);
    if (n > this.end - this.pos) {
      throw new FormatFault(start, `${what} length ${n} exceeds the ${this.end - this.pos} bytes left`);
    }
    return new Uint8Array(this.bytesView(n, what));
  }
}
