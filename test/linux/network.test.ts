/**
 * The Linux guest and virtio-net through the CLI: the user network (DHCP, ping the gateway,
 * hostfwd into a guest TCP listener) and two guests joined by `-netdev socket`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as net from 'node:net';
import { expectOutput, freePort, LinuxVm, powerOff, TEST_TIMEOUT_MS, withLinuxVm } from '../helpers/linux.js';



test('-netdev user: `net` leases 10.0.2.15 by DHCP and pings the gateway 10.0.2.2', { timeout: TEST_TIMEOUT_MS }, async () => {
  await withLinuxVm(['-netdev', 'user,id=n0', '-device', 'virtio-net-device,netdev=n0'], async (vm) => {
    await vm.prompt();
    await expectOutput(vm, 'ls /sys/class/net', /^eth0 {2}lo$/m);
    await expectOutput(vm, 'net',
      /^net: eth0 up, mac 52:54:00:12:34:56$/m,
      /^net: offer 10\.0\.2\.15 from 10\.0\.2\.2$/m,
      /^net: leased 10\.0\.2\.15\/24 gw 10\.0\.2\.2 dns 10\.0\.2\.3 lease \d+ s$/m,
      /^reply from 10\.0\.2\.2: icmp_seq=1 ttl=\d+ time=\d+ ms$/m,
      /^ping: 1 sent, 1 received$/m);
    await expectOutput(vm, 'ping 10.0.2.2 3', /^ping: 3 sent, 3 received$/m);
    await expectOutput(vm, 'cat /sys/class/net/eth0/operstate', /^up$/m);
    await powerOff(vm);
  });
});

/** Connects to 127.0.0.1:port, sends `data`, collects what comes back until the peer closes (or resets). */
function talk(port: number, data: string, vm: LinuxVm, timeoutMs = 60_000): Promise<{ got: string; end: string }> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1');
    let got = '';
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error(`the connection to ${port} was not closed after ${timeoutMs} ms (got ${JSON.stringify(got)})\n${vm.describe()}`));
    }, timeoutMs);
    s.on('connect', () => s.write(data));
    s.on('data', (d) => {
      got += d.toString('latin1');
    });
    s.on('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      resolve({ got, end: e.code ?? e.message });
    });
    s.on('close', () => {
      clearTimeout(timer);
      resolve({ got, end: 'close' });
    });
  });
}

test('-netdev user,hostfwd=tcp:127.0.0.1:PORT-:7777: a host connection reaches the guest\'s `listen 7777` and gets its line echoed', { timeout: TEST_TIMEOUT_MS }, async () => {
  const port = await freePort();
  const netdev = `user,id=n0,hostfwd=tcp:127.0.0.1:${port}-:7777`;
  await withLinuxVm(['-netdev', netdev, '-device', 'virtio-net-device,netdev=n0,mac=52:54:00:aa:bb:cc'], async (vm) => {
    await vm.prompt();
    await expectOutput(vm, 'net', /^net: eth0 up, mac 52:54:00:aa:bb:cc$/m, /^net: leased 10\.0\.2\.15\/24 /m);

    // Nothing listens on 7777 yet: the forwarded connection is refused, the host side is closed.
    const refused = await talk(port, 'nobody\n', vm);
    assert.equal(refused.got, '', `no data from a closed guest port (${refused.end})`);

    for (const line of ['hello through hostfwd 0123456789\n', `${'x'.repeat(400)}\n`]) {
      vm.sendLine('listen 7777'); // blocks the shell until one connection has been served
      await vm.waitFor('listening on tcp port 7777\n');
      const r = await talk(port, line, vm);
      assert.equal(r.got, line, `echo (connection ended by ${r.end})`);
      assert.equal(r.end, 'close', 'the guest closed the connection');
      const out = await vm.nextPrompt();
      assert.match(out, /^connection from 10\.0\.2\.2:\d+$/m);
      assert.match(out, new RegExp(`^echoed ${line.length} bytes$`, 'm'));
    }
    await powerOff(vm);
  });
});

// ---------- two guests over -netdev socket, with the test in the middle ----------

const ETH_IP = 0x0800;
const ETH_ARP = 0x0806;
const SERVER_MAC = Buffer.from([0x52, 0x54, 0x00, 0x00, 0x03, 0x01]);
const SERVER_IP = ip('10.0.3.1');

function ip(s: string): Buffer {
  return Buffer.from(s.split('.').map(Number));
}

function checksum(b: Buffer): number {
  let sum = 0;
  for (let i = 0; i + 1 < b.length; i += 2) sum += b.readUInt16BE(i);
  if (b.length % 2 === 1) sum += b[b.length - 1]! << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

interface DhcpRequest { readonly type: number; readonly xid: number; readonly mac: Buffer }

/** A DHCP DISCOVER/REQUEST in an Ethernet frame (UDP to port 67), or undefined. */
function parseDhcp(frame: Buffer): DhcpRequest | undefined {
  if (frame.length < 14 + 20 + 8 + 240 || frame.readUInt16BE(12) !== ETH_IP) return undefined;
  const ipHdr = frame.subarray(14);
  const ihl = (ipHdr[0]! & 15) * 4;
  if (ipHdr[9] !== 17 || ipHdr.readUInt16BE(ihl + 2) !== 67) return undefined;
  const m = ipHdr.subarray(ihl + 8);
  if (m[0] !== 1 || m.readUInt32BE(236) !== 0x63825363) return undefined;
  let type = 0;
  for (let o = 240; o < m.length && m[o] !== 255;) {
    const code = m[o++]!;
    if (code === 0) continue;
    const len = m[o++]!;
    if (code === 53) type = m[o]!;
    o += len;
  }
  return { type, xid: m.readUInt32BE(4), mac: Buffer.from(m.subarray(28, 34)) };
}

/** A DHCP OFFER (2) or ACK (5) broadcast from SERVER_IP to `req.mac`. */
function dhcpReply(req: DhcpRequest, type: number, addr: Buffer, router: Buffer): Buffer {
  const m = Buffer.alloc(300);
  m[0] = 2; // BOOTREPLY
  m[1] = 1;
  m[2] = 6;
  m.writeUInt32BE(req.xid, 4);
  m[10] = 0x80;
  addr.copy(m, 16); // yiaddr
  SERVER_IP.copy(m, 20); // siaddr
  req.mac.copy(m, 28);
  m.writeUInt32BE(0x63825363, 236);
  const opts = [53, 1, type, 54, 4, ...SERVER_IP, 51, 4, 0, 0, 0x0e, 0x10, 1, 4, 255, 255, 255, 0, 3, 4, ...router, 255];
  Buffer.from(opts).copy(m, 240);
  const udp = Buffer.alloc(8);
  udp.writeUInt16BE(67, 0);
  udp.writeUInt16BE(68, 2);
  udp.writeUInt16BE(8 + m.length, 4); // checksum 0: none
  const iph = Buffer.alloc(20);
  iph[0] = 0x45;
  iph.writeUInt16BE(20 + 8 + m.length, 2);
  iph[8] = 64;
  iph[9] = 17;
  SERVER_IP.copy(iph, 12);
  ip('255.255.255.255').copy(iph, 16);
  iph.writeUInt16BE(checksum(iph), 10);
  const eth = Buffer.alloc(14);
  req.mac.copy(eth, 0);
  SERVER_MAC.copy(eth, 6);
  eth.writeUInt16BE(ETH_IP, 12);
  return Buffer.concat([eth, iph, udp, m]);
}

/** What the middle saw: one entry per forwarded frame. */
interface SeenFrame { readonly from: number; readonly kind: string }

function describeFrame(f: Buffer): string {
  const type = f.readUInt16BE(12);
  if (type === ETH_ARP) return f.readUInt16BE(20) === 1 ? 'arp-request' : 'arp-reply';
  if (type === ETH_IP && f[14 + 9] === 1) {
    const icmpType = f[14 + (f[14]! & 15) * 4];
    return icmpType === 8 ? 'icmp-echo' : icmpType === 0 ? 'icmp-reply' : `icmp-${String(icmpType)}`;
  }
  return `ethertype-${type.toString(16)}`;
}

/**
 * Sits between two `-netdev socket` peers, speaking QEMU's stream framing (4-byte big-endian
 * length, then the frame) on both: forwards every frame to the other side, except DHCP requests,
 * which it answers itself, giving each side an address and the other side's address as router.
 */
class FrameRelay {
  readonly seen: SeenFrame[] = [];
  readonly sockets: Array<net.Socket | null> = [null, null];
  dhcpAnswered = 0;

  constructor(private readonly addrs: readonly [Buffer, Buffer]) {}

  attach(side: number, s: net.Socket): void {
    this.sockets[side] = s;
    let pending = Buffer.alloc(0);
    s.on('data', (d: Buffer) => {
      pending = Buffer.concat([pending, d]);
      while (pending.length >= 4 && pending.length >= 4 + pending.readUInt32BE(0)) {
        const len = pending.readUInt32BE(0);
        this.onFrame(side, Buffer.from(pending.subarray(4, 4 + len)));
        pending = pending.subarray(4 + len);
      }
    });
    s.on('error', () => {});
  }

  private send(side: number, frame: Buffer): void {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(frame.length, 0);
    this.sockets[side]?.write(Buffer.concat([len, frame]));
  }

  private onFrame(from: number, frame: Buffer): void {
    if (frame.length < 14) return;
    const dhcp = parseDhcp(frame);
    if (dhcp !== undefined) {
      const reply = dhcp.type === 1 ? 2 : dhcp.type === 3 ? 5 : 0;
      if (reply !== 0) {
        this.dhcpAnswered++;
        this.send(from, dhcpReply(dhcp, reply, this.addrs[from]!, this.addrs[1 - from]!));
      }
      return;
    }
    this.seen.push({ from, kind: describeFrame(frame) });
    this.send(1 - from, frame);
  }

  count(from: number, kind: string): number {
    return this.seen.filter((f) => f.from === from && f.kind === kind).length;
  }

  close(): void {
    for (const s of this.sockets) s?.destroy();
  }
}

/** Connects to 127.0.0.1:port, retrying while the VM has not opened its listening socket yet. */
async function connectWithRetry(port: number, vm: LinuxVm, timeoutMs = 60_000): Promise<net.Socket> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await new Promise<net.Socket>((resolve, reject) => {
        const s = net.connect(port, '127.0.0.1');
        s.once('connect', () => resolve(s));
        s.once('error', reject);
      });
    } catch (e) {
      if (vm.exited !== null || Date.now() > deadline) throw new Error(`cannot connect to the listen side: ${String(e)}\n${vm.describe()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

test('-netdev socket listen= and connect=: two guests ping each other through a relay that answers their DHCP', { timeout: TEST_TIMEOUT_MS }, async () => {
  // guest A: -netdev socket,listen=127.0.0.1:PA  <-  relay  ->  listening on PB  <-  guest B: connect=127.0.0.1:PB
  const addrA = '10.0.3.15';
  const addrB = '10.0.3.16';
  const relay = new FrameRelay([ip(addrA), ip(addrB)]);
  const server = net.createServer((s) => relay.attach(1, s));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const portB = (server.address() as net.AddressInfo).port;
  const portA = await freePort();
  const a = new LinuxVm(['-netdev', `socket,id=n0,listen=127.0.0.1:${portA}`, '-device', 'virtio-net-device,netdev=n0,mac=52:54:00:00:00:0a'], { name: 'A (listen)' });
  let b: LinuxVm | undefined;
  try {
    relay.attach(0, await connectWithRetry(portA, a));
    b = new LinuxVm(['-netdev', `socket,id=n0,connect=127.0.0.1:${portB}`, '-device', 'virtio-net-device,netdev=n0,mac=52:54:00:00:00:0b'], { name: 'B (connect)' });
    await Promise.all([a.prompt(), b.prompt()]);
    assert.notEqual(relay.sockets[1], null, 'B connected to the relay');

    // B first: it gets its address, but A has none yet, so B's ping of its "router" A fails.
    await expectOutput(b, 'net', /^net: eth0 up, mac 52:54:00:00:00:0b$/m, /^net: offer 10\.0\.3\.16 from 10\.0\.3\.1$/m,
      /^net: leased 10\.0\.3\.16\/24 gw 10\.0\.3\.15 /m, /^ping: 1 sent, 0 received$/m);
    // Then A: its router is B, which answers.
    await expectOutput(a, 'net', /^net: eth0 up, mac 52:54:00:00:00:0a$/m, /^net: leased 10\.0\.3\.15\/24 gw 10\.0\.3\.16 /m,
      /^reply from 10\.0\.3\.16: icmp_seq=1 /m, /^ping: 1 sent, 1 received$/m);
    await expectOutput(b, `ping ${addrA} 2`, /^reply from 10\.0\.3\.15: icmp_seq=1 /m, /^ping: 2 sent, 2 received$/m);
    await expectOutput(a, 'cat /proc/net/arp', /^10\.0\.3\.16 .* 52:54:00:00:00:0b /m);

    assert.ok(relay.dhcpAnswered >= 4, `DHCP answered ${relay.dhcpAnswered}`);
    for (const [from, to] of [[0, 1], [1, 0]] as const) {
      assert.ok(relay.count(from, 'arp-request') + relay.count(from, 'arp-reply') > 0, `ARP from side ${from}`);
      assert.ok(relay.count(from, 'icmp-echo') >= 1, `echo requests from side ${from}`);
      assert.ok(relay.count(to, 'icmp-reply') >= 1, `echo replies from side ${to}`);
    }

    await powerOff(b);
    await powerOff(a);
  } finally {
    relay.close();
    server.close();
    await Promise.all([a.kill(), b?.kill()]);
  }
});
