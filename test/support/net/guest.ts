/**
 * A tiny fake guest for tests: builds frames by hand, answers ARP for its address, and runs
 * minimal TCP endpoints (in-order, immediate ACKs) so tests can drive the user network the
 * way a Linux guest would.
 */
import { ARP_REPLY, ARP_REQUEST, buildArp, parseArp } from '../../../src/net/arp.js';
import { concatBytes, parseIpv4Address, seqAdd } from '../../../src/net/bytes.js';
import { buildEthernet, ETHERTYPE_ARP, ETHERTYPE_IPV4, parseEthernet } from '../../../src/net/ethernet.js';
import { buildIpv4, IP_PROTO_TCP, IP_PROTO_UDP, parseIpv4 } from '../../../src/net/ipv4.js';
import type { NetBackend } from '../../../src/net/net-backend.js';
import { buildTcp, parseTcp, TCP_ACK, TCP_FIN, TCP_PSH, TCP_RST, TCP_SYN, type TcpSegment } from '../../../src/net/tcp-segment.js';
import { buildUdp, parseUdp } from '../../../src/net/udp.js';

export const ip = (s: string): number => parseIpv4Address(s)!;
export const GUEST_MAC: Uint8Array = new Uint8Array([0x52, 0x54, 0x00, 0x12, 0x34, 0x56]);
export const HOST_MAC: Uint8Array = new Uint8Array([0x52, 0x55, 0x0a, 0x00, 0x02, 0x02]);
export const text = (s: string): Uint8Array => new TextEncoder().encode(s);
export const str = (b: Uint8Array): string => new TextDecoder().decode(b);

/** Decoded view of a frame the guest received. */
export interface Received {
  frame: Uint8Array;
  type: number;
  /** An IPv4 fragment (not decoded further). */
  fragment?: boolean;
  src?: number;
  dst?: number;
  protocol?: number;
  udp?: { srcPort: number; dstPort: number; payload: Uint8Array };
  tcp?: TcpSegment;
}

export function decode(frame: Uint8Array): Received {
  const eth = parseEthernet(frame);
  if (!eth) throw new Error('bad ethernet frame from the network');
  const r: Received = { frame, type: eth.type };
  if (eth.type !== ETHERTYPE_IPV4) return r;
  const p = parseIpv4(eth.payload);
  if (p === 'fragment') {
    r.fragment = true;
    return r;
  }
  if (typeof p === 'string') throw new Error(`bad IPv4 packet from the network: ${p}`);
  r.src = p.src;
  r.dst = p.dst;
  r.protocol = p.protocol;
  if (p.protocol === IP_PROTO_UDP) {
    const u = parseUdp(p.src, p.dst, p.payload);
    if (!u) throw new Error('bad UDP datagram from the network');
    r.udp = u;
  } else if (p.protocol === IP_PROTO_TCP) {
    const t = parseTcp(p.src, p.dst, p.payload);
    if (!t) throw new Error('bad TCP segment from the network');
    r.tcp = t;
  }
  return r;
}

export class FakeGuest {
  /** Every frame received, in order. */
  readonly frames: Received[] = [];
  private unread = 0;
  readonly sockets: GuestTcp[] = [];
  /** Ports listening for connections from the network. */
  readonly listening = new Set<number>();
  /** Answer ARP requests for `ip` (off to test queueing). */
  answerArp = true;
  /** Receive buffers: when 0 the receiver says "no room". */
  rxCredits = Infinity;

  constructor(readonly net: NetBackend, readonly ip = parseIpv4Address('10.0.2.15')!, readonly mac = GUEST_MAC) {
    net.setReceiver((frame) => this.receive(frame));
  }

  /** Frames received since the last call. */
  take(): Received[] {
    const r = this.frames.slice(this.unread);
    this.unread = this.frames.length;
    return r;
  }

  sendIp(dst: number, protocol: number, payload: Uint8Array, src = this.ip, dstMac = HOST_MAC): void {
    this.net.send(buildEthernet(dstMac, this.mac, ETHERTYPE_IPV4, buildIpv4({ src, dst, protocol, payload })));
  }

  sendUdp(srcPort: number, dst: number, dstPort: number, payload: Uint8Array, src = this.ip): void {
    this.sendIp(dst, IP_PROTO_UDP, buildUdp(src, dst, srcPort, dstPort, payload), src);
  }

  sendTcp(dst: number, seg: TcpSegment): void {
    this.sendIp(dst, IP_PROTO_TCP, buildTcp(this.ip, dst, seg));
  }

  /** Opens a connection from `srcPort` to `dst:dstPort` (sends the SYN). */
  connect(dst: number, dstPort: number, srcPort: number, iss = 1000): GuestTcp {
    const s = new GuestTcp(this, dst, dstPort, srcPort, iss, 'syn-sent');
    this.sockets.push(s);
    this.sendTcp(dst, { srcPort, dstPort, seq: iss, ack: 0, flags: TCP_SYN, window: s.window, mss: 1460, payload: new Uint8Array(0) });
    s.sndNxt = seqAdd(iss, 1);
    return s;
  }

  private receive(frame: Uint8Array): boolean {
    if (this.rxCredits <= 0) return false;
    this.rxCredits--;
    const r = decode(frame);
    this.frames.push(r);
    if (r.type === ETHERTYPE_ARP) {
      const a = parseArp(parseEthernet(frame)!.payload);
      if (a && a.op === ARP_REQUEST && a.targetIp === this.ip && this.answerArp) {
        const reply = buildArp({ op: ARP_REPLY, senderMac: this.mac, senderIp: this.ip, targetMac: a.senderMac, targetIp: a.senderIp });
        this.net.send(buildEthernet(a.senderMac, this.mac, ETHERTYPE_ARP, reply));
      }
    }
    if (r.tcp && r.dst === this.ip) this.dispatchTcp(r.src!, r.tcp);
    return true;
  }

  private dispatchTcp(src: number, seg: TcpSegment): void {
    const s = this.sockets.find((x) => x.remoteIp === src && x.remotePort === seg.srcPort && x.localPort === seg.dstPort && x.state !== 'closed');
    if (s) return s.onSegment(seg);
    if ((seg.flags & (TCP_SYN | TCP_ACK)) === TCP_SYN && this.listening.has(seg.dstPort)) {
      const n = new GuestTcp(this, src, seg.srcPort, seg.dstPort, 5000, 'syn-rcvd');
      n.rcvNxt = seqAdd(seg.seq, 1);
      this.sockets.push(n);
      this.sendTcp(src, { srcPort: seg.dstPort, dstPort: seg.srcPort, seq: 5000, ack: n.rcvNxt, flags: TCP_SYN | TCP_ACK, window: n.window, mss: 1460, payload: new Uint8Array(0) });
      n.sndNxt = 5001;
    }
  }
}

/** The guest's end of one TCP connection: in-order only, ACKs at once. */
export class GuestTcp {
  sndNxt: number;
  sndUna: number;
  rcvNxt = 0;
  window = 65535;
  peerMss: number | undefined;
  readonly data: Uint8Array[] = [];
  peerFin = false;
  reset = false;
  /** Whether to ACK received data (off to test retransmission). */
  autoAck = true;

  constructor(
    readonly guest: FakeGuest,
    readonly remoteIp: number,
    readonly remotePort: number,
    readonly localPort: number,
    iss: number,
    public state: 'syn-sent' | 'syn-rcvd' | 'established' | 'closed',
  ) {
    this.sndNxt = this.sndUna = iss;
  }

  get received(): string {
    return str(concatBytes(this.data));
  }

  onSegment(seg: TcpSegment): void {
    if (seg.flags & TCP_RST) {
      this.reset = true;
      this.state = 'closed';
      return;
    }
    if (this.state === 'syn-sent') {
      if ((seg.flags & (TCP_SYN | TCP_ACK)) !== (TCP_SYN | TCP_ACK)) return;
      this.rcvNxt = seqAdd(seg.seq, 1);
      this.sndUna = seg.ack;
      this.peerMss = seg.mss;
      this.state = 'established';
      this.ack();
      return;
    }
    if (this.state === 'syn-rcvd' && seg.flags & TCP_ACK) this.state = 'established';
    if (seg.flags & TCP_ACK) this.sndUna = seg.ack;
    let advanced = false;
    if (seg.payload.length > 0 || seg.flags & TCP_FIN) {
      if (seg.seq === this.rcvNxt) {
        if (seg.payload.length > 0) this.data.push(seg.payload.slice());
        this.rcvNxt = seqAdd(this.rcvNxt, seg.payload.length);
        if (seg.flags & TCP_FIN) {
          this.rcvNxt = seqAdd(this.rcvNxt, 1);
          this.peerFin = true;
        }
        advanced = true;
      }
      if (this.autoAck || !advanced) this.ack();
    }
  }

  ack(): void {
    this.seg(TCP_ACK, new Uint8Array(0));
  }

  write(data: Uint8Array | string): void {
    let b = typeof data === 'string' ? text(data) : data;
    while (b.length > 0) {
      const n = Math.min(b.length, 1460);
      this.seg(TCP_ACK | TCP_PSH, b.subarray(0, n));
      this.sndNxt = seqAdd(this.sndNxt, n);
      b = b.subarray(n);
    }
  }

  close(): void {
    this.seg(TCP_FIN | TCP_ACK, new Uint8Array(0));
    this.sndNxt = seqAdd(this.sndNxt, 1);
  }

  rst(): void {
    this.seg(TCP_RST | TCP_ACK, new Uint8Array(0));
    this.state = 'closed';
  }

  /** The last acknowledgment number this end sent. */
  lastAckSent = 0;

  seg(flags: number, payload: Uint8Array): void {
    if (flags & TCP_ACK) this.lastAckSent = this.rcvNxt;
    this.guest.sendTcp(this.remoteIp, {
      srcPort: this.localPort, dstPort: this.remotePort, seq: this.sndNxt, ack: this.rcvNxt, flags, window: this.window, payload,
    });
  }
}
