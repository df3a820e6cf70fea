/**
 * Byte helpers for the network code: big-endian fields, the Internet checksum (RFC 1071),
 * IPv4 and MAC address formatting. Pure: no Node modules, no Buffer.
 */

/** Reads a big-endian 16-bit field. */
export function rd16(b: Uint8Array, off: number): number {
  return (b[off]! << 8) | b[off + 1]!;
}

/** Reads a big-endian 32-bit field as an unsigned number. */
export function rd32(b: Uint8Array, off: number): number {
  return ((b[off]! << 24) | (b[off + 1]! << 16) | (b[off + 2]! << 8) | b[off + 3]!) >>> 0;
}

/** Writes a big-endian 16-bit field. */
export function wr16(b: Uint8Array, off: number, v: number): void {
  b[off] = (v >>> 8) & 0xff;
  b[off + 1] = v & 0xff;
}

/** Writes a big-endian 32-bit field. */
export function wr32(b: Uint8Array, off: number, v: number): void {
  b[off] = (v >>> 24) & 0xff;
  b[off + 1] = (v >>> 16) & 0xff;
  b[off + 2] = (v >>> 8) & 0xff;
  b[off + 3] = v & 0xff;
}

/**
 * Adds `b[start, end)` to a running one's-complement sum (not yet folded). Call it on
 * consecutive pieces with even lengths except the last.
 */
export function checksumAdd(sum: number, b: Uint8Array, start = 0, end = b.length): number {
  let i = start;
  for (; i + 1 < end; i += 2) sum += (b[i]! << 8) | b[i + 1]!;
  if (i < end) sum += b[i]! << 8;
  // Fold now and then so the sum stays a small integer.
  return (sum & 0xffff) + (sum >>> 16);
}

/** Folds a running sum and complements it: the value to store in a checksum field. */
export function checksumFinish(sum: number): number {
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/** The Internet checksum of `b[start, end)`. Over data that includes its checksum field it is 0 when valid. */
export function internetChecksum(b: Uint8Array, start = 0, end = b.length): number {
  return checksumFinish(checksumAdd(0, b, start, end));
}

/** The running sum of the TCP/UDP pseudo header (RFC 793/768). */
export function pseudoHeaderSum(src: number, dst: number, protocol: number, length: number): number {
  let sum = (src >>> 16) + (src & 0xffff) + (dst >>> 16) + (dst & 0xffff) + protocol + length;
  sum = (sum & 0xffff) + (sum >>> 16);
  return sum;
}

/** An IPv4 address as an unsigned 32-bit number, or null when `s` is not a dotted quad. */
export function parseIpv4Address(s: string): number | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (!m) return null;
  let v = 0;
  for (let i = 1; i <= 4; i++) {
    const part = Number(m[i]);
    if (part > 255) return null;
    v = v * 256 + part;
  }
  return v >>> 0;
}

/** An IPv4 address as a dotted quad. */
export function ipv4ToString(v: number): string {
  return `${v >>> 24}.${(v >>> 16) & 0xff}.${(v >>> 8) & 0xff}.${v & 0xff}`;
}

/** Parses `aa:bb:cc:dd:ee:ff`; null when malformed. */
export function parseMac(s: string): Uint8Array | null {
  const m = /^([0-9a-fA-F]{2}):([0-9a-fA-F]{2}):([0-9a-fA-F]{2}):([0-9a-fA-F]{2}):([0-9a-fA-F]{2}):([0-9a-fA-F]{2})$/.exec(s);
  if (!m) return null;
  return Uint8Array.from(m.slice(1, 7), (h) => parseInt(h, 16));
}

/** A MAC address as `aa:bb:cc:dd:ee:ff`. */
export function macToString(mac: Uint8Array): string {
  return Array.from(mac.subarray(0, 6), (x) => x.toString(16).padStart(2, '0')).join(':');
}

/** Whether two byte strings are equal. */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Concatenates byte strings into a new array. */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

/** `a < b` in 32-bit sequence space (RFC 1982 style, as TCP compares sequence numbers). */
export function seqLt(a: number, b: number): boolean {
  return ((a - b) | 0) < 0;
}

/** `a <= b` in 32-bit sequence space. */
export function seqLe(a: number, b: number): boolean {
  return ((a - b) | 0) <= 0;
}

/** `a - b` in sequence space, as a signed 32-bit number. */
export function seqDiff(a: number, b: number): number {
  return (a - b) | 0;
}

/** `a + n` in sequence space (unsigned 32-bit). */
export function seqAdd(a: number, n: number): number {
  return (a + n) >>> 0;
}
