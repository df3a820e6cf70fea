import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildArp, parseArp, ARP_REQUEST } from './arp.js';
import { internetChecksum, ipv4ToString, parseIpv4Address, parseMac, macToString, seqLt, seqDiff } from './bytes.js';
import { buildDhcp, parseDhcp } from './dhcp.js';
import { buildEthernet, parseEthernet, ETHERTYPE_IPV4 } from './ethernet.js';
import { buildIcmp, parseIcmp } from './icmp.js';
import { buildIpv4, parseIpv4, IP_PROTO_UDP } from './ipv4.js';
import { buildTcp, parseTcp, TCP_ACK, TCP_SYN } from './tcp-segment.js';
import { buildUdp, parseUdp } from './udp.js';

const ip = (s: string): number => parseIpv4Address(s)!;

test('the Internet checksum matches RFC 1071 examples and verifies to 0', () => {
  // RFC 1071 section 3 example bytes: sum 0xddf2, checksum ~0xddf2.
  const b = Uint8Array.of(0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7);
  assert.equal(internetChecksum(b), ~0xddf2 & 0xffff);
  // A well-known IPv4 header (Wikipedia's example) with checksum 0xb861.
  const h = Uint8Array.of(0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0xb8, 0x61, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7);
  assert.equal(internetChecksum(h), 0);
  const copy = h.slice();
  copy[10] = 0;
  copy[11] = 0;
  assert.equal(internetChecksum(copy), 0xb861);
});

test('address helpers', () => {
  assert.equal(ipv4ToString(ip('10.0.2.15')), '10.0.2.15');
  assert.equal(parseIpv4Address('256.0.0.1'), null);
  assert.equal(parseIpv4Address('::1'), null);
  assert.equal(macToString(parseMac('52:55:0A:00:02:02')!), '52:55:0a:00:02:02');
  assert.ok(seqLt(0xfffffff0, 0x10));
  assert.equal(seqDiff(0x10, 0xfffffff0), 0x20);
});

test('IPv4 round trip and rejections', () => {
  const p = buildIpv4({ src: ip('10.0.2.15'), dst: ip('10.0.2.2'), protocol: IP_PROTO_UDP, payload: Uint8Array.of(1, 2, 3), id: 7 });
  const d = parseIpv4(p);
  assert.ok(typeof d !== 'string');
  assert.equal(d.src, ip('10.0.2.15'));
  assert.deepEqual([...d.payload], [1, 2, 3]);
  // Ethernet padding after the packet is ignored.
  const padded = new Uint8Array(p.length + 10);
  padded.set(p);
  const d2 = parseIpv4(padded);
  assert.ok(typeof d2 !== 'string' && d2.payload.length === 3);
  assert.equal(parseIpv4(p.subarray(0, 19)), 'short');
  const bad = p.slice();
  bad[8] = 1; // TTL changed, checksum not
  assert.equal(parseIpv4(bad), 'checksum');
  const frag = buildIpv4({ src: 1, dst: 2, protocol: 17, payload: new Uint8Array(8), moreFragments: true });
  assert.equal(parseIpv4(frag), 'fragment');
  const later = buildIpv4({ src: 1, dst: 2, protocol: 17, payload: new Uint8Array(8), fragmentOffset: 1480 });
  assert.equal(parseIpv4(later), 'fragment');
  const v6 = p.slice();
  v6[0] = 0x65;
  assert.equal(parseIpv4(v6), 'version');
});

test('UDP and TCP checksums include the pseudo header', () => {
  const src = ip('10.0.2.15');
  const dst = ip('10.0.2.2');
  const u = buildUdp(src, dst, 1234, 53, Uint8Array.of(9, 8, 7));
  assert.deepEqual(parseUdp(src, dst, u)?.payload, Uint8Array.of(9, 8, 7));
  assert.equal(parseUdp(src, ip('10.0.2.3'), u), null, 'another destination invalidates the checksum');
  const noSum = u.slice();
  noSum[6] = 0;
  noSum[7] = 0;
  assert.ok(parseUdp(src, ip('10.0.2.3'), noSum), 'checksum 0 means none');
  const t = buildTcp(src, dst, { srcPort: 1, dstPort: 2, seq: 0xfffffffe, ack: 5, flags: TCP_SYN | TCP_ACK, window: 1000, mss: 1400, payload: new Uint8Array(0) });
  const s = parseTcp(src, dst, t)!;
  assert.equal(s.seq, 0xfffffffe);
  assert.equal(s.mss, 1400);
  assert.equal(s.flags, TCP_SYN | TCP_ACK);
  assert.equal(parseTcp(src, ip('10.0.2.3'), t), null);
});

test('ARP, Ethernet and ICMP codecs', () => {
  const mac = Uint8Array.of(1, 2, 3, 4, 5, 6);
  const a = parseArp(buildArp({ op: ARP_REQUEST, senderMac: mac, senderIp: 5, targetMac: new Uint8Array(6), targetIp: 6 }))!;
  assert.equal(a.senderIp, 5);
  assert.deepEqual(a.senderMac, mac);
  assert.equal(parseArp(new Uint8Array(27)), null);
  const f = parseEthernet(buildEthernet(mac, mac, ETHERTYPE_IPV4, Uint8Array.of(1)))!;
  assert.equal(f.type, ETHERTYPE_IPV4);
  assert.equal(parseEthernet(new Uint8Array(13)), null);
  const icmp = buildIcmp(8, 0, Uint8Array.of(0, 1, 0, 2, 0xaa));
  assert.equal(internetChecksum(icmp), 0);
  assert.equal(parseIcmp(icmp)?.type, 8);
  icmp[5] = (icmp[5] ?? 0) ^ 1;
  assert.equal(parseIcmp(icmp), null);
});

test('DHCP codec round trip, truncated options rejected', () => {
  const m = buildDhcp({ op: 1, xid: 0x1234, flags: 0x8000, yiaddr: 0, siaddr: 0, chaddr: Uint8Array.of(1, 2, 3, 4, 5, 6), options: [[53, Uint8Array.of(1)], [50, Uint8Array.of(10, 0, 2, 20)]] });
  assert.equal(m.length, 548);
  const d = parseDhcp(m)!;
  assert.equal(d.xid, 0x1234);
  assert.equal(d.msgType, 1);
  assert.deepEqual([...d.options.get(50)!], [10, 0, 2, 20]);
  const cut = m.slice(0, 244);
  cut[240] = 53;
  cut[241] = 9; // claims 9 bytes, has 2
  assert.equal(parseDhcp(cut), null);
  assert.equal(parseDhcp(m.subarray(0, 200)), null);
});
