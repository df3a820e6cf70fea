/** Ethernet II frames (no FCS: virtio-net and QEMU's netdevs carry frames without it). */
import { rd16, wr16 } from './bytes.js';

export const ETH_HEADER_LEN = 14;
export const ETHERTYPE_IPV4 = 0x0800;
export const ETHERTYPE_ARP = 0x0806;
export const BROADCAST_MAC: Uint8Array = new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);

/** A decoded frame; `payload` is a view into the original bytes. */
export interface EthernetFrame {
  dst: Uint8Array;
  src: Uint8Array;
  type: number;
  payload: Uint8Array;
}

/** Decodes an Ethernet II header; null when the frame is shorter than a header or is 802.3 (length field). */
export function parseEthernet(frame: Uint8Array): EthernetFrame | null {
  if (frame.length < ETH_HEADER_LEN) return null;
  const type = rd16(frame, 12);
  if (type < 0x0600) return null; // an 802.3 length, not an EtherType
  return {
    dst: frame.subarray(0, 6),
    src: frame.subarray(6, 12),
    type,
    payload: frame.subarray(ETH_HEADER_LEN),
  };
}

/** Builds a frame (no padding to 60 bytes: QEMU's slirp does not pad either). */
export function buildEthernet(dst: Uint8Array, src: Uint8Array, type: number, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(ETH_HEADER_LEN + payload.length);
  out.set(dst.subarray(0, 6), 0);
  out.set(src.subarray(0, 6), 6);
  wr16(out, 12, type);
  out.set(payload, ETH_HEADER_LEN);
  return out;
}
