/**
 * DHCP (RFC 2131/2132) over BOOTP: the message codec and the small server QEMU's slirp runs at
 * 10.0.2.2, handing out 10.0.2.15 onward (one address per client MAC, 16 of them).
 */
import { bytesEqual, rd16, rd32, wr16, wr32 } from './bytes.js';

export const DHCP_SERVER_PORT = 67;
export const DHCP_CLIENT_PORT = 68;

export const DHCPDISCOVER = 1;
export const DHCPOFFER = 2;
export const DHCPREQUEST = 3;
export const DHCPDECLINE = 4;
export const DHCPACK = 5;
export const DHCPNAK = 6;
export const DHCPRELEASE = 7;
export const DHCPINFORM = 8;

export const DHCP_OPT_SUBNET_MASK = 1;
export const DHCP_OPT_ROUTER = 3;
export const DHCP_OPT_DNS = 6;
export const DHCP_OPT_REQUESTED_IP = 50;
export const DHCP_OPT_LEASE_TIME = 51;
export const DHCP_OPT_MSG_TYPE = 53;
export const DHCP_OPT_SERVER_ID = 54;
export const DHCP_OPT_MESSAGE = 56;

const BOOTP_FIXED_LEN = 236;
const MAGIC = 0x63825363;
/** slirp sends the whole `struct bootp_t`: 236 fixed bytes and a 312-byte vendor area. */
const BOOTP_REPLY_LEN = 548;

/** A decoded BOOTP/DHCP message. `msgType` is 0 for a plain BOOTP request. */
export interface DhcpMessage {
  op: number;
  xid: number;
  secs: number;
  flags: number;
  ciaddr: number;
  yiaddr: number;
  siaddr: number;
  giaddr: number;
  /** The client's hardware address (6 bytes). */
  chaddr: Uint8Array;
  msgType: number;
  options: Map<number, Uint8Array>;
}

/** Decodes a BOOTP message (Ethernet only); null when short, not Ethernet, or options are malformed. */
export function parseDhcp(b: Uint8Array): DhcpMessage | null {
  if (b.length < BOOTP_FIXED_LEN) return null;
  if (b[1] !== 1 || b[2] !== 6) return null;
  const options = new Map<number, Uint8Array>();
  if (b.length >= BOOTP_FIXED_LEN + 4 && rd32(b, BOOTP_FIXED_LEN) === MAGIC) {
    let i = BOOTP_FIXED_LEN + 4;
    while (i < b.length) {
      const code = b[i]!;
      if (code === 255) break;
      if (code === 0) {
        i++;
        continue;
      }
      if (i + 1 >= b.length) return null;
      const len = b[i + 1]!;
      if (i + 2 + len > b.length) return null;
      options.set(code, b.slice(i + 2, i + 2 + len));
      i += 2 + len;
    }
  }
  const type = options.get(DHCP_OPT_MSG_TYPE);
  return {
    op: b[0]!,
    xid: rd32(b, 4),
    secs: rd16(b, 8),
    flags: rd16(b, 10),
    ciaddr: rd32(b, 12),
    yiaddr: rd32(b, 16),
    siaddr: rd32(b, 20),
    giaddr: rd32(b, 24),
    chaddr: b.slice(28, 34),
    msgType: type !== undefined && type.length === 1 ? type[0]! : 0,
    options,
  };
}

export interface DhcpReplyFields {
  op: number;
  xid: number;
  flags: number;
  ciaddr?: number;
  yiaddr: number;
  siaddr: number;
  chaddr: Uint8Array;
  /** Options in order (message type first, as clients expect); the end option is added. */
  options: Array<[number, Uint8Array]>;
}

/** Encodes a BOOTP message padded to 548 bytes (as slirp sends). */
export function buildDhcp(f: DhcpReplyFields): Uint8Array {
  let optLen = 4 + 1;
  for (const [, v] of f.options) optLen += 2 + v.length;
  const b = new Uint8Array(Math.max(BOOTP_REPLY_LEN, BOOTP_FIXED_LEN + optLen));
  b[0] = f.op;
  b[1] = 1;
  b[2] = 6;
  wr32(b, 4, f.xid);
  wr16(b, 10, f.flags);
  wr32(b, 12, f.ciaddr ?? 0);
  wr32(b, 16, f.yiaddr);
  wr32(b, 20, f.siaddr);
  b.set(f.chaddr.subarray(0, 6), 28);
  wr32(b, BOOTP_FIXED_LEN, MAGIC);
  let i = BOOTP_FIXED_LEN + 4;
  for (const [code, v] of f.options) {
    b[i] = code;
    b[i + 1] = v.length;
    b.set(v, i + 2);
    i += 2 + v.length;
  }
  b[i] = 255;
  return b;
}

function u32(v: number): Uint8Array {
  const b = new Uint8Array(4);
  wr32(b, 0, v);
  return b;
}

export interface DhcpServerConfig {
  serverIp: number;
  /** First address handed out (10.0.2.15). */
  startIp: number;
  /** How many addresses (slirp: 16). */
  count: number;
  netmask: number;
  router: number;
  dns: number;
  /** Seconds (slirp: 86400). */
  leaseTime: number;
}

/** A reply to send (broadcast, as slirp does) and the address it binds to the client, if any. */
export interface DhcpServerReply {
  message: Uint8Array;
  /** Address assigned by an OFFER/ACK (0 for a NAK). */
  yiaddr: number;
  chaddr: Uint8Array;
}

/** The DHCP server: one lease per client MAC, kept until released (like slirp's bootp.c). */
export class DhcpServer {
  private readonly leases: Array<Uint8Array | null>;

  constructor(private readonly config: DhcpServerConfig) {
    this.leases = new Array<Uint8Array | null>(config.count).fill(null);
  }

  /** The address leased to `mac`, or null. */
  addressOf(mac: Uint8Array): number | null {
    const i = this.leases.findIndex((m) => m !== null && bytesEqual(m, mac));
    return i < 0 ? null : this.config.startIp + i;
  }

  /** Handles one client message; null when nothing is to be sent. */
  handle(msg: DhcpMessage): DhcpServerReply | null {
    if (msg.op !== 1) return null;
    switch (msg.msgType) {
      case DHCPDISCOVER: {
        const addr = this.addressOf(msg.chaddr) ?? this.allocate(msg.chaddr);
        if (addr === null) return null; // pool exhausted: stay silent, as slirp does
        return this.reply(msg, DHCPOFFER, addr);
      }
      case 0: // plain BOOTP: answer like an ACK (slirp forces a reply for old clients)
      case DHCPREQUEST: {
        const opt = msg.options.get(DHCP_OPT_REQUESTED_IP);
        const wanted = opt !== undefined && opt.length === 4 ? rd32(opt, 0) : msg.ciaddr;
        let addr: number | null;
        if (wanted !== 0) addr = this.claim(wanted, msg.chaddr);
        else addr = this.addressOf(msg.chaddr) ?? this.allocate(msg.chaddr);
        if (addr === null) return msg.msgType === 0 ? null : this.nak(msg);
        return this.reply(msg, DHCPACK, addr);
      }
      case DHCPRELEASE:
      case DHCPDECLINE: {
        const i = this.leases.findIndex((m) => m !== null && bytesEqual(m, msg.chaddr));
        if (i >= 0) this.leases[i] = null;
        return null;
      }
      default:
        return null;
    }
  }

  private allocate(mac: Uint8Array): number | null {
    const i = this.leases.indexOf(null);
    if (i < 0) return null;
    this.leases[i] = mac.slice(0, 6);
    return this.config.startIp + i;
  }

  /** Gives `addr` to `mac` when it is in the pool and free or already theirs. */
  private claim(addr: number, mac: Uint8Array): number | null {
    const i = addr - this.config.startIp;
    if (i < 0 || i >= this.config.count) return null;
    const holder = this.leases[i]!;
    if (holder !== null && !bytesEqual(holder, mac)) return null;
    // A client moving to another address gives up its old one.
    const old = this.leases.findIndex((m) => m !== null && bytesEqual(m, mac));
    if (old >= 0 && old !== i) this.leases[old] = null;
    this.leases[i] = mac.slice(0, 6);
    return addr;
  }

  private reply(msg: DhcpMessage, type: number, addr: number): DhcpServerReply {
    const c = this.config;
    const options: Array<[number, Uint8Array]> = [];
    if (msg.msgType !== 0) options.push([DHCP_OPT_MSG_TYPE, Uint8Array.of(type)], [DHCP_OPT_SERVER_ID, u32(c.serverIp)]);
    options.push(
      [DHCP_OPT_SUBNET_MASK, u32(c.netmask)],
      [DHCP_OPT_ROUTER, u32(c.router)],
      [DHCP_OPT_DNS, u32(c.dns)],
      [DHCP_OPT_LEASE_TIME, u32(c.leaseTime)],
    );
    const message = buildDhcp({ op: 2, xid: msg.xid, flags: msg.flags, yiaddr: addr, siaddr: c.serverIp, chaddr: msg.chaddr, options });
    return { message, yiaddr: addr, chaddr: msg.chaddr };
  }

  private nak(msg: DhcpMessage): DhcpServerReply {
    const text = new TextEncoder().encode('requested address not available');
    const message = buildDhcp({
      op: 2, xid: msg.xid, flags: msg.flags, yiaddr: 0, siaddr: 0, chaddr: msg.chaddr,
      options: [[DHCP_OPT_MSG_TYPE, Uint8Array.of(DHCPNAK)], [DHCP_OPT_SERVER_ID, u32(this.config.serverIp)], [DHCP_OPT_MESSAGE, text]],
    });
    return { message, yiaddr: 0, chaddr: msg.chaddr };
  }
}

