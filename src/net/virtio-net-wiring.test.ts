// The user network behind the real virtio-net device model: a ping through the rings.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeDevice } from '../../test/support/virtio/driver.js';
import { internetChecksum } from './bytes.js';
import { buildEthernet, ETHERTYPE_IPV4, parseEthernet } from './ethernet.js';
import { FakeHostSockets } from '../../test/support/net/fake-host-sockets.js';
import { buildIcmp } from './icmp.js';
import { buildIpv4, IP_PROTO_ICMP } from './ipv4.js';
import { GUEST_MAC, HOST_MAC, ip } from '../../test/support/net/guest.js';
import { UserNetwork } from './user-network.js';

test('virtio-net + user network: an echo request on the tx ring comes back on the rx ring', () => {
  const pending: Array<() => void> = [];
  const net = new UserNetwork({ host: new FakeHostSockets(), schedule: (fn) => pending.push(fn) });
  const { dev, drv } = makeDevice({ kind: 'net' }, net);
  assert.equal(drv.negotiate(), true);
  const rx = drv.setupQueue(0, 16);
  const tx = drv.setupQueue(1, 16);
  drv.driverOk();
  dev.processDoorbell();

  const icmp = buildIcmp(8, 0, Uint8Array.of(0, 7, 0, 1, 0xde, 0xad));
  const frame = buildEthernet(HOST_MAC, GUEST_MAC, ETHERTYPE_IPV4, buildIpv4({ src: ip('10.0.2.15'), dst: ip('10.0.2.2'), protocol: IP_PROTO_ICMP, payload: icmp }));
  const packet = new Uint8Array(12 + frame.length);
  packet.set(frame, 12);
  tx.add([{ data: packet }]);
  tx.kick();
  dev.processDoorbell();
  assert.equal(pending.length, 1, 'the reply waits for the main loop');
  pending.shift()!(); // no rx buffers yet: the device refuses, the frame stays queued
  assert.equal(net.queuedForGuest, 1);

  const buf = rx.add([{ len: 1526, write: true }]);
  rx.kick();
  dev.processDoorbell(); // the device calls rxSpaceAvailable()
  const [used] = rx.takeUsed();
  assert.equal(used!.id, buf);
  const got = rx.result(buf).subarray(12, used!.len);
  const eth = parseEthernet(got)!;
  assert.deepEqual(eth.dst, GUEST_MAC);
  assert.equal(internetChecksum(eth.payload, 0, 20), 0);
  assert.equal(eth.payload[20], 0, 'echo reply');
  assert.equal(net.queuedForGuest, 0);
});
