import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ARP_REPLY, ARP_REQUEST, buildArp, parseArp } from './arp.js';
import { concatBytes, internetChecksum, rd32 } from './bytes.js';
import { buildDhcp, parseDhcp, DHCPACK, DHCPNAK, DHCPOFFER } from './dhcp.js';
import { BROADCAST_MAC, buildEthernet, ETHERTYPE_ARP, ETHERTYPE_IPV4, parseEthernet } from './ethernet.js';
import { FakeHostSockets } from '../../test/support/net/fake-host-sockets.js';
import { buildIcmp } from './icmp.js';
import { buildIpv4, IP_PROTO_ICMP, IP_PROTO_TCP, IP_PROTO_UDP } from './ipv4.js';
import { buildTcp, TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN } from './tcp-segment.js';
import { buildUdp, parseUdp } from './udp.js';
import { FakeGuest, GUEST_MAC, HOST_MAC, ip, str, text } from '../../test/support/net/guest.js';
import { UserNetwork, type HostForward } from './user-network.js';

const GW = ip('10.0.2.2');
const DNS = ip('10.0.2.3');
const GUEST = ip('10.0.2.15');

function setup(hostfwd?: HostForward[]) {
  const host = new FakeHostSockets();
  const pending: Array<() => void> = [];
  const net = new UserNetwork({ host, schedule: (fn) => pending.push(fn), ...(hostfwd !== undefined ? { hostfwd } : {}) });
  const guest = new FakeGuest(net);
  /** Runs the scheduled deliveries (the main loop's bottom halves). */
  const run = (): void => {
    while (pending.length > 0) pending.shift()!();
  };
  return { host, net, guest, run, pending };
}

function dhcpFrame(type: number, xid: number, mac: Uint8Array, extra: Array<[number, Uint8Array]> = []): Uint8Array {
  const msg = buildDhcp({ op: 1, xid, flags: 0, yiaddr: 0, siaddr: 0, chaddr: mac, options: [[53, Uint8Array.of(type)], ...extra] });
  const udp = buildUdp(0, 0xffffffff, 68, 67, msg);
  return buildEthernet(BROADCAST_MAC, mac, ETHERTYPE_IPV4, buildIpv4({ src: 0, dst: 0xffffffff, protocol: IP_PROTO_UDP, payload: udp }));
}

test('ARP requests for 10.0.2.2 and 10.0.2.3 are answered with slirp MACs; others are not', () => {
  const { net, guest, run } = setup();
  for (const target of [GW, DNS, ip('10.0.2.99')]) {
    const req = buildArp({ op: ARP_REQUEST, senderMac: GUEST_MAC, senderIp: GUEST, targetMac: new Uint8Array(6), targetIp: target });
    net.send(buildEthernet(BROADCAST_MAC, GUEST_MAC, ETHERTYPE_ARP, req));
  }
  assert.equal(guest.frames.length, 0, 'nothing is delivered from inside send()');
  run();
  const got = guest.take();
  assert.equal(got.length, 2);
  const a = parseArp(parseEthernet(got[0]!.frame)!.payload)!;
  assert.equal(a.op, ARP_REPLY);
  assert.equal(a.senderIp, GW);
  assert.deepEqual([...a.senderMac], [0x52, 0x55, 10, 0, 2, 2]);
  assert.deepEqual(a.targetMac, GUEST_MAC);
  assert.equal(a.targetIp, GUEST);
  assert.deepEqual(parseEthernet(got[0]!.frame)!.dst, GUEST_MAC);
  const b = parseArp(parseEthernet(got[1]!.frame)!.payload)!;
  assert.equal(b.senderIp, DNS);
  assert.deepEqual([...b.senderMac], [0x52, 0x55, 10, 0, 2, 3]);
});

test('DHCP: DISCOVER gets an OFFER of 10.0.2.15, REQUEST gets an ACK with the slirp options', () => {
  const { net, guest, run } = setup();
  net.send(dhcpFrame(1, 0xabcd, GUEST_MAC, [[55, Uint8Array.of(1, 3, 6)]]));
  run();
  let [r] = guest.take();
  assert.ok(r?.udp);
  assert.deepEqual(parseEthernet(r.frame)!.dst, BROADCAST_MAC);
  assert.deepEqual(parseEthernet(r.frame)!.src, HOST_MAC);
  assert.equal(r.src, GW);
  assert.equal(r.dst, 0xffffffff);
  assert.equal(r.udp.srcPort, 67);
  assert.equal(r.udp.dstPort, 68);
  let m = parseDhcp(r.udp.payload)!;
  assert.equal(m.op, 2);
  assert.equal(m.xid, 0xabcd);
  assert.equal(m.msgType, DHCPOFFER);
  assert.equal(m.yiaddr, GUEST);
  assert.deepEqual(m.chaddr, GUEST_MAC);
  const opt32 = (code: number): number => rd32(m.options.get(code)!, 0);
  assert.equal(opt32(54), GW, 'server id');
  assert.equal(opt32(1), ip('255.255.255.0'));
  assert.equal(opt32(3), GW, 'router');
  assert.equal(opt32(6), DNS, 'dns');
  assert.equal(opt32(51), 86400, 'lease');

  net.send(dhcpFrame(3, 0xabce, GUEST_MAC, [[50, Uint8Array.of(10, 0, 2, 15)], [54, Uint8Array.of(10, 0, 2, 2)]]));
  run();
  [r] = guest.take();
  m = parseDhcp(r!.udp!.payload)!;
  assert.equal(m.msgType, DHCPACK);
  assert.equal(m.yiaddr, GUEST);
  assert.equal(opt32(51), 86400);
  assert.equal(opt32(3), GW);

  // Another client asking for the same address is refused; its DISCOVER gets the next one.
  const other = Uint8Array.of(0x52, 0x54, 0, 0, 0, 2);
  net.send(dhcpFrame(3, 7, other, [[50, Uint8Array.of(10, 0, 2, 15)]]));
  net.send(dhcpFrame(1, 8, other));
  run();
  const [nak, offer] = guest.take();
  assert.equal(parseDhcp(nak!.udp!.payload)!.msgType, DHCPNAK);
  const o = parseDhcp(offer!.udp!.payload)!;
  assert.equal(o.msgType, DHCPOFFER);
  assert.equal(o.yiaddr, ip('10.0.2.16'));
});

test('ICMP echo to 10.0.2.2 is answered locally with correct checksums', () => {
  const { guest, run } = setup();
  const body = Uint8Array.of(0x12, 0x34, 0x00, 0x01, ...text('ping payload!'));
  guest.sendIp(GW, IP_PROTO_ICMP, buildIcmp(8, 0, body));
  guest.sendIp(ip('192.0.2.1'), IP_PROTO_ICMP, buildIcmp(8, 0, body)); // not answered
  run();
  const got = guest.take();
  assert.equal(got.length, 1);
  const r = got[0]!;
  assert.equal(r.protocol, IP_PROTO_ICMP);
  assert.equal(r.src, GW);
  assert.equal(r.dst, GUEST);
  const eth = parseEthernet(r.frame)!;
  assert.deepEqual(eth.dst, GUEST_MAC, 'sent to the MAC learned from the request');
  assert.equal(internetChecksum(eth.payload, 0, 20), 0, 'IP header checksum');
  const icmp = eth.payload.subarray(20);
  assert.equal(icmp[0], 0, 'echo reply');
  assert.equal(internetChecksum(icmp), 0, 'ICMP checksum');
  assert.deepEqual(icmp.subarray(4), body, 'identifier, sequence and data echoed');
});

test('UDP NAT: one host socket per guest port, replies mapped back, idle sockets expire', () => {
  const { host, guest, run } = setup();
  guest.sendUdp(5000, ip('192.0.2.7'), 9999, text('q1'));
  guest.sendUdp(5000, GW, 7, text('q2'));
  guest.sendUdp(5001, GW, 7, text('q3'));
  assert.equal(host.udpSockets.length, 2);
  const [s0, s1] = host.udpSockets;
  assert.deepEqual(s0!.sent.map((x) => [x.addr, x.port, str(x.data)]), [['192.0.2.7', 9999, 'q1'], ['127.0.0.1', 7, 'q2']]);
  assert.deepEqual(s1!.sent.map((x) => [x.addr, x.port, str(x.data)]), [['127.0.0.1', 7, 'q3']]);
  s0!.receive(text('r1'), '192.0.2.7', 9999);
  s0!.receive(text('r2'), '127.0.0.1', 7);
  run();
  const got = guest.take();
  assert.deepEqual(got.map((r) => [r.src, r.udp!.srcPort, r.dst, r.udp!.dstPort, str(r.udp!.payload)]), [
    [ip('192.0.2.7'), 9999, GUEST, 5000, 'r1'],
    [GW, 7, GUEST, 5000, 'r2'],
  ]);
  host.advance(239_000);
  s1!.receive(text('keepalive'), '127.0.0.1', 7); // activity keeps s1
  host.advance(2_000);
  assert.equal(s0!.closed, true, 'idle for 240 s');
  assert.equal(s1!.closed, false);
  host.advance(240_000);
  assert.equal(s1!.closed, true);
});

test('a UDP reply larger than the MTU reaches the guest as IPv4 fragments', () => {
  const { host, guest, run } = setup();
  guest.sendUdp(5002, ip('192.0.2.8'), 4000, text('big?'));
  const big = Uint8Array.from({ length: 4000 }, (_, i) => (i * 13) & 0xff);
  host.udpSockets[0]!.receive(big, '192.0.2.8', 4000);
  run();
  const frags = guest.take().filter((r) => r.fragment);
  assert.equal(frags.length, 3);
  const parts: Uint8Array[] = [];
  let id = -1;
  for (const [k, f] of frags.entries()) {
    const p = parseEthernet(f.frame)!.payload;
    assert.equal(internetChecksum(p, 0, 20), 0);
    assert.ok(p.length <= 1500);
    const flags = (p[6]! << 8) | p[7]!;
    assert.equal((flags & 0x1fff) * 8, k * 1480, 'offset');
    assert.equal((flags & 0x2000) !== 0, k < 2, 'more fragments');
    const thisId = (p[4]! << 8) | p[5]!;
    if (id >= 0) assert.equal(thisId, id);
    id = thisId;
    parts.push(p.subarray(20));
  }
  const datagram = concatBytes(parts);
  const u = parseUdp(ip('192.0.2.8'), GUEST, datagram)!;
  assert.deepEqual(u.payload, big);
});

test('DNS queries to 10.0.2.3:53 go to the host resolver; the answer comes from 10.0.2.3', () => {
  const { host, guest, run } = setup();
  const query = Uint8Array.of(0xbe, 0xef, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 3, 0x66, 0x6f, 0x6f, 0, 0, 1, 0, 1);
  guest.sendUdp(33333, DNS, 53, query);
  guest.sendUdp(33334, DNS, 54, query); // not DNS: dropped
  assert.equal(host.dnsQueries.length, 1);
  assert.deepEqual(host.dnsQueries[0]!.query, query);
  const answer = Uint8Array.of(0xbe, 0xef, 0x81, 0x80, ...query.subarray(4));
  host.dnsQueries[0]!.reply(answer);
  run();
  const [r] = guest.take();
  assert.equal(r!.src, DNS);
  assert.equal(r!.udp!.srcPort, 53);
  assert.equal(r!.udp!.dstPort, 33333);
  assert.deepEqual(r!.udp!.payload, answer);
});

test('TCP: handshake, data both ways, FIN both ways', () => {
  const { host, net, guest, run } = setup();
  const sock = guest.connect(GW, 8080, 40000, 1000);
  run();
  assert.equal(guest.take().length, 0, 'no SYN-ACK before the host connects');
  assert.equal(host.connects.length, 1);
  const hc = host.connects[0]!;
  assert.equal(hc.addr, '127.0.0.1', '10.0.2.2 is the host loopback');
  assert.equal(hc.port, 8080);
  hc.peerConnect();
  run();
  const [synack] = guest.take();
  assert.equal(synack!.tcp!.flags, TCP_SYN | TCP_ACK);
  assert.equal(synack!.tcp!.ack, 1001);
  assert.equal(synack!.tcp!.mss, 1460);
  assert.equal(synack!.src, GW);
  assert.equal(sock.state, 'established');

  sock.write('hello host');
  assert.equal(hc.writtenText, 'hello host');
  run();
  const [ack] = guest.take();
  assert.equal(ack!.tcp!.flags, TCP_ACK);
  assert.equal(ack!.tcp!.ack, 1001 + 10);
  assert.equal(ack!.tcp!.window, 65535);

  hc.peerSend('hello guest');
  run();
  assert.equal(sock.received, 'hello guest');

  sock.close();
  assert.equal(hc.ended, true, 'guest FIN half-closes the host socket');
  hc.peerSend('late data');
  run();
  assert.equal(sock.received, 'hello guestlate data', 'half-open: the host may still send');
  hc.peerEnd();
  run();
  assert.equal(sock.peerFin, true);
  const fin = guest.frames.filter((r) => r.tcp && r.tcp.flags & TCP_FIN);
  assert.equal(fin.length, 1);
  assert.equal(net.tcpConnectionCount, 0, 'closed once the guest ACKed our FIN');
  hc.peerClose(null);
  assert.equal(hc.destroyed, false, 'orderly close, not a reset');
});

test('TCP: the host closes first (FIN_WAIT_1, FIN_WAIT_2, TIME_WAIT)', () => {
  const { host, net, guest, run } = setup();
  const sock = guest.connect(GW, 8081, 40002);
  const hc = host.connects[0]!;
  hc.peerConnect();
  run();
  hc.peerSend('last words');
  hc.peerEnd();
  run();
  assert.equal(sock.received, 'last words');
  assert.equal(sock.peerFin, true);
  const fins = guest.frames.filter((r) => r.tcp && r.tcp.flags & TCP_FIN);
  assert.equal(fins.length, 1, 'one FIN, not repeated once acknowledged');
  sock.write('still open this way');
  assert.equal(hc.writtenText, 'still open this way');
  sock.close();
  assert.equal(hc.ended, true);
  run();
  assert.equal(net.tcpConnectionCount, 1, 'TIME_WAIT');
  sock.sndNxt -= 1;
  sock.close(); // a retransmitted FIN in TIME_WAIT is acknowledged again
  run();
  assert.equal(guest.take().at(-1)!.tcp!.flags, TCP_ACK);
  host.advance(2000);
  assert.equal(net.tcpConnectionCount, 0);
  assert.equal(host.activeTimers, 0);
  assert.equal(hc.destroyed, false);
});

test('TCP: a keepalive probe is acknowledged; a guest refusing a hostfwd connection resets the host client', () => {
  const { host, guest, run } = setup([{ proto: 'tcp', hostAddr: '127.0.0.1', hostPort: 2222, guestPort: 22 }]);
  const sock = guest.connect(GW, 8082, 40003);
  host.connects[0]!.peerConnect();
  run();
  guest.take();
  sock.sndNxt -= 1;
  sock.seg(TCP_ACK, new Uint8Array(0)); // Linux's keepalive: seq = snd_una - 1, no data
  sock.sndNxt += 1;
  run();
  const [ack] = guest.take();
  assert.equal(ack!.tcp!.flags, TCP_ACK);
  assert.equal(ack!.tcp!.ack, sock.sndNxt);

  // Nobody listens on guest port 22: the guest answers the SYN with RST.
  const client = host.listeners[0]!.connectFrom('127.0.0.1', 45000);
  run();
  const syn = guest.take().find((r) => r.tcp)!;
  guest.sendTcp(GW, { srcPort: 22, dstPort: 45000, seq: 0, ack: (syn.tcp!.seq + 1) >>> 0, flags: TCP_RST | TCP_ACK, window: 0, payload: new Uint8Array(0) });
  assert.equal(client.destroyed, true);
});

test('TCP: a zero guest window holds data back; a probe byte goes out on the timer', () => {
  const { host, guest, run } = setup();
  const sock = guest.connect(GW, 8083, 40004);
  const hc = host.connects[0]!;
  hc.peerConnect();
  run();
  guest.take();
  sock.window = 0;
  sock.ack(); // window update: closed
  hc.peerSend('blocked');
  run();
  assert.equal(guest.take().length, 0, 'nothing sent into a zero window');
  host.advance(1000);
  run();
  const [probe] = guest.take();
  assert.equal(probe!.tcp!.payload.length, 1);
  sock.window = 65535;
  sock.ack(); // the window opens
  run();
  assert.equal(sock.received, 'blocked');
});

test('TCP: host-to-guest bulk data respects the guest window and MSS; host pause on backlog', () => {
  const { host, guest, run } = setup();
  const sock = guest.connect(ip('192.0.2.10'), 80, 40001);
  sock.window = 3000;
  const hc = host.connects[0]!;
  assert.equal(hc.addr, '192.0.2.10');
  hc.peerConnect();
  run();
  const big = Uint8Array.from({ length: 300_000 }, (_, i) => (i * 31) & 0xff);
  hc.peerSend(big);
  assert.equal(hc.paused, true, 'more than 256 KiB buffered: host reading paused');
  // With ACKs held back, what arrives never exceeds the guest's window; segments fit the MSS.
  sock.autoAck = false;
  let maxSeg = 0;
  let maxAhead = 0;
  const onSegment = sock.onSegment.bind(sock);
  sock.onSegment = (seg) => {
    maxSeg = Math.max(maxSeg, seg.payload.length);
    onSegment(seg);
    maxAhead = Math.max(maxAhead, (sock.rcvNxt - sock.lastAckSent) | 0);
  };
  const got = (): number => sock.data.reduce((n, d) => n + d.length, 0);
  for (let i = 0; i < 1000 && got() < big.length; i++) {
    run();
    sock.ack();
  }
  run();
  assert.equal(sock.data.reduce((n, d) => n + d.length, 0), big.length);
  assert.deepEqual(concatBytes(sock.data), big);
  assert.ok(maxSeg <= 1460, `segment ${maxSeg}`);
  assert.equal(maxAhead, 3000, 'the window is filled, never overrun');
  assert.equal(hc.paused, false, 'resumed once the guest consumed the backlog');
  // The host closes without a prior end: FIN to the guest.
  hc.peerClose(null);
  run();
  assert.equal(sock.peerFin, true);
});

test('TCP: refused connect resets the guest; host reset resets the guest; guest RST destroys the host socket', () => {
  const { host, net, guest, run } = setup();
  const a = guest.connect(GW, 1, 40010, 77);
  host.connects[0]!.peerClose({ code: 'ECONNREFUSED', message: 'connection refused' });
  run();
  const [rst] = guest.take();
  assert.equal(rst!.tcp!.flags, TCP_RST | TCP_ACK);
  assert.equal(rst!.tcp!.ack, 78);
  assert.equal(a.reset, true);

  const b = guest.connect(GW, 2, 40011);
  host.connects[1]!.peerConnect();
  run();
  host.connects[1]!.peerClose({ code: 'ECONNRESET', message: 'reset' });
  run();
  assert.equal(b.reset, true);

  const c = guest.connect(GW, 3, 40012);
  host.connects[2]!.peerConnect();
  run();
  c.rst();
  assert.equal(host.connects[2]!.destroyed, true);
  assert.equal(net.tcpConnectionCount, 0);
});

test('TCP: segments for no connection get a RST; SYNs to other 10.0.2.x addresses are reset', () => {
  const { host, guest, run } = setup();
  guest.sendTcp(GW, { srcPort: 40020, dstPort: 80, seq: 5, ack: 0x12345678, flags: TCP_ACK, window: 100, payload: new Uint8Array(0) });
  guest.sendTcp(DNS, { srcPort: 40021, dstPort: 53, seq: 9, ack: 0, flags: TCP_SYN, window: 100, payload: new Uint8Array(0) });
  guest.sendTcp(GW, { srcPort: 40022, dstPort: 80, seq: 9, ack: 0, flags: TCP_RST, window: 100, payload: new Uint8Array(0) });
  run();
  const got = guest.take();
  assert.equal(got.length, 2);
  assert.equal(got[0]!.tcp!.flags, TCP_RST);
  assert.equal(got[0]!.tcp!.seq, 0x12345678);
  assert.equal(got[1]!.tcp!.flags, TCP_RST | TCP_ACK);
  assert.equal(got[1]!.tcp!.ack, 10);
  assert.equal(got[1]!.src, DNS);
  assert.equal(host.connects.length, 0);
});

test('TCP: unacknowledged data is retransmitted on a timer; a full host buffer closes the window', () => {
  const { host, net, guest, run } = setup();
  const sock = guest.connect(GW, 9000, 40030);
  const hc = host.connects[0]!;
  hc.peerConnect();
  run();
  sock.autoAck = false;
  hc.peerSend('abc');
  run();
  const first = guest.take().filter((r) => r.tcp?.payload.length);
  assert.equal(first.length, 1);
  host.advance(999);
  run();
  assert.equal(guest.take().length, 0);
  host.advance(1);
  run();
  const again = guest.take();
  assert.equal(again.length, 1);
  assert.equal(again[0]!.tcp!.seq, first[0]!.tcp!.seq);
  assert.equal(str(again[0]!.tcp!.payload), 'abc');
  sock.ack();
  host.advance(10_000);
  run();
  assert.equal(guest.take().length, 0, 'acknowledged: no more retransmissions');

  hc.writeResult = false;
  sock.write('x');
  run();
  const [zero] = guest.take();
  assert.equal(zero!.tcp!.window, 0);
  hc.peerDrain();
  run();
  const [update] = guest.take();
  assert.equal(update!.tcp!.window, 65535);
  assert.equal(update!.tcp!.ack, sock.sndNxt);

  // A guest that never answers gets a RST after the retries run out.
  hc.peerSend('lost');
  host.advance(600_000);
  run();
  assert.equal(sock.reset, true);
  assert.equal(hc.destroyed, true);
  assert.equal(net.tcpConnectionCount, 0);
});

test('hostfwd tcp: an accepted host connection becomes a SYN from 10.0.2.2 to the guest', () => {
  const { host, net, guest, run } = setup([{ proto: 'tcp', hostAddr: '', hostPort: 5555, guestPort: 22 }]);
  let ready: string[] | null = null;
  net.whenReady((errs) => (ready = errs.map((e) => e.message)));
  assert.equal(ready, null);
  const l = host.listeners[0]!;
  assert.equal(l.addr, '0.0.0.0');
  assert.equal(l.port, 5555);
  l.handlers.onListening!(5555);
  assert.deepEqual(ready, []);
  assert.deepEqual(net.hostfwdPorts, [5555]);

  guest.listening.add(22);
  const hc = l.connectFrom('127.0.0.1', 41000);
  run();
  // The guest's MAC was not known yet: ARP first, then the SYN (which the guest answered).
  const got = guest.take();
  assert.equal(got[0]!.type, ETHERTYPE_ARP);
  const syn = got.find((r) => r.tcp)!;
  assert.equal(syn.tcp!.flags, TCP_SYN);
  assert.equal(syn.src, GW);
  assert.equal(syn.tcp!.srcPort, 41000);
  assert.equal(syn.dst, GUEST);
  assert.equal(syn.tcp!.dstPort, 22);
  assert.equal(syn.tcp!.mss, 1460);
  const sock = guest.sockets[0]!;
  assert.equal(sock.state, 'established');
  hc.peerSend('SSH-2.0-client\r\n');
  run();
  assert.equal(sock.received, 'SSH-2.0-client\r\n');
  sock.write('SSH-2.0-guest\r\n');
  assert.equal(hc.writtenText, 'SSH-2.0-guest\r\n');
  // The guest closes first.
  sock.close();
  assert.equal(hc.ended, true);
  hc.peerEnd();
  run();
  assert.equal(sock.peerFin, true);
  host.advance(5000);
  assert.equal(net.tcpConnectionCount, 0, 'TIME_WAIT expired');
  net.close();
  assert.equal(l.closed, true);
});

test('hostfwd: a port in use is a one-line NetdevError; bad guest addresses too', () => {
  const { host, net } = setup([
    { proto: 'tcp', hostAddr: '', hostPort: 5555, guestPort: 22 },
    { proto: 'udp', hostAddr: '127.0.0.1', hostPort: 6000, guestPort: 53 },
    { proto: 'tcp', hostAddr: '', hostPort: 7000, guestAddr: '192.168.1.1', guestPort: 1 },
  ]);
  let errors: Error[] | null = null;
  net.whenReady((e) => (errors = e));
  host.listeners[0]!.handlers.onError!({ code: 'EADDRINUSE', message: 'address already in use' });
  assert.equal(errors, null);
  host.udpSockets[0]!.handlers.onError!({ code: 'EADDRINUSE', message: 'address already in use' });
  assert.deepEqual(errors!.map((e) => [e.name, e.message]), [
    ['NetdevError', '-netdev user: hostfwd tcp::7000: guest address 192.168.1.1 is not in 10.0.2.0/24'],
    ['NetdevError', '-netdev user: hostfwd tcp::5555: port 5555 already in use'],
    ['NetdevError', '-netdev user: hostfwd udp:127.0.0.1:6000: port 6000 already in use'],
  ]);
});

test('hostfwd udp: datagrams go to the guest, its replies go back to the host client', () => {
  const { host, net, guest, run } = setup([{ proto: 'udp', hostAddr: '127.0.0.1', hostPort: 6666, guestAddr: '10.0.2.15', guestPort: 7777 }]);
  const s = host.udpSockets[0]!;
  assert.deepEqual(s.bind, { addr: '127.0.0.1', port: 6666 });
  s.handlers.onListening!(6666);
  net.send(buildEthernet(HOST_MAC, GUEST_MAC, ETHERTYPE_ARP, buildArp({ op: ARP_REQUEST, senderMac: GUEST_MAC, senderIp: GUEST, targetMac: new Uint8Array(6), targetIp: GW })));
  s.receive(text('hi'), '127.0.0.1', 50000);
  run();
  const r = guest.take().find((x) => x.udp)!;
  assert.deepEqual([r.src, r.udp!.srcPort, r.dst, r.udp!.dstPort, str(r.udp!.payload)], [GW, 50000, GUEST, 7777, 'hi']);
  guest.sendUdp(7777, GW, 50000, text('ho'));
  assert.deepEqual(s.sent.map((x) => [x.addr, x.port, str(x.data)]), [['127.0.0.1', 50000, 'ho']]);
  assert.equal(host.udpSockets.length, 1, 'no NAT socket for a forwarded session');
});

test('malformed frames are dropped without throwing or reaching the host', () => {
  const { host, net, guest, run } = setup();
  const ipPkt = (protocol: number, payload: Uint8Array): Uint8Array => buildIpv4({ src: GUEST, dst: GW, protocol, payload });
  const eth = (p: Uint8Array, type = ETHERTYPE_IPV4): Uint8Array => buildEthernet(HOST_MAC, GUEST_MAC, type, p);
  const goodUdp = buildUdp(GUEST, GW, 1, 2, text('x'));
  const goodTcp = buildTcp(GUEST, GW, { srcPort: 1, dstPort: 2, seq: 1, ack: 0, flags: TCP_SYN, window: 1, payload: new Uint8Array(0) });
  const cases: Array<[string, Uint8Array]> = [];
  cases.push(['empty', new Uint8Array(0)], ['short ethernet', new Uint8Array(10)]);
  cases.push(['short arp', eth(new Uint8Array(20), ETHERTYPE_ARP)]);
  cases.push(['ipv6', eth(new Uint8Array(40), 0x86dd)]);
  cases.push(['truncated ip header', eth(ipPkt(IP_PROTO_UDP, goodUdp).subarray(0, 12))]);
  const p1 = ipPkt(IP_PROTO_UDP, goodUdp);
  p1[0] = 0x44; // IHL 4
  cases.push(['ihl < 5', eth(p1)]);
  const p2 = ipPkt(IP_PROTO_UDP, goodUdp);
  p2[3] = p2[3]! + 50; // total length beyond the data (checksum now wrong too, length is checked first)
  cases.push(['ip total length too long', eth(p2)]);
  const p3 = ipPkt(IP_PROTO_UDP, goodUdp);
  p3[10] = p3[10]! ^ 0xff;
  cases.push(['bad ip checksum', eth(p3)]);
  cases.push(['fragment', eth(buildIpv4({ src: GUEST, dst: GW, protocol: IP_PROTO_UDP, payload: goodUdp, moreFragments: true }))]);
  cases.push(['short udp', eth(ipPkt(IP_PROTO_UDP, goodUdp.subarray(0, 6)))]);
  const u1 = goodUdp.slice();
  u1[5] = 200; // length beyond the data
  cases.push(['udp length', eth(ipPkt(IP_PROTO_UDP, u1))]);
  const u2 = goodUdp.slice();
  u2[8] = u2[8]! ^ 1;
  cases.push(['udp checksum', eth(ipPkt(IP_PROTO_UDP, u2))]);
  cases.push(['short tcp', eth(ipPkt(IP_PROTO_TCP, goodTcp.subarray(0, 19)))]);
  const t1 = goodTcp.slice();
  t1[12] = 0xf0; // data offset 60 > length
  cases.push(['tcp data offset', eth(ipPkt(IP_PROTO_TCP, t1))]);
  const t2 = goodTcp.slice();
  t2[4] = t2[4]! ^ 1;
  cases.push(['tcp checksum', eth(ipPkt(IP_PROTO_TCP, t2))]);
  const i1 = buildIcmp(8, 0, Uint8Array.of(1, 2, 3, 4));
  i1[6] = i1[6]! ^ 1;
  cases.push(['icmp checksum', eth(ipPkt(IP_PROTO_ICMP, i1))]);
  cases.push(['short dhcp', eth(buildIpv4({ src: 0, dst: 0xffffffff, protocol: IP_PROTO_UDP, payload: buildUdp(0, 0xffffffff, 68, 67, new Uint8Array(100)) }))]);
  cases.push(['unknown ip protocol', eth(ipPkt(47, new Uint8Array(8)))]);
  for (const [name, frame] of cases) assert.doesNotThrow(() => net.send(frame), name);
  // Deterministic fuzz: random bytes and random corruptions of good frames.
  let seed = 12345;
  const rnd = (n: number): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return (seed >>> 8) % n;
  };
  const goods = [eth(ipPkt(IP_PROTO_UDP, goodUdp)), eth(ipPkt(IP_PROTO_TCP, goodTcp)), dhcpLike()];
  for (let i = 0; i < 3000; i++) {
    let f: Uint8Array;
    if (i % 2 === 0) f = Uint8Array.from({ length: rnd(200) }, () => rnd(256));
    else {
      f = goods[rnd(goods.length)]!.slice(0, 14 + rnd(120));
      for (let k = 0; k < 3; k++) if (f.length > 0) f[rnd(f.length)] = rnd(256);
    }
    net.send(f);
  }
  run();
  assert.equal(net.stats.dropped['internal-error'], undefined);
  for (const reason of ['ethernet', 'arp', 'ethertype', 'ipv4-short', 'ipv4-length', 'ipv4-checksum', 'ipv4-fragment', 'udp', 'tcp', 'icmp', 'dhcp', 'ip-protocol']) {
    assert.ok((net.stats.dropped[reason] ?? 0) > 0, `counted as ${reason}`);
  }
  assert.equal(host.dnsQueries.length, 0);
  // Whatever the fuzz produced, the guest only ever got well-formed frames (decode throws otherwise).
  assert.ok(guest.frames.length >= 0);

  function dhcpLike(): Uint8Array {
    return buildEthernet(BROADCAST_MAC, GUEST_MAC, ETHERTYPE_IPV4,
      buildIpv4({ src: 0, dst: 0xffffffff, protocol: IP_PROTO_UDP, payload: buildUdp(0, 0xffffffff, 68, 67, buildDhcp({ op: 1, xid: 1, flags: 0, yiaddr: 0, siaddr: 0, chaddr: GUEST_MAC, options: [[53, Uint8Array.of(1)]] })) }));
  }
});

test('delivery waits for receive buffers: a refused frame stays queued until rxSpaceAvailable()', () => {
  const { net, guest, run, pending } = setup();
  guest.rxCredits = 1;
  guest.sendIp(GW, IP_PROTO_ICMP, buildIcmp(8, 0, Uint8Array.of(0, 1, 0, 1)));
  guest.sendIp(GW, IP_PROTO_ICMP, buildIcmp(8, 0, Uint8Array.of(0, 1, 0, 2)));
  run();
  assert.equal(guest.frames.length, 1);
  assert.equal(net.queuedForGuest, 1);
  run();
  assert.equal(guest.frames.length, 1, 'no retry without rxSpaceAvailable');
  guest.rxCredits = 5;
  net.rxSpaceAvailable();
  assert.equal(guest.frames.length, 2, 'offered again at once, as qemu_flush_queued_packets');
  assert.equal(net.queuedForGuest, 0);
  assert.equal(pending.length, 0);
  // New frames still wait for the scheduled callback, even when there is room.
  guest.sendIp(GW, IP_PROTO_ICMP, buildIcmp(8, 0, Uint8Array.of(0, 1, 0, 3)));
  assert.equal(guest.frames.length, 2);
  run();
  assert.equal(guest.frames.length, 3);
});

test('the same inputs give the same frames (determinism)', () => {
  const trace = (): string[] => {
    const { host, guest, run } = setup([{ proto: 'tcp', hostAddr: '', hostPort: 1, guestPort: 2 }]);
    const sock = guest.connect(GW, 80, 40000);
    host.connects[0]!.peerConnect();
    run();
    sock.write('abc');
    host.connects[0]!.peerSend('def');
    guest.listening.add(2);
    host.listeners[0]!.connectFrom('10.1.1.1', 999);
    run();
    host.advance(3000);
    run();
    return guest.frames.map((r) => Array.from(r.frame, (b) => b.toString(16).padStart(2, '0')).join(''));
  };
  assert.deepEqual(trace(), trace());
});
