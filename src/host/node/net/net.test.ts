// Integration tests over real loopback sockets (no Internet needed).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as dgram from 'node:dgram';
import * as net from 'node:net';
import { encodeStreamFrame, StreamDeframer } from '../../../net/stream-framing.js';
import { FakeGuest, ip, str, text } from '../../../../test/support/net/guest.js';
import { createSocketNetdev } from './socket-netdev.js';
import { createUserNetdev, NetdevError } from './user-netdev.js';

const GW = ip('10.0.2.2');
const DNS = ip('10.0.2.3');

async function waitFor(what: string, cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

function listenTcp(onConn: (s: net.Socket) => void): Promise<net.Server> {
  return new Promise((resolve) => {
    const server = net.createServer({ allowHalfOpen: true }, onConn);
    server.listen(0, '127.0.0.1', () => resolve(server));
  });
}

const portOf = (s: net.Server): number => (s.address() as net.AddressInfo).port;

test('hostfwd tcp on 127.0.0.1: a host client talks to a guest server', async () => {
  const netdev = await createUserNetdev({ hostfwd: [{ proto: 'tcp', hostAddr: '127.0.0.1', hostPort: 0, guestPort: 22 }] });
  try {
    const guest = new FakeGuest(netdev);
    guest.listening.add(22);
    const port = netdev.hostfwdPorts[0]!;
    assert.ok(port > 0);
    const client = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });
    let fromGuest = '';
    let clientEnded = false;
    client.on('data', (b) => (fromGuest += b.toString()));
    client.on('end', () => (clientEnded = true));
    await waitFor('the guest to accept', () => guest.sockets[0]?.state === 'established');
    const sock = guest.sockets[0]!;
    assert.equal(sock.remoteIp, GW, 'loopback clients appear as 10.0.2.2');
    client.write('hello guest');
    await waitFor('data at the guest', () => sock.received === 'hello guest');
    sock.write('hello client');
    await waitFor('data at the client', () => fromGuest === 'hello client');
    client.end();
    await waitFor('FIN at the guest', () => sock.peerFin);
    sock.close();
    await waitFor('end at the client', () => clientEnded);
    await waitFor('the connection to go', () => netdev.tcpConnectionCount <= 1); // TIME_WAIT at most
    client.destroy();
  } finally {
    netdev.close();
  }
});

test('guest TCP to 10.0.2.2 reaches a host server on 127.0.0.1', async () => {
  let serverGot = '';
  let serverSaw: net.Socket | null = null;
  const server = await listenTcp((s) => {
    serverSaw = s;
    s.on('data', (b) => (serverGot += b.toString()));
    s.on('end', () => s.end('bye'));
    s.write('banner\n');
  });
  const netdev = await createUserNetdev();
  try {
    const guest = new FakeGuest(netdev);
    const sock = guest.connect(GW, portOf(server), 41000);
    await waitFor('banner', () => sock.received === 'banner\n');
    assert.ok(serverSaw);
    sock.write(new Uint8Array(100_000).fill(0x61));
    await waitFor('bulk data at the server', () => serverGot.length === 100_000);
    sock.close();
    await waitFor('the server to answer and close', () => sock.peerFin && sock.received === 'banner\nbye');
    await waitFor('the connection to be forgotten', () => netdev.tcpConnectionCount === 0);
  } finally {
    netdev.close();
    server.close();
  }
});

test('guest TCP to a closed host port is reset', async () => {
  const server = await listenTcp(() => {});
  const port = portOf(server);
  await new Promise<void>((r) => server.close(() => r()));
  const netdev = await createUserNetdev();
  try {
    const guest = new FakeGuest(netdev);
    const sock = guest.connect(GW, port, 41001);
    await waitFor('RST', () => sock.reset);
  } finally {
    netdev.close();
  }
});

test('UDP NAT to a host echo server, and DNS forwarding with fallback to the next server', async () => {
  const echo = dgram.createSocket('udp4');
  echo.on('message', (m, r) => echo.send(m, r.port, r.address));
  await new Promise<void>((r) => echo.bind(0, '127.0.0.1', () => r()));
  const dns = dgram.createSocket('udp4');
  dns.on('message', (m, r) => {
    const answer = Buffer.from(m);
    answer[2] = 0x81; // QR: a response
    dns.send(answer, r.port, r.address);
  });
  await new Promise<void>((r) => dns.bind(0, '127.0.0.1', () => r()));
  const silent = dgram.createSocket('udp4');
  await new Promise<void>((r) => silent.bind(0, '127.0.0.1', () => r()));
  const netdev = await createUserNetdev({
    hostOptions: { dnsServers: [{ addr: '127.0.0.1', port: silent.address().port }, { addr: '127.0.0.1', port: dns.address().port }], dnsTimeoutMs: 50 },
  });
  try {
    const guest = new FakeGuest(netdev);
    guest.sendUdp(5000, GW, echo.address().port, text('echo me'));
    await waitFor('the echo', () => guest.frames.some((f) => f.udp));
    const r = guest.take().find((f) => f.udp)!;
    assert.deepEqual([r.src, r.udp!.srcPort, r.udp!.dstPort, str(r.udp!.payload)], [GW, echo.address().port, 5000, 'echo me']);
    const query = Uint8Array.of(0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1);
    const seen = guest.frames.length;
    guest.sendUdp(5353, DNS, 53, query);
    await waitFor('the DNS answer', () => guest.frames.slice(seen).some((f) => f.udp));
    const a = guest.take().find((f) => f.udp)!;
    assert.equal(a.src, DNS);
    assert.equal(a.udp!.srcPort, 53);
    assert.equal(a.udp!.payload[2], 0x81);
  } finally {
    netdev.close();
    echo.close();
    dns.close();
    silent.close();
  }
});

test('hostfwd udp: a host client and a guest exchange datagrams', async () => {
  const netdev = await createUserNetdev({ hostfwd: [{ proto: 'udp', hostAddr: '127.0.0.1', hostPort: 0, guestPort: 7777 }] });
  const client = dgram.createSocket('udp4');
  try {
    const guest = new FakeGuest(netdev);
    const replies: string[] = [];
    client.on('message', (m) => replies.push(m.toString()));
    client.send('ping', netdev.hostfwdPorts[0]!, '127.0.0.1');
    await waitFor('the datagram at the guest', () => guest.frames.some((f) => f.udp));
    const d = guest.frames.find((f) => f.udp)!;
    assert.equal(str(d.udp!.payload), 'ping');
    assert.equal(d.udp!.dstPort, 7777);
    guest.sendUdp(7777, d.src!, d.udp!.srcPort, text('pong'));
    await waitFor('the reply at the client', () => replies.length === 1);
    assert.equal(replies[0], 'pong');
  } finally {
    client.close();
    netdev.close();
  }
});

test('hostfwd on a port in use: NetdevError with a one-line message', async () => {
  const busy = await listenTcp(() => {});
  const port = portOf(busy);
  try {
    await assert.rejects(
      createUserNetdev({ hostfwd: [{ proto: 'tcp', hostAddr: '127.0.0.1', hostPort: port, guestPort: 22 }] }),
      (e: unknown) => e instanceof NetdevError && e.message === `-netdev user: hostfwd tcp:127.0.0.1:${port}: port ${port} already in use`,
    );
    const udpBusy = dgram.createSocket('udp4');
    await new Promise<void>((r) => udpBusy.bind(0, '127.0.0.1', () => r()));
    const uport = udpBusy.address().port;
    await assert.rejects(
      createUserNetdev({ hostfwd: [{ proto: 'udp', hostAddr: '127.0.0.1', hostPort: uport, guestPort: 53 }] }),
      { name: 'NetdevError', message: `-netdev user: hostfwd udp:127.0.0.1:${uport}: port ${uport} already in use` },
    );
    udpBusy.close();
    await assert.rejects(createSocketNetdev({ kind: 'listen', addr: '127.0.0.1', port }, { id: 'n1' }), {
      name: 'NetdevError', message: `-netdev socket,id=n1,listen=127.0.0.1:${port}: port ${port} already in use`,
    });
  } finally {
    busy.close();
  }
});

test('-netdev socket listen/connect pair exchanges frames; connect to nothing fails', async () => {
  const a = await createSocketNetdev({ kind: 'listen', addr: '127.0.0.1', port: 0 });
  const gotA: Uint8Array[] = [];
  const gotB: Uint8Array[] = [];
  a.setReceiver((f) => (gotA.push(f), true));
  a.send(Uint8Array.of(1, 2, 3)); // no peer yet: dropped
  assert.equal(a.droppedNoPeer, 1);
  const b = await createSocketNetdev({ kind: 'connect', addr: '127.0.0.1', port: a.boundPort });
  b.setReceiver((f) => (gotB.push(f), true));
  try {
    assert.equal(b.connected, true);
    await waitFor('the listen side to accept', () => a.connected);
    const big = Uint8Array.from({ length: 9000 }, (_, i) => i & 0xff);
    for (let i = 0; i < 50; i++) b.send(Uint8Array.of(i, ...big.subarray(0, 59)));
    b.send(big);
    a.send(Uint8Array.of(0xaa, 0xbb));
    await waitFor('frames at both ends', () => gotA.length === 51 && gotB.length === 1);
    assert.deepEqual(gotA[7]!.subarray(0, 3), Uint8Array.of(7, 0, 1));
    assert.deepEqual(gotA[50], big);
    assert.deepEqual(gotB[0], Uint8Array.of(0xaa, 0xbb));
  } finally {
    a.close();
    b.close();
  }
  const closed = await listenTcp(() => {});
  const port = portOf(closed);
  await new Promise<void>((r) => closed.close(() => r()));
  await assert.rejects(createSocketNetdev({ kind: 'connect', addr: '127.0.0.1', port }), {
    name: 'NetdevError', message: `-netdev socket,connect=127.0.0.1:${port}: cannot connect to 127.0.0.1:${port}: connection refused`,
  });
});

test('-netdev socket listen side speaks QEMU framing to a raw TCP peer, split arbitrarily', async () => {
  const a = await createSocketNetdev({ kind: 'listen', addr: '127.0.0.1', port: 0 });
  const got: Uint8Array[] = [];
  a.setReceiver((f) => (got.push(f), true));
  const peer = net.connect(a.boundPort, '127.0.0.1');
  const back: Uint8Array[] = [];
  const deframer = new StreamDeframer((f) => back.push(f));
  peer.on('data', (d) => deframer.push(d));
  try {
    await waitFor('accept', () => a.connected);
    const stream = Buffer.concat([encodeStreamFrame(text('first frame')), encodeStreamFrame(text('second'))]);
    peer.write(stream.subarray(0, 3));
    await new Promise((r) => setTimeout(r, 20));
    peer.write(stream.subarray(3, 20));
    await new Promise((r) => setTimeout(r, 20));
    peer.write(stream.subarray(20));
    await waitFor('two frames', () => got.length === 2);
    assert.deepEqual(got.map(str), ['first frame', 'second']);
    a.send(text('reply'));
    await waitFor('the reply', () => back.length === 1);
    assert.equal(str(back[0]!), 'reply');
  } finally {
    peer.destroy();
    a.close();
  }
});
