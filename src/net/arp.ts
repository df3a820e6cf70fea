/** ARP for IPv4 over Ethernet (RFC 826). */
import { rd16, rd32, wr16, wr32 } from './bytes.js';

export const ARP_REQUEST = 1;
export const ARP_REPLY = 2;
export const ARP_PACKET_LEN = 28;

export interface ArpPacket {
  op: number;
  senderMac: Uint8Array;
  senderIp: number;
  targetMac: Uint8Array;
  targetIp: number;
}

/** Decodes an Ethernet/IPv4 ARP packet; null for other hardware/protocol types or short packets. */
export function parseArp(b: Uint8Array): ArpPacket | null {
  if (b.length < ARP_PACKET_LEN) return null;
  if (rd16(b, 0) !== 1 || rd16(b, 2) !== 0x0800 || b[4] !== 6 || b[5] !== 4) return null;
  return {
    op: rd16(b, 6),
    senderMac: b.slice(8, 14),
    senderIp: rd32(b, 14),
    targetMac: b.slice(18, 24),
    targetIp: rd32(b, 24),
  };
}

/** Encodes an ARP packet (28 bytes). */
export function buildArp(p: ArpPacket): Uint8Array {
  const b = new Uint8Array(ARP_PACKET_LEN);
  wr16(b, 0, 1);
  wr16(b, 2, 0x0800);
  b[4] = 6;
  b[5] = 4;
  wr16(b, 6, p.op);
  b.set(p.senderMac.subarray(0, 6), 8);
  wr32(b, 14, p.senderIp);
  b.set(p.targetMac.subarray(0, 6), 18);
  wr32(b, 24, p.targetIp);
  return b;
}
