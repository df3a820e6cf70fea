import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ConsoleHandlers } from './console.js';
import { openSocketConsole, SocketConsoleError, type SocketConsole, type SocketConsoleAddress } from './socket-console.js';

const tmp = mkdtempSync(join(tmpdir(), 'replayvm-socket-console-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const LOCAL: SocketConsoleAddress = { kind: 'tcp', host: '127.0.0.1', port: 0 };
const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A test client: what it received, and whether the server closed it. */
interface Client {
  readonly socket: net.Socket;
  received(): string;
  readonly closed: Promise<void>;
  /** Waits until the received text contains `what`. */
  waitFor(what: string, ms?: number): Promise<void>;
}

function connect(address: SocketConsoleAddress): Promise<Client> {
  return new Promise((resolve, reject) => {
    const socket = address.kind === 'unix' ? net.connect(address.path) : net.connect(address.port, address.host);
    let got = '';
    const waiters: Array<() => void> = [];
    socket.on('data', (d: Buffer) => {
      got += d.toString('latin1');
      for (const w of waiters.splice(0)) w();
    });
    socket.on('error', () => {});
    const closed = new Promise<void>((r) => socket.on('close', () => r()));
    socket.once('connect', () => resolve({
      socket,
      received: () => got,
      closed,
      async waitFor(what: string, ms = 5000): Promise<void> {
        const deadline = Date.now() + ms;
        while (!got.includes(what)) {
          if (Date.now() > deadline) throw new Error(`timeout waiting for ${JSON.stringify(what)}; got ${JSON.stringify(got)}`);
          await new Promise<void>((r) => {
            waiters.push(r);
            setTimeout(r, 50);
          });
        }
      },
    }));
    socket.once('error', reject);
  });
}

function recorder(): { handlers: ConsoleHandlers; input: string[] } {
  const input: string[] = [];
  return {
    input,
    handlers: {
      input: (b) => input.push(Buffer.from(b).toString('latin1')),
      quit: () => assert.fail('a socket console has no quit keys'),
      interrupt: () => assert.fail('a socket console has no Ctrl-C'),
    },
  };
}

/** Waits until `cond` holds (polling), or fails after `ms`. */
async function until(cond: () => boolean, what: string, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) assert.fail(`timeout: ${what}`);
    await sleep(10);
  }
}

async function withConsole(fn: (c: SocketConsole) => Promise<void>, address: SocketConsoleAddress = LOCAL, options = {}): Promise<void> {
  const c = await openSocketConsole(address, options);
  try {
    await fn(c);
  } finally {
    c.close();
    await c.flush();
  }
}

test('output goes to the connected client, is dropped while none is, and input reaches the handlers only once started', async () => {
  await withConsole(async (c) => {
    assert.equal(c.address.kind, 'tcp');
    assert.ok(c.address.kind === 'tcp' && c.address.port > 0, 'the real port is known');
    assert.equal(c.label, `disconnected:tcp:127.0.0.1:${c.address.kind === 'tcp' ? c.address.port : 0},server=on`);
    assert.equal(c.quitKeys, undefined, 'no escape keys on a socket');
    c.backend.write(bytes('lost '));
    const a = await connect(c.address);
    await until(() => c.connected, 'the console sees the client');
    a.socket.write('early');
    const r = recorder();
    await sleep(50);
    assert.deepEqual(r.input, []);
    c.start(r.handlers);
    await until(() => r.input.join('') === 'early', 'input typed before start arrives after it');
    c.backend.write(bytes('hello'));
    await a.waitFor('hello');
    assert.equal(a.received(), 'hello', 'output from before the client connected is dropped');
    a.socket.write('\x01x\x03');
    await until(() => r.input.join('') === 'early\x01x\x03', 'bytes arrive unchanged (no escape keys)');
  });
});

test('one client at a time: a second client waits until the first leaves, then it is the console; output meanwhile is dropped', async () => {
  await withConsole(async (c) => {
    const r = recorder();
    c.start(r.handlers);
    const a = await connect(c.address);
    await until(() => c.connected, 'first client');
    const b = await connect(c.address);
    b.socket.write('from b');
    c.backend.write(bytes('to a'));
    await a.waitFor('to a');
    await sleep(50);
    assert.equal(b.received(), '', 'the waiting client gets nothing');
    assert.deepEqual(r.input, [], 'nor is its input taken');
    a.socket.destroy();
    await until(() => r.input.join('') === 'from b', 'the second client is served once the first is gone');
    c.backend.write(bytes('to b'));
    await b.waitFor('to b');
    b.socket.end();
    await until(() => !c.connected, 'no client');
    c.backend.write(bytes('dropped'));
    const d = await connect(c.address);
    await until(() => c.connected, 'a new client');
    c.backend.write(bytes('to d'));
    await d.waitFor('to d');
    assert.equal(d.received(), 'to d');
    assert.equal(a.received(), 'to a');
  });
});

test('a client that resets the connection, or stops reading, neither throws nor blocks; output beyond the cap is dropped with one warning', async () => {
  const warnings: string[] = [];
  await withConsole(async (c) => {
    c.start(recorder().handlers);
    const a = await connect(c.address);
    await until(() => c.connected, 'client');
    a.socket.resetAndDestroy();
    for (let i = 0; i < 100; i++) c.backend.write(bytes('x'.repeat(1000)));
    await until(() => !c.connected, 'the reset client is gone');
    const slow = await connect(c.address);
    slow.socket.pause(); // reads nothing: the kernel buffers fill, then ours up to the cap
    await until(() => c.connected, 'slow client');
    const chunk = new Uint8Array(64 * 1024).fill(0x41);
    const t0 = performance.now();
    for (let i = 0; i < 200; i++) c.backend.write(chunk); // 12.8 MB
    assert.ok(performance.now() - t0 < 2000, 'writes do not block');
    assert.equal(warnings.length, 1, `one warning: ${JSON.stringify(warnings)}`);
    assert.match(warnings[0]!, /the client does not read; console output is dropped/);
    const flushStart = performance.now();
    await c.flush(); // gives up after flushTimeoutMs
    assert.ok(performance.now() - flushStart < 1500, 'flush does not wait forever for a client that does not read');
    slow.socket.resume();
    await until(() => slow.received().length >= 100_000, 'the client gets what was queued once it reads', 10_000);
    assert.ok(slow.received().length < 12_000_000, `much was dropped (${slow.received().length} bytes received)`);
  }, LOCAL, { maxPending: 256 * 1024, flushTimeoutMs: 300, warn: (line: string) => warnings.push(line) });
});

test('close: the client gets the output written before, then the end of the connection; no more clients; flush resolves', async () => {
  const c = await openSocketConsole(LOCAL);
  c.start(recorder().handlers);
  const a = await connect(c.address);
  await until(() => c.connected, 'client');
  const big = 'y'.repeat(900_000); // under the default cap (1 MiB)
  c.backend.write(bytes(big));
  c.close();
  c.close(); // twice is fine
  await c.flush();
  await a.closed;
  assert.equal(a.received().length, big.length, 'everything written before close arrives');
  await assert.rejects(connect(c.address), /ECONNREFUSED/);
  c.backend.write(bytes('after close')); // ignored
  assert.equal(await c.waitForClient(), 'closed');
});

test('waitForClient resolves when a client connects, or with the signal that came first', async () => {
  await withConsole(async (c) => {
    const waiting = c.waitForClient();
    await sleep(30);
    await connect(c.address);
    assert.equal(await waiting, undefined);
    assert.equal(await c.waitForClient(), undefined, 'at once when connected');
  });
  await withConsole(async (c) => {
    const before = process.listenerCount('SIGINT');
    const waiting = c.waitForClient();
    assert.equal(process.listenerCount('SIGINT'), before + 1);
    process.emit('SIGINT', 'SIGINT');
    assert.equal(await waiting, 'SIGINT');
    assert.equal(process.listenerCount('SIGINT'), before, 'the handler is removed');
  });
});

test('unix sockets: listens on the path, replaces a stale socket, refuses another file, removes the socket on close', async () => {
  const path = join(tmp, 'serial.sock');
  const address: SocketConsoleAddress = { kind: 'unix', path };
  const first = await openSocketConsole(address);
  assert.ok(statSync(path).isSocket());
  assert.equal(first.label, `disconnected:unix:${path},server=on`);
  const r = recorder();
  first.start(r.handlers);
  const a = await connect(address);
  a.socket.write('over unix');
  await until(() => r.input.join('') === 'over unix', 'input over the unix socket');
  first.backend.write(bytes('out'));
  await a.waitFor('out');
  first.close();
  await first.flush();
  assert.equal(existsSync(path), false, 'the socket file is removed');

  // A socket file left behind (a killed run) is replaced.
  const stale = net.createServer();
  await new Promise<void>((res) => stale.listen(path, res));
  const second = await openSocketConsole(address);
  const b = await connect(address);
  second.backend.write(bytes('fresh'));
  await until(() => second.connected, 'client of the new console');
  second.backend.write(bytes('fresh'));
  await b.waitFor('fresh');
  second.close();
  await second.flush();
  stale.close();

  const file = join(tmp, 'not-a-socket');
  writeFileSync(file, 'data');
  await assert.rejects(openSocketConsole({ kind: 'unix', path: file }), (e: unknown) => e instanceof SocketConsoleError &&
    e.message === `could not listen on unix socket '${file}': the file exists and is not a socket`);
  await assert.rejects(openSocketConsole({ kind: 'unix', path: join(tmp, 'missing', 'x.sock') }), /could not listen on unix socket '.*': no such directory/);
});

test('a port in use is a SocketConsoleError naming the address', async () => {
  const busy = net.createServer();
  await new Promise<void>((res) => busy.listen(0, '127.0.0.1', res));
  const port = (busy.address() as net.AddressInfo).port;
  try {
    await assert.rejects(openSocketConsole({ kind: 'tcp', host: '127.0.0.1', port }), (e: unknown) => e instanceof SocketConsoleError &&
      e.message === `could not listen on tcp 127.0.0.1:${port}: address already in use`);
  } finally {
    busy.close();
  }
});
