/** ICMPv4 (RFC 792): just enough for echo. */
import { internetChecksum, wr16 } from './bytes.js';

export const ICMP_ECHO_REPLY = 0;
export const ICMP_ECHO_REQUEST = 8;

export interface IcmpMessage {
  type: number;
  code: number;
  /** Bytes after the 4-byte type/code/checksum header (for echo: identifier, sequence, data). */
  body: Uint8Array;
}

/** Decodes an ICMP message; null when shorter than 8 bytes or the checksum is wrong. */
export function parseIcmp(b: Uint8Array): IcmpMessage | null {
  if (b.length < 8) return null;
  if (internetChecksum(b) !== 0) return null;
  return { type: b[0]!, code: b[1]!, body: b.subarray(4) };
}

/** Encodes an ICMP message with its checksum. */
export function buildIcmp(type: number, code: number, body: Uint8Array): Uint8Array {
  const b = new Uint8Array(4 + body.length);
  b[0] = type;
  b[1] = code;
  b.set(body, 4);
  wr16(b, 2, internetChecksum(b));
  return b;
}
