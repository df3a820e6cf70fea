/**
 * QEMU's `-netdev user` (slirp): a virtual 10.0.2.0/24 network behind a NAT, terminated in the
 * VMM. The gateway/host is 10.0.2.2 (MAC 52:55:0a:00:02:02), the DNS forwarder 10.0.2.3, and
 * the DHCP server hands out 10.0.2.15 onward. Guest TCP connections and UDP datagrams leave
 * through host sockets (10.0.2.2 stands for the host's loopback); `hostfwd` rules listen on the
 * host and open connections into the guest.
 *
 * Pure and deterministic given its inputs: every host interaction goes through the injected
 * HostSockets, frames for the guest are delivered from the injected `schedule` hook.
 */
import { buildArp, parseArp, ARP_REPLY, ARP_REQUEST } from './arp.js';
import { ipv4ToString, parseIpv4Address } from './bytes.js';
import { DhcpServer, DHCP_CLIENT_PORT, DHCP_SERVER_PORT, parseDhcp } from './dhcp.js';
import { NetdevError } from './errors.js';
import { BROADCAST_MAC, buildEthernet, ETHERTYPE_ARP, ETHERTYPE_IPV4, parseEthernet } from './ethernet.js';
import { GuestDelivery } from './guest-delivery.js';
import type { HostSocketError, HostSockets, HostTcpConnection, HostTcpHandlers, HostTcpListener, HostTimer, HostUdpSocket } from './host-sockets.js';
import { buildIcmp, parseIcmp, ICMP_ECHO_REPLY, ICMP_ECHO_REQUEST } from './icmp.js';
import { buildIpv4, IP_PROTO_ICMP, IP_PROTO_TCP, IP_PROTO_UDP, IPV4_HEADER_LEN, parseIpv4, type Ipv4Packet } from './ipv4.js';
import type { NetBackend, NetReceiver, Schedule } from './net-backend.js';
import { TcpConnection, type TcpConnectionEnv, type TcpEndpoints } from './tcp-connection.js';
import { buildTcp, parseTcp, TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN, type TcpSegment } from './tcp-segment.js';
import { buildUdp, parseUdp } from './udp.js';

const ip = (s: string): number => parseIpv4Address(s)!;

/** The fixed addresses of QEMU's default user network. */
export const SLIRP_NETWORK = ip('10.0.2.0');
export const SLIRP_NETMASK = ip('255.255.255.0');
export const SLIRP_HOST = ip('10.0.2.2');
export const SLIRP_DNS = ip('10.0.2.3');
export const SLIRP_DHCP_START = ip('10.0.2.15');
export const SLIRP_BROADCAST = ip('10.0.2.255');
/** slirp's "special" MACs: 52:55 followed by the IPv4 address. */
export const SLIRP_HOST_MAC: Uint8Array = new Uint8Array([0x52, 0x55, 0x0a, 0x00, 0x02, 0x02]);
export const SLIRP_LEASE_SECONDS = 86400;
const DHCP_POOL = 16;
const MTU = 1500;
/** slirp expires idle UDP "sockets" after 240 s. */
const UDP_IDLE_MS = 240_000;
const ARP_QUEUE_LIMIT = 64;
const UDP_FWD_SESSION_LIMIT = 1024;
const HOST_LOOPBACK = '127.0.0.1';

/** One `hostfwd=` rule: `hostfwd=tcp:[hostaddr]:hostport-[guestaddr]:guestport`. */
export interface HostForward {
  proto: 'tcp' | 'udp';
  /** Host address to listen on; '' for all interfaces. */
  hostAddr: string;
  /** Host port; 0 picks a free one (see `hostfwdPorts`). */
  hostPort: number;
  /** Guest address; default the first DHCP address, 10.0.2.15. */
  guestAddr?: string;
  guestPort: number;
}

export interface UserNetworkOptions {
  host: HostSockets;
  /** Runs frame delivery into the guest later on the main loop. */
  schedule: Schedule;
  hostfwd?: readonly HostForward[] | undefined;
  /** Diagnostics for dropped frames (default: none). */
  log?: ((message: string) => void) | undefined;
}

/** Counters, for tests and `info network`-style reports. */
export interface UserNetworkStats {
  /** Frames the guest sent. */
  fromGuest: number;
  /** Frames queued for the guest. */
  toGuest: number;
  /** Frames from the guest dropped, by reason (e.g. `ipv4-checksum`, `tcp-malformed`). */
  dropped: Record<string, number>;
}

interface UdpNatEntry {
  socket: HostUdpSocket;
  lastUsed: number;
  timer: HostTimer | null;
}

interface UdpForwardSession {
  socket: HostUdpSocket;
  addr: string;
  port: number;
}

function inSubnet(a: number): boolean {
  return ((a & SLIRP_NETMASK) >>> 0) === SLIRP_NETWORK;
}

function specialMac(addr: number): Uint8Array {
  return new Uint8Array([0x52, 0x55, addr >>> 24, (addr >>> 16) & 0xff, (addr >>> 8) & 0xff, addr & 0xff]);
}

function tcpKey(guestIp: number, guestPort: number, remoteIp: number, remotePort: number): string {
  return `${guestIp}:${guestPort}>${remoteIp}:${remotePort}`;
}

function describeHostError(e: HostSocketError, f: HostForward): string {
  switch (e.code) {
    case 'EADDRINUSE':
      return `port ${f.hostPort} already in use`;
    case 'EACCES':
      return `permission denied for port ${f.hostPort}`;
    case 'EADDRNOTAVAIL':
      return `address ${f.hostAddr} not available`;
    default:
      return e.message;
  }
}

/** The user-mode network backend. */
export class UserNetwork implements NetBackend {
  readonly stats: UserNetworkStats = { fromGuest: 0, toGuest: 0, dropped: {} };
  /** The bound host port of each hostfwd rule (same order), once listening; 0 before. */
  readonly hostfwdPorts: number[];

  private readonly host: HostSockets;
  private readonly log: (message: string) => void;
  private readonly delivery: GuestDelivery;
  private readonly dhcp: DhcpServer;
  private readonly arpTable = new Map<number, Uint8Array>();
  private readonly arpPending = new Map<number, Uint8Array[]>();
  private readonly tcp = new Map<string, TcpConnection>();
  private readonly udpNat = new Map<string, UdpNatEntry>();
  private readonly udpForwards = new Map<string, UdpForwardSession>();
  private readonly listeners: HostTcpListener[] = [];
  private readonly udpListeners: HostUdpSocket[] = [];
  private readonly tcpEnv: TcpConnectionEnv;
  private ipId = 0;
  private connCount = 0;
  private closed = false;
  private pendingSetups = 0;
  private readonly setupErrors: NetdevError[] = [];
  private readyWaiters: Array<(errors: NetdevError[]) => void> = [];

  constructor(options: UserNetworkOptions) {
    this.host = options.host;
    this.log = options.log ?? (() => {});
    this.delivery = new GuestDelivery(options.schedule);
    this.dhcp = new DhcpServer({
      serverIp: SLIRP_HOST, startIp: SLIRP_DHCP_START, count: DHCP_POOL, netmask: SLIRP_NETMASK,
      router: SLIRP_HOST, dns: SLIRP_DNS, leaseTime: SLIRP_LEASE_SECONDS,
    });
    this.tcpEnv = {
      host: this.host,
      emit: (conn, seg) => this.emitTcp(conn.ends, seg),
      closed: (conn) => {
        const e = conn.ends;
        const key = tcpKey(e.guestIp, e.guestPort, e.remoteIp, e.remotePort);
        if (this.tcp.get(key) === conn) this.tcp.delete(key);
      },
    };
    const rules = options.hostfwd ?? [];
    this.hostfwdPorts = rules.map(() => 0);
    rules.forEach((f, i) => this.setUpForward(f, i));
  }

  // ---- NetBackend ----

  send(frame: Uint8Array): void {
    if (this.closed) return;
    this.stats.fromGuest++;
    try {
      this.handleFrame(frame);
    } catch (e) {
      // A bug here must not take the machine down with it.
      this.drop('internal-error');
      this.log(`-netdev user: internal error on a guest frame: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  setReceiver(receive: NetReceiver): void {
    this.delivery.setReceiver(receive);
  }

  rxSpaceAvailable(): void {
    this.delivery.rxSpaceAvailable();
  }

  // ---- lifecycle ----

  /**
   * Calls `callback` once every hostfwd rule is listening or has failed (immediately when that
   * is already so); `errors` is empty on success.
   */
  whenReady(callback: (errors: NetdevError[]) => void): void {
    if (this.pendingSetups === 0) callback(this.setupErrors.slice());
    else this.readyWaiters.push(callback);
  }

  /** Releases every host socket and timer; frames sent afterwards are ignored. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const l of this.listeners) l.close();
    for (const s of this.udpListeners) s.close();
    for (const c of [...this.tcp.values()]) c.close();
    this.tcp.clear();
    for (const e of this.udpNat.values()) {
      e.timer?.cancel();
      e.socket.close();
    }
    this.udpNat.clear();
    this.udpForwards.clear();
    this.delivery.clear();
  }

  /** Open TCP connections (for tests and diagnostics). */
  get tcpConnectionCount(): number {
    return this.tcp.size;
  }

  /** Frames waiting for the guest to take them. */
  get queuedForGuest(): number {
    return this.delivery.length;
  }

  // ---- frames from the guest ----

  private drop(reason: string): void {
    this.stats.dropped[reason] = (this.stats.dropped[reason] ?? 0) + 1;
  }

  private handleFrame(frame: Uint8Array): void {
    const eth = parseEthernet(frame);
    if (eth === null) return this.drop('ethernet');
    if (eth.type === ETHERTYPE_ARP) return this.handleArp(eth.payload);
    if (eth.type !== ETHERTYPE_IPV4) return this.drop('ethertype');
    const pkt = parseIpv4(eth.payload);
    if (typeof pkt === 'string') return this.drop(`ipv4-${pkt}`);
    if (pkt.src !== 0 && inSubnet(pkt.src)) this.learn(pkt.src, eth.src);
    switch (pkt.protocol) {
      case IP_PROTO_ICMP:
        return this.handleIcmp(pkt);
      case IP_PROTO_UDP:
        return this.handleUdp(pkt, eth.src);
      case IP_PROTO_TCP:
        return this.handleTcp(pkt);
      default:
        return this.drop('ip-protocol');
    }
  }

  private handleArp(payload: Uint8Array): void {
    const arp = parseArp(payload);
    if (arp === null) return this.drop('arp');
    if (arp.senderIp !== 0 && inSubnet(arp.senderIp)) this.learn(arp.senderIp, arp.senderMac);
    if (arp.op === ARP_REQUEST && (arp.targetIp === SLIRP_HOST || arp.targetIp === SLIRP_DNS)) {
      const mac = specialMac(arp.targetIp);
      const reply = buildArp({ op: ARP_REPLY, senderMac: mac, senderIp: arp.targetIp, targetMac: arp.senderMac, targetIp: arp.senderIp });
      this.output(buildEthernet(arp.senderMac, mac, ETHERTYPE_ARP, reply));
    }
  }

  /** Records where a guest address lives and sends what waited for it. */
  private learn(addr: number, mac: Uint8Array): void {
    if (addr === SLIRP_HOST || addr === SLIRP_DNS || addr === SLIRP_BROADCAST || addr === SLIRP_NETWORK) return;
    if (mac[0]! & 1) return; // a multicast source MAC is bogus
    this.arpTable.set(addr, mac.slice(0, 6));
    const waiting = this.arpPending.get(addr);
    if (waiting) {
      this.arpPending.delete(addr);
      for (const p of waiting) this.output(buildEthernet(mac, SLIRP_HOST_MAC, ETHERTYPE_IPV4, p));
    }
  }

  private handleIcmp(pkt: Ipv4Packet): void {
    const msg = parseIcmp(pkt.payload);
    if (msg === null) return this.drop('icmp');
    if (pkt.dst !== SLIRP_HOST || msg.type !== ICMP_ECHO_REQUEST) return this.drop('icmp-unhandled');
    this.sendIp(pkt.src, IP_PROTO_ICMP, SLIRP_HOST, buildIcmp(ICMP_ECHO_REPLY, 0, msg.body));
  }

  // ---- UDP ----

  private handleUdp(pkt: Ipv4Packet, srcMac: Uint8Array): void {
    const u = parseUdp(pkt.src, pkt.dst, pkt.payload);
    if (u === null) return this.drop('udp');
    if (u.dstPort === DHCP_SERVER_PORT && (pkt.dst === 0xffffffff || pkt.dst === SLIRP_HOST)) {
      return this.handleDhcp(u.payload, srcMac);
    }
    const dst = pkt.dst;
    if (dst === 0xffffffff || dst === SLIRP_BROADCAST || dst >>> 28 === 0xe) return this.drop('udp-broadcast');
    if (dst === SLIRP_DNS) {
      if (u.dstPort !== 53) return this.drop('udp-dns-port');
      const guestIp = pkt.src;
      const guestPort = u.srcPort;
      this.host.resolveDns(u.payload.slice(), (response) => {
        if (!this.closed) this.sendUdp(SLIRP_DNS, 53, guestIp, guestPort, response);
      });
      return;
    }
    const fwd = this.udpForwards.get(tcpKey(pkt.src, u.srcPort, dst, u.dstPort));
    if (fwd) {
      fwd.socket.send(fwd.addr, fwd.port, u.payload.slice());
      return;
    }
    if (inSubnet(dst) && dst !== SLIRP_HOST) return this.drop('udp-unreachable');
    const entry = this.natEntry(pkt.src, u.srcPort);
    entry.lastUsed = this.host.now();
    entry.socket.send(this.hostAddrOf(dst), u.dstPort, u.payload.slice());
  }

  private natEntry(guestIp: number, guestPort: number): UdpNatEntry {
    const key = `${guestIp}:${guestPort}`;
    const existing = this.udpNat.get(key);
    if (existing) return existing;
    const entry: UdpNatEntry = {
      lastUsed: this.host.now(),
      timer: null,
      socket: this.host.udpSocket({
        onMessage: (data, addr, port) => {
          if (this.closed || this.udpNat.get(key) !== entry) return;
          const from = this.virtualAddrOf(addr);
          if (from === null) return;
          entry.lastUsed = this.host.now();
          this.sendUdp(from, port, guestIp, guestPort, data);
        },
        onError: () => this.expireNat(key, entry, true),
      }),
    };
    this.udpNat.set(key, entry);
    const arm = (ms: number): void => {
      entry.timer = this.host.setTimer(ms, () => {
        entry.timer = null;
        const idle = this.host.now() - entry.lastUsed;
        if (idle >= UDP_IDLE_MS) this.expireNat(key, entry, false);
        else arm(UDP_IDLE_MS - idle);
      });
    };
    arm(UDP_IDLE_MS);
    return entry;
  }

  private expireNat(key: string, entry: UdpNatEntry, broken: boolean): void {
    if (this.udpNat.get(key) !== entry) return;
    this.udpNat.delete(key);
    entry.timer?.cancel();
    if (!broken) entry.socket.close();
  }

  private handleDhcp(payload: Uint8Array, srcMac: Uint8Array): void {
    const msg = parseDhcp(payload);
    if (msg === null) return this.drop('dhcp');
    const reply = this.dhcp.handle(msg);
    if (reply === null) return;
    if (reply.yiaddr !== 0) this.learn(reply.yiaddr, msg.chaddr.every((b) => b === 0) ? srcMac : msg.chaddr);
    const udp = buildUdp(SLIRP_HOST, 0xffffffff, DHCP_SERVER_PORT, DHCP_CLIENT_PORT, reply.message);
    const packet = buildIpv4({ src: SLIRP_HOST, dst: 0xffffffff, protocol: IP_PROTO_UDP, payload: udp, id: this.nextId(), tos: 0x10 });
    this.output(buildEthernet(BROADCAST_MAC, SLIRP_HOST_MAC, ETHERTYPE_IPV4, packet));
  }

  private sendUdp(srcIp: number, srcPort: number, dstIp: number, dstPort: number, payload: Uint8Array): void {
    if (payload.length > 65535 - 28) return;
    this.sendIp(dstIp, IP_PROTO_UDP, srcIp, buildUdp(srcIp, dstIp, srcPort, dstPort, payload));
  }

  // ---- TCP ----

  private handleTcp(pkt: Ipv4Packet): void {
    const seg = parseTcp(pkt.src, pkt.dst, pkt.payload);
    if (seg === null) return this.drop('tcp');
    const key = tcpKey(pkt.src, seg.srcPort, pkt.dst, seg.dstPort);
    const isSyn = (seg.flags & (TCP_SYN | TCP_ACK | TCP_RST)) === TCP_SYN;
    let conn = this.tcp.get(key);
    if (conn && isSyn && (conn.state === 'time-wait' || conn.state === 'closed')) {
      conn.close(); // the guest reuses the port pair
      conn = undefined;
    }
    if (conn) return conn.handleSegment(seg);
    if (seg.flags & TCP_RST) return;
    if (isSyn) return this.openOutbound(pkt, seg, key);
    this.resetFor(pkt, seg);
  }

  private openOutbound(pkt: Ipv4Packet, syn: TcpSegment, key: string): void {
    const dst = pkt.dst;
    if (dst === 0xffffffff || dst === SLIRP_BROADCAST || dst >>> 28 === 0xe) return this.drop('tcp-broadcast');
    if (inSubnet(dst) && dst !== SLIRP_HOST) return this.resetFor(pkt, syn);
    const ends: TcpEndpoints = { guestIp: pkt.src, guestPort: syn.srcPort, remoteIp: dst, remotePort: syn.dstPort };
    const conn = TcpConnection.fromGuestSyn(this.tcpEnv, ends, syn, this.nextIss());
    this.tcp.set(key, conn);
    conn.host = this.host.tcpConnect(this.hostAddrOf(dst), syn.dstPort, conn.hostHandlers());
  }

  /** The RST a closed port answers with (RFC 793, "reset generation"). */
  private resetFor(pkt: Ipv4Packet, seg: TcpSegment): void {
    let reply: TcpSegment;
    if (seg.flags & TCP_ACK) {
      reply = { srcPort: seg.dstPort, dstPort: seg.srcPort, seq: seg.ack, ack: 0, flags: TCP_RST, window: 0, payload: new Uint8Array(0) };
    } else {
      const len = seg.payload.length + (seg.flags & TCP_SYN ? 1 : 0) + (seg.flags & TCP_FIN ? 1 : 0);
      reply = { srcPort: seg.dstPort, dstPort: seg.srcPort, seq: 0, ack: (seg.seq + len) >>> 0, flags: TCP_RST | TCP_ACK, window: 0, payload: new Uint8Array(0) };
    }
    this.sendIp(pkt.src, IP_PROTO_TCP, pkt.dst, buildTcp(pkt.dst, pkt.src, reply));
  }

  private emitTcp(ends: TcpEndpoints, seg: TcpSegment): void {
    if (this.closed) return;
    this.sendIp(ends.guestIp, IP_PROTO_TCP, ends.remoteIp, buildTcp(ends.remoteIp, ends.guestIp, seg));
  }

  private nextIss(): number {
    this.connCount++;
    return (Math.imul(this.connCount, 0x9e3779b1) + Math.floor(this.host.now()) * 250) >>> 0;
  }

  // ---- hostfwd ----

  private setUpForward(f: HostForward, index: number): void {
    const label = `${f.proto}:${f.hostAddr}:${f.hostPort}`;
    const guestIp = f.guestAddr === undefined || f.guestAddr === '' ? SLIRP_DHCP_START : parseIpv4Address(f.guestAddr);
    if (guestIp === null || !inSubnet(guestIp)) {
      this.setupErrors.push(new NetdevError(`-netdev user: hostfwd ${label}: guest address ${f.guestAddr} is not in 10.0.2.0/24`));
      return;
    }
    const bindAddr = f.hostAddr === '' ? '0.0.0.0' : f.hostAddr;
    let settled = false;
    const settle = (error: HostSocketError | null, port: number): void => {
      if (settled) return;
      settled = true;
      if (error !== null) this.setupErrors.push(new NetdevError(`-netdev user: hostfwd ${label}: ${describeHostError(error, f)}`));
      else this.hostfwdPorts[index] = port;
      if (--this.pendingSetups === 0) {
        const waiters = this.readyWaiters;
        this.readyWaiters = [];
        for (const w of waiters) w(this.setupErrors.slice());
      }
    };
    this.pendingSetups++;
    if (f.proto === 'tcp') {
      this.listeners.push(this.host.tcpListen(bindAddr, f.hostPort, {
        onListening: (port) => settle(null, port),
        onError: (e) => settle(e, 0),
        onConnection: (conn, remote) => this.acceptForward(guestIp, f.guestPort, conn, remote),
      }));
    } else {
      const socket: HostUdpSocket = this.host.udpSocket({
        onListening: (port) => settle(null, port),
        onError: (e) => settle(e, 0),
        onMessage: (data, addr, port) => this.udpForwardIn(socket, guestIp, f.guestPort, data, addr, port),
      }, { addr: bindAddr, port: f.hostPort });
      this.udpListeners.push(socket);
    }
  }

  private acceptForward(guestIp: number, guestPort: number, host: HostTcpConnection, remote: { addr: string; port: number }): HostTcpHandlers {
    const ignore: HostTcpHandlers = { onData: () => {}, onEnd: () => {}, onClose: () => {} };
    if (this.closed) {
      host.destroy();
      return ignore;
    }
    const remoteIp = this.virtualAddrOf(remote.addr) ?? SLIRP_HOST;
    let remotePort = remote.port;
    while (this.tcp.has(tcpKey(guestIp, guestPort, remoteIp, remotePort))) remotePort = 49152 + ((remotePort + 1) % 16384);
    const ends: TcpEndpoints = { guestIp, guestPort, remoteIp, remotePort };
    const conn = TcpConnection.toGuest(this.tcpEnv, ends, host, this.nextIss());
    this.tcp.set(tcpKey(guestIp, guestPort, remoteIp, remotePort), conn);
    return conn.hostHandlers();
  }

  private udpForwardIn(socket: HostUdpSocket, guestIp: number, guestPort: number, data: Uint8Array, addr: string, port: number): void {
    if (this.closed) return;
    const remoteIp = this.virtualAddrOf(addr) ?? SLIRP_HOST;
    const key = tcpKey(guestIp, guestPort, remoteIp, port);
    if (!this.udpForwards.has(key)) {
      if (this.udpForwards.size >= UDP_FWD_SESSION_LIMIT) this.udpForwards.delete(this.udpForwards.keys().next().value!);
      this.udpForwards.set(key, { socket, addr, port });
    }
    this.sendUdp(remoteIp, port, guestIp, guestPort, data);
  }

  // ---- addresses and output ----

  /** The host address a guest destination stands for (10.0.2.2 is the host's loopback). */
  private hostAddrOf(dst: number): string {
    return dst === SLIRP_HOST ? HOST_LOOPBACK : ipv4ToString(dst);
  }

  /** The address the guest sees for a host peer; null when it has none (IPv6). */
  private virtualAddrOf(addr: string): number | null {
    const a = addr.startsWith('::ffff:') ? addr.slice(7) : addr;
    if (a === '::1') return SLIRP_HOST;
    const v = parseIpv4Address(a);
    if (v === null) return null;
    if (v >>> 24 === 127 || v === 0 || inSubnet(v)) return SLIRP_HOST;
    return v;
  }

  private nextId(): number {
    this.ipId = (this.ipId + 1) & 0xffff;
    return this.ipId;
  }

  /** Sends an IP packet to a guest address, fragmenting above the MTU, resolving the MAC by ARP. */
  private sendIp(dst: number, protocol: number, src: number, payload: Uint8Array): void {
    const id = this.nextId();
    const packets: Uint8Array[] = [];
    if (IPV4_HEADER_LEN + payload.length <= MTU) {
      packets.push(buildIpv4({ src, dst, protocol, payload, id }));
    } else {
      const step = (MTU - IPV4_HEADER_LEN) & ~7;
      for (let off = 0; off < payload.length; off += step) {
        const part = payload.subarray(off, Math.min(off + step, payload.length));
        packets.push(buildIpv4({ src, dst, protocol, payload: part, id, fragmentOffset: off, moreFragments: off + step < payload.length }));
      }
    }
    const mac = dst === 0xffffffff || dst === SLIRP_BROADCAST ? BROADCAST_MAC : this.arpTable.get(dst);
    if (mac !== undefined) {
      for (const p of packets) this.output(buildEthernet(mac, SLIRP_HOST_MAC, ETHERTYPE_IPV4, p));
      return;
    }
    // Unknown guest MAC: ask, and hold the packets until the guest answers.
    let waiting = this.arpPending.get(dst);
    if (!waiting) this.arpPending.set(dst, (waiting = []));
    for (const p of packets) if (waiting.length < ARP_QUEUE_LIMIT) waiting.push(p);
    const request = buildArp({ op: ARP_REQUEST, senderMac: SLIRP_HOST_MAC, senderIp: SLIRP_HOST, targetMac: new Uint8Array(6), targetIp: dst });
    this.output(buildEthernet(BROADCAST_MAC, SLIRP_HOST_MAC, ETHERTYPE_ARP, request));
  }

  private output(frame: Uint8Array): void {
    if (this.closed) return;
    this.stats.toGuest++;
    this.delivery.push(frame);
  }
}
