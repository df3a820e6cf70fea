import { test } from 'node:test';
import assert from 'node:assert/strict';
import { concatBytes } from './bytes.js';
import { FakeHostSockets } from '../../test/support/net/fake-host-sockets.js';
import { encodeStreamFrame } from './stream-framing.js';
import { StreamNetBackend, type StreamNetdevMode } from './stream-netdev.js';

function setup(mode: StreamNetdevMode) {
  const host = new FakeHostSockets();
  const pending: Array<() => void> = [];
  const logs: string[] = [];
  const backend = new StreamNetBackend({ host, schedule: (fn) => pending.push(fn), mode, label: '-netdev socket,listen=:1234', log: (m) => logs.push(m) });
  const received: Uint8Array[] = [];
  let room = Infinity;
  backend.setReceiver((f) => {
    if (room <= 0) return false;
    room--;
    received.push(f);
    return true;
  });
  const run = (): void => {
    while (pending.length > 0) pending.shift()!();
  };
  return { host, backend, received, run, logs, setRoom: (n: number) => (room = n), pending };
}

const frame = (n: number, tag: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (i + tag) & 0xff);

test('listen: frames before a peer are dropped; a peer exchanges framed frames both ways', () => {
  const { host, backend, received, run } = setup({ kind: 'listen', addr: '', port: 1234 });
  let ready: unknown = 'pending';
  backend.whenReady((e) => (ready = e));
  const l = host.listeners[0]!;
  assert.equal(l.addr, '0.0.0.0');
  l.handlers.onListening!(1234);
  assert.equal(ready, null);
  backend.send(frame(60, 0));
  assert.equal(backend.droppedNoPeer, 1);
  const peer = l.connectFrom('127.0.0.1', 50000);
  assert.equal(backend.connected, true);
  backend.send(frame(60, 1));
  assert.deepEqual(peer.written, [encodeStreamFrame(frame(60, 1))]);
  const stream = concatBytes([encodeStreamFrame(frame(42, 2)), encodeStreamFrame(frame(1514, 3)), encodeStreamFrame(frame(0, 0))]);
  peer.peerSend(stream.subarray(0, 30));
  peer.peerSend(stream.subarray(30));
  assert.equal(received.length, 0, 'delivered later, from the scheduled callback');
  run();
  assert.deepEqual(received, [frame(42, 2), frame(1514, 3)], 'zero-length frames are skipped');

  // A second peer is refused while the first is connected; after it leaves, the next is taken.
  const second = l.connectFrom('127.0.0.1', 50001);
  assert.equal(second.destroyed, true);
  peer.peerEnd();
  assert.equal(peer.ended, true);
  assert.equal(backend.connected, false);
  peer.peerClose(null);
  const third = l.connectFrom('127.0.0.1', 50002);
  assert.equal(third.destroyed, false);
  third.peerSend(encodeStreamFrame(frame(10, 4)));
  run();
  assert.deepEqual(received.at(-1), frame(10, 4));
  backend.close();
  assert.equal(l.closed, true);
  assert.equal(third.destroyed, true);
});

test('listen: an absurd frame length disconnects the peer', () => {
  const { host, backend, logs } = setup({ kind: 'listen', addr: '127.0.0.1', port: 1234 });
  const l = host.listeners[0]!;
  l.handlers.onListening!(1234);
  const peer = l.connectFrom('127.0.0.1', 50000);
  peer.peerSend(Uint8Array.of(0x7f, 0, 0, 0, 1, 2, 3));
  assert.equal(peer.destroyed, true);
  assert.equal(backend.connected, false);
  assert.match(logs[0]!, /^-netdev socket,listen=:1234: frame length 2130706432 exceeds 69632; disconnecting the peer$/);
});

test('listen: a port in use is a NetdevError', () => {
  const { host, backend } = setup({ kind: 'listen', addr: '', port: 1234 });
  let error: Error | null = null;
  backend.whenReady((e) => (error = e));
  host.listeners[0]!.handlers.onError!({ code: 'EADDRINUSE', message: 'address already in use' });
  assert.equal(error!.name, 'NetdevError');
  assert.equal(error!.message, '-netdev socket,listen=:1234: port 1234 already in use');
});

test('connect: refused is an error; connected exchanges frames; the peer going away drops frames', () => {
  const a = setup({ kind: 'connect', addr: '127.0.0.1', port: 9 });
  let error: Error | null = null;
  a.backend.whenReady((e) => (error = e));
  a.host.connects[0]!.peerClose({ code: 'ECONNREFUSED', message: 'connection refused' });
  assert.match(error!.message, /cannot connect to 127\.0\.0\.1:9: connection refused$/);

  const b = setup({ kind: 'connect', addr: '127.0.0.1', port: 9 });
  const c = b.host.connects[0]!;
  b.backend.send(frame(20, 0));
  assert.equal(b.backend.droppedNoPeer, 1, 'not yet connected');
  c.peerConnect();
  let ok: unknown = 'pending';
  b.backend.whenReady((e) => (ok = e));
  assert.equal(ok, null);
  b.backend.send(frame(20, 1));
  assert.deepEqual(c.written, [encodeStreamFrame(frame(20, 1))]);
  c.peerSend(encodeStreamFrame(frame(30, 2)));
  b.run();
  assert.deepEqual(b.received, [frame(30, 2)]);
  c.peerClose(null);
  b.backend.send(frame(20, 3));
  assert.equal(b.backend.droppedNoPeer, 2);
});

test('flow control: a full guest pauses the peer; rxSpaceAvailable resumes it', () => {
  const { host, backend, received, run, setRoom } = setup({ kind: 'listen', addr: '', port: 1 });
  host.listeners[0]!.handlers.onListening!(1);
  const peer = host.listeners[0]!.connectFrom('127.0.0.1', 2);
  setRoom(0);
  peer.peerSend(concatBytes(Array.from({ length: 300 }, (_, i) => encodeStreamFrame(frame(64, i)))));
  run();
  assert.equal(received.length, 0);
  assert.equal(peer.paused, true);
  setRoom(Infinity);
  backend.rxSpaceAvailable();
  run();
  assert.equal(received.length, 300);
  assert.equal(peer.paused, false);
});
