/** IPv4 packets (RFC 791): header checksum checked and generated; fragments are not reassembled. */
import { internetChecksum, rd16, rd32, wr16, wr32 } from './bytes.js';

export const IP_PROTO_ICMP = 1;
export const IP_PROTO_TCP = 6;
export const IP_PROTO_UDP = 17;
export const IPV4_HEADER_LEN = 20;

/** A decoded packet; `payload` is a view into the original bytes, cut to the total length. */
export interface Ipv4Packet {
  src: number;
  dst: number;
  protocol: number;
  ttl: number;
  id: number;
  tos: number;
  payload: Uint8Array;
}

/** Why a packet was not accepted (for the drop counters). */
export type Ipv4Reject = 'short' | 'version' | 'length' | 'checksum' | 'fragment';

/**
 * Decodes an IPv4 packet. Rejects: shorter than its header, not version 4, IHL < 5, total length
 * below the header or beyond the data, a bad header checksum, and fragments (MF or an offset).
 * Trailing bytes past the total length (Ethernet padding) are ignored.
 */
export function parseIpv4(b: Uint8Array): Ipv4Packet | Ipv4Reject {
  if (b.length < IPV4_HEADER_LEN) return 'short';
  if (b[0]! >> 4 !== 4) return 'version';
  const ihl = (b[0]! & 0x0f) * 4;
  if (ihl < IPV4_HEADER_LEN || ihl > b.length) return 'length';
  const total = rd16(b, 2);
  if (total < ihl || total > b.length) return 'length';
  if (internetChecksum(b, 0, ihl) !== 0) return 'checksum';
  const frag = rd16(b, 6);
  if ((frag & 0x2000) !== 0 || (frag & 0x1fff) !== 0) return 'fragment';
  return {
    tos: b[1]!,
    id: rd16(b, 4),
    ttl: b[8]!,
    protocol: b[9]!,
    src: rd32(b, 12),
    dst: rd32(b, 16),
    payload: b.subarray(ihl, total),
  };
}

export interface Ipv4Fields {
  src: number;
  dst: number;
  protocol: number;
  payload: Uint8Array;
  id?: number;
  ttl?: number;
  tos?: number;
  /** Sets the Don't Fragment bit (default true, unless this is a fragment). */
  dontFragment?: boolean;
  /** For a fragment: its offset in the original payload (a multiple of 8) and the MF bit. */
  fragmentOffset?: number;
  moreFragments?: boolean;
}

/** Encodes a packet with a 20-byte header and a valid header checksum. */
export function buildIpv4(f: Ipv4Fields): Uint8Array {
  const total = IPV4_HEADER_LEN + f.payload.length;
  const b = new Uint8Array(total);
  b[0] = 0x45;
  b[1] = f.tos ?? 0;
  wr16(b, 2, total);
  wr16(b, 4, f.id ?? 0);
  const offset = f.fragmentOffset ?? 0;
  const fragment = offset !== 0 || f.moreFragments === true;
  const df = f.dontFragment ?? !fragment;
  wr16(b, 6, (df ? 0x4000 : 0) | (f.moreFragments ? 0x2000 : 0) | ((offset >>> 3) & 0x1fff));
  b[8] = f.ttl ?? 64;
  b[9] = f.protocol;
  wr32(b, 12, f.src);
  wr32(b, 16, f.dst);
  wr16(b, 10, internetChecksum(b, 0, IPV4_HEADER_LEN));
  b.set(f.payload, IPV4_HEADER_LEN);
  return b;
}
