/** TCP segments (RFC 793): header codec with the pseudo-header checksum and the MSS option. */
import { checksumAdd, checksumFinish, pseudoHeaderSum, rd16, rd32, wr16, wr32 } from './bytes.js';
import { IP_PROTO_TCP } from './ipv4.js';

export const TCP_FIN = 0x01;
export const TCP_SYN = 0x02;
export const TCP_RST = 0x04;
export const TCP_PSH = 0x08;
export const TCP_ACK = 0x10;
export const TCP_URG = 0x20;

export interface TcpSegment {
  srcPort: number;
  dstPort: number;
  seq: number;
  ack: number;
  flags: number;
  window: number;
  /** The MSS option, when present (only meaningful on SYN). */
  mss?: number | undefined;
  payload: Uint8Array;
}

/**
 * Decodes a TCP segment carried in an IPv4 packet from `src` to `dst`. Null when shorter than
 * the header, the data offset is out of range, or the checksum is wrong.
 */
export function parseTcp(src: number, dst: number, b: Uint8Array): TcpSegment | null {
  if (b.length < 20) return null;
  const off = (b[12]! >> 4) * 4;
  if (off < 20 || off > b.length) return null;
  if (checksumFinish(checksumAdd(pseudoHeaderSum(src, dst, IP_PROTO_TCP, b.length), b)) !== 0) return null;
  const seg: TcpSegment = {
    srcPort: rd16(b, 0),
    dstPort: rd16(b, 2),
    seq: rd32(b, 4),
    ack: rd32(b, 8),
    flags: b[13]! & 0x3f,
    window: rd16(b, 14),
    payload: b.subarray(off),
  };
  // Options: only MSS matters to us; stop at anything malformed.
  let i = 20;
  while (i < off) {
    const kind = b[i]!;
    if (kind === 0) break;
    if (kind === 1) {
      i++;
      continue;
    }
    if (i + 1 >= off) break;
    const len = b[i + 1]!;
    if (len < 2 || i + len > off) break;
    if (kind === 2 && len === 4) seg.mss = rd16(b, i + 2);
    i += len;
  }
  return seg;
}

/** Encodes a segment (header 20 bytes, 24 with an MSS option) with its checksum. */
export function buildTcp(src: number, dst: number, seg: TcpSegment): Uint8Array {
  const hlen = seg.mss !== undefined ? 24 : 20;
  const b = new Uint8Array(hlen + seg.payload.length);
  wr16(b, 0, seg.srcPort);
  wr16(b, 2, seg.dstPort);
  wr32(b, 4, seg.seq);
  wr32(b, 8, seg.ack);
  b[12] = (hlen / 4) << 4;
  b[13] = seg.flags;
  wr16(b, 14, seg.window);
  if (seg.mss !== undefined) {
    b[20] = 2;
    b[21] = 4;
    wr16(b, 22, seg.mss);
  }
  b.set(seg.payload, hlen);
  wr16(b, 16, checksumFinish(checksumAdd(pseudoHeaderSum(src, dst, IP_PROTO_TCP, b.length), b)));
  return b;
}
