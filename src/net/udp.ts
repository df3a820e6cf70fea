/** UDP (RFC 768) with the pseudo-header checksum. */
import { checksumAdd, checksumFinish, pseudoHeaderSum, rd16, wr16 } from './bytes.js';
import { IP_PROTO_UDP } from './ipv4.js';

export const UDP_HEADER_LEN = 8;

export interface UdpDatagram {
  srcPort: number;
  dstPort: number;
  payload: Uint8Array;
}

/**
 * Decodes a UDP datagram carried in an IPv4 packet from `src` to `dst`. Null when shorter than
 * the header, the length field disagrees with the data, or a non-zero checksum is wrong.
 */
export function parseUdp(src: number, dst: number, b: Uint8Array): UdpDatagram | null {
  if (b.length < UDP_HEADER_LEN) return null;
  const len = rd16(b, 4);
  if (len < UDP_HEADER_LEN || len > b.length) return null;
  if (rd16(b, 6) !== 0) {
    const sum = checksumAdd(pseudoHeaderSum(src, dst, IP_PROTO_UDP, len), b, 0, len);
    if (checksumFinish(sum) !== 0) return null;
  }
  return { srcPort: rd16(b, 0), dstPort: rd16(b, 2), payload: b.subarray(UDP_HEADER_LEN, len) };
}

/** Encodes a UDP datagram with its checksum. */
export function buildUdp(src: number, dst: number, srcPort: number, dstPort: number, payload: Uint8Array): Uint8Array {
  const len = UDP_HEADER_LEN + payload.length;
  const b = new Uint8Array(len);
  wr16(b, 0, srcPort);
  wr16(b, 2, dstPort);
  wr16(b, 4, len);
  b.set(payload, UDP_HEADER_LEN);
  let csum = checksumFinish(checksumAdd(pseudoHeaderSum(src, dst, IP_PROTO_UDP, len), b));
  if (csum === 0) csum = 0xffff; // 0 means "no checksum" in UDP
  wr16(b, 6, csum);
  return b;
}
