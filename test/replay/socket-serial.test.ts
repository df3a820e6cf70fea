/**
 * The serial port on a socket chardev, through the real CLI, with record/replay (bare-metal echo
 * guest: each run takes about a second): `-serial tcp:HOST:PORT,server=on,wait=off` recorded
 * with a client typing into the socket (one client going away and another taking over); its
 * replays give a client the recorded output; `-chardev socket,path=...` with wait=on (start
 * only once a client is connected), whose replays give the client the recording's bytes exactly;
 * input typed into a replay's socket is ignored with the notice; and the error cases.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, statSync, writeFileSync } from 'node:fs';
import * as net from 'node:net';
import { join } from 'node:path';
import { echoProgram, guestElf } from '../helpers/guest-programs.js';
import { freePort, makeTempDir, sleep, withRr, type VmProcess } from '../helpers/rr-driver.js';
import { runCli } from '../helpers/run-vm.js';
import { assertRecorded, assertReplayMatches, countOccurrences, inputIgnoredNotice, runVm, type VmRun } from '../helpers/chardev.js';

const tmp = makeTempDir('socket-serial');
after(() => tmp.remove());

const echoElf = join(tmp.dir, 'echo.elf');
writeFileSync(echoElf, guestElf(echoProgram()));

/** The machine without its console options. */
const bare = (elf: string): string[] => ['-M', 'virt', '-bios', 'none', '-kernel', elf, '-display', 'none'];

/** Text typed into replays' sockets (no 'q': the recorded guest would end at once). */
const JUNK = 'typed into the replay';

type Address = { readonly port: number } | { readonly path: string };

/** A client of the VM's serial socket. */
class SerialClient {
  private got: Buffer = Buffer.alloc(0);
  private waiters: Array<() => void> = [];
  readonly closed: Promise<void>;

  constructor(readonly socket: net.Socket) {
    socket.on('data', (d: Buffer) => {
      this.got = Buffer.concat([this.got, d]);
      this.wake();
    });
    socket.on('error', () => {});
    this.closed = new Promise((resolve) => socket.on('close', () => {
      this.wake();
      resolve();
    }));
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  get received(): Buffer {
    return this.got;
  }

  /** Waits until the bytes received end with `text`. */
  async waitForEnd(text: string, ms = 20_000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!this.got.toString('latin1').endsWith(text)) {
      if (this.socket.destroyed) throw new Error(`the connection closed while waiting for ${JSON.stringify(text)} (got ${JSON.stringify(this.got.toString('latin1'))})`);
      if (Date.now() > deadline) throw new Error(`timeout waiting for ${JSON.stringify(text)} (got ${JSON.stringify(this.got.toString('latin1'))})`);
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, 100);
      });
    }
  }

  /** Waits until the VM closes the connection (it exits); returns everything received. */
  async end(ms = 20_000): Promise<Buffer> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([this.closed, new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`the VM did not close the connection within ${ms} ms`)), ms);
    })]).finally(() => clearTimeout(timer));
    return this.got;
  }
}

/** Connects to the VM's socket, retrying until it listens; fails if the VM exits first (or with `mayMiss`, returns undefined). */
async function connectClient(address: Address, vm: VmProcess, mayMiss = false, ms = 20_000): Promise<SerialClient | undefined> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      const socket = await new Promise<net.Socket>((resolve, reject) => {
        const s = 'port' in address ? net.connect(address.port, '127.0.0.1') : net.connect(address.path);
        s.once('connect', () => resolve(s));
        s.once('error', reject);
      });
      return new SerialClient(socket);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'ECONNREFUSED' && code !== 'ENOENT') throw e;
      if (vm.exited !== undefined) {
        if (mayMiss) return undefined;
        throw new Error(`the VM exited before its socket accepted a connection\n${vm.describe()}`);
      }
      if (Date.now() > deadline) throw new Error(`no connection to ${JSON.stringify(address)} within ${ms} ms\n${vm.describe()}`);
      await sleep(5);
    }
  }
}

/** QEMU's line while a wait=on server waits for its client. */
const waitingLine = (option: string, label: string): string => `replayvm: ${option}: info: QEMU waiting for connection on: ${label}\n`;

/**
 * Checks that a wait=on VM waits: the line is printed, the VM still runs `holdMs` later (a replay
 * of these recordings ends within milliseconds once it runs), and its guest has not started
 * (the client, connecting next, must get the guest's very first byte, '>').
 */
async function expectWaiting(vm: VmProcess, line: string, holdMs = 400): Promise<void> {
  assert.ok(await vm.waitForStderr(line, 20_000), `the VM says it waits for a connection: ${JSON.stringify(line)}\n${vm.describe()}`);
  await sleep(holdMs);
  assert.equal(vm.exited, undefined, `the VM waits for its client\n${vm.describe()}`);
}

test('-serial tcp:127.0.0.1:PORT,server=on,wait=off: a recording echoes over TCP (a client leaves, another takes over); replays give a client the recorded output, and ignore its input with the notice', { timeout: 60_000 }, async (t) => {
  const port = await freePort();
  const log = join(tmp.dir, 'tcp.rrlog');
  const option = `tcp:127.0.0.1:${port},server=on,wait=off`;
  let first: Buffer = Buffer.alloc(0);
  let second: Buffer = Buffer.alloc(0);
  const rec = await runVm(['record', '-o', log, '--', ...bare(echoElf), '-serial', option], {
    label: 'record tcp wait=off', dir: tmp.dir, stdin: 'null', script: async (p) => {
      const a = (await connectClient({ port }, p))!;
      a.socket.write('a');
      await a.waitForEnd('a');
      first = a.received;
      a.socket.resetAndDestroy(); // goes away abruptly: the VM goes on
      await sleep(100);
      const b = (await connectClient({ port }, p))!;
      for (const ch of 'bc') {
        b.socket.write(ch);
        await b.waitForEnd(ch);
      }
      b.socket.write('q');
      second = await b.end();
    },
  });
  assertRecorded(rec);
  const recOut = Buffer.concat([first, second]);
  // wait=off: the guest's '>' (its first instruction) is dropped if it came before the connection.
  assert.match(first.toString('latin1'), /^>?a$/, `the first client gets the echo of its 'a'\n${rec.describe}`);
  assert.equal(second.toString('latin1'), 'bcq', `the second client gets the echo of 'bc' and 'q', and nothing from before it connected\n${rec.describe}`);
  assert.equal(rec.stdout.length, 0, `nothing on stdout\n${rec.describe}`);
  /** The guest's whole output. */
  const full = Buffer.from('>abcq', 'latin1');

  await t.test('QEMU syntax rr=replay, -serial tcp:...,server (wait=on, QEMU\'s default): the client gets the whole output, the recording\'s being its suffix; typed input is ignored with one notice', async () => {
    const port2 = await freePort();
    let got: Buffer = Buffer.alloc(0);
    const rep = await runVm(withRr([...bare(echoElf), '-serial', `tcp:127.0.0.1:${port2},server`], 'replay', log), {
      label: 'replay rr=replay tcp wait=on', dir: tmp.dir, stdin: 'null', script: async (p) => {
        await expectWaiting(p, waitingLine(`-serial tcp:127.0.0.1:${port2},server`, `disconnected:tcp:127.0.0.1:${port2},server=on`));
        const c = (await connectClient({ port: port2 }, p))!;
        c.socket.write(JUNK);
        got = await c.end();
      },
    });
    assertReplayMatches(rec, rep, { recOut: Buffer.alloc(0) }); // exit, final count and hash, "replay complete"; stdout empty
    assert.ok(got.equals(full), `the client gets all the guest's output: ${JSON.stringify(got.toString('latin1'))}\n${rep.describe}`);
    assert.ok(got.subarray(got.length - recOut.length).equals(recOut), 'what the recording\'s clients got is its end');
    assert.equal(countOccurrences(rep.stderr, inputIgnoredNotice(log, undefined)), 1, `the notice, once (a socket has no quit keys)\n${rep.describe}`);
  });

  await t.test('`replayvm replay LOG` (the recorded -serial tcp:...,wait=off): the client gets the recorded output (what it connects in time for)', async () => {
    let got: Buffer | undefined;
    const rep = await runVm(['replay', log], {
      label: 'replay LOG tcp wait=off', dir: tmp.dir, stdin: 'null', script: async (p) => {
        const c = await connectClient({ port }, p, true);
        if (c === undefined) return;
        c.socket.write(JUNK);
        got = await c.end();
      },
    });
    assertReplayMatches(rec, rep, { recOut: Buffer.alloc(0) });
    assert.ok(got !== undefined, `the client connected (the replay listened on the recorded port)\n${rep.describe}`);
    // wait=off: output before the connection is dropped, so the client gets a suffix of it.
    assert.ok(full.subarray(full.length - got.length).equals(got) && got.length >= 'q'.length,
      `the client gets the end of the recorded output: ${JSON.stringify(got.toString('latin1'))}\n${rep.describe}`);
    t.diagnostic(`replay LOG (wait=off): the client got ${JSON.stringify(got.toString('latin1'))}; the recording's clients ${JSON.stringify(recOut.toString('latin1'))}`);
    assert.ok(countOccurrences(rep.stderr, inputIgnoredNotice(log, undefined)) <= 1, rep.describe);
    assert.equal(existsSync(log), true);
  });
});

test('-chardev socket,path=...,server=on,wait=on -serial chardev:ID: the recording starts only once a client is connected; `replayvm replay LOG` and rr=replay give the client the recording\'s bytes exactly', { timeout: 60_000 }, async (t) => {
  const sock = join(tmp.dir, 'serial.sock');
  const log = join(tmp.dir, 'unix.rrlog');
  const chardev = `socket,id=c0,path=${sock},server=on,wait=on`;
  const typed = 'unix socket!';
  let recOut: Buffer = Buffer.alloc(0);
  const rec = await runVm(['record', '-o', log, '--', ...bare(echoElf), '-chardev', chardev, '-serial', 'chardev:c0'], {
    label: 'record unix wait=on', dir: tmp.dir, stdin: 'null', script: async (p) => {
      await expectWaiting(p, waitingLine(`-chardev ${chardev}`, `disconnected:unix:${sock},server=on`));
      assert.ok(statSync(sock).isSocket(), 'it listens on the path');
      const c = (await connectClient({ path: sock }, p))!;
      await c.waitForEnd('>');
      for (const ch of typed) {
        c.socket.write(ch);
        await c.waitForEnd(ch);
      }
      c.socket.write('q');
      recOut = await c.end();
    },
  });
  assertRecorded(rec);
  assert.equal(recOut.toString('latin1'), `>${typed}q`, `the client gets everything from the guest's first byte on\n${rec.describe}`);
  assert.equal(existsSync(sock), false, 'the socket file is removed at exit');

  /** Replays `args` with a client on `path` (which types JUNK at once); returns the run and what the client got. */
  const replayWithClient = async (label: string, args: readonly string[], option: string, path: string): Promise<{ rep: VmRun; got: Buffer }> => {
    let got: Buffer = Buffer.alloc(0);
    const rep = await runVm(args, {
      label, dir: tmp.dir, stdin: 'null', script: async (p) => {
        await expectWaiting(p, waitingLine(option, `disconnected:unix:${path},server=on`));
        const c = (await connectClient({ path }, p))!;
        c.socket.write(JUNK);
        got = await c.end();
      },
    });
    return { rep, got };
  };

  await t.test('`replayvm replay LOG` (the recorded -chardev ..., wait=on)', async () => {
    const { rep, got } = await replayWithClient('replay LOG unix', ['replay', log], `-chardev ${chardev}`, sock);
    assertReplayMatches(rec, rep, { recOut, repOut: got });
    assert.equal(rep.stdout.length, 0, rep.describe);
    assert.equal(countOccurrences(rep.stderr, inputIgnoredNotice(log, undefined)), 1, `the notice, once\n${rep.describe}`);
  });
  await t.test('QEMU syntax rr=replay with -serial unix:OTHER,server=on,wait=on', async () => {
    const other = join(tmp.dir, 'other.sock');
    const option = `unix:${other},server=on,wait=on`;
    const { rep, got } = await replayWithClient('replay rr=replay unix', withRr([...bare(echoElf), '-serial', option], 'replay', log), `-serial ${option}`, other);
    assertReplayMatches(rec, rep, { recOut, repOut: got });
    assert.equal(countOccurrences(rep.stderr, inputIgnoredNotice(log, undefined)), 1, `the notice, once\n${rep.describe}`);
  });
});

test('errors: one line naming the option, status 2 (usage) or 1 (run time), at once; a port in use; Ctrl-C while waiting for a client', { timeout: 60_000 }, async (t) => {
  const port = await freePort();
  const forms: ReadonlyArray<readonly [string, readonly string[], RegExp]> = [
    ['an unknown chardev id', ['-serial', 'chardev:nope'], /^replayvm: -serial chardev:nope: no -chardev with id 'nope'\n$/],
    ['a chardev for both -mon and -serial', ['-chardev', `socket,id=c0,host=127.0.0.1,port=${port},server=on,wait=off`, '-mon', 'chardev=c0', '-serial', 'chardev:c0'],
      /^replayvm: -serial chardev:c0: chardev 'c0' is already used by -mon .*\n$/],
    ['a missing port', ['-serial', 'tcp:127.0.0.1,server=on,wait=off'], /^replayvm: -serial tcp:127\.0\.0\.1,server=on,wait=off: missing port \(tcp:HOST:PORT\)\n$/],
    ['a chardev without port=', ['-chardev', 'socket,id=c0,host=127.0.0.1,server=on,wait=off', '-serial', 'chardev:c0'],
      /^replayvm: -chardev socket,id=c0,host=127\.0\.0\.1,server=on,wait=off: missing port= \(or path= for a unix socket\)\n$/],
    ['client mode', ['-serial', `tcp:127.0.0.1:${port}`], /^replayvm: -serial tcp:127\.0\.0\.1:\d+: connecting to a server \(server=off, QEMU's default here\) is not supported yet: add server=on,wait=off\n$/],
    ['an unused chardev', ['-chardev', `socket,id=c0,host=127.0.0.1,port=${port},server=on,wait=off`], /^replayvm: -chardev socket,id=c0: not used by any -mon or -serial chardev:c0\n$/],
  ];
  for (const [name, consoleArgs, message] of forms) {
    await t.test(`${name} (replayvm record): no log is created`, async () => {
      const log = join(tmp.dir, `error-${forms.findIndex((f) => f[0] === name)}.rrlog`);
      const r = await runCli(['record', '-o', log, '--', ...bare(echoElf), ...consoleArgs], [{ end: true }], 10_000);
      assert.equal(r.timedOut, false, 'it fails at once');
      assert.equal(r.status, 2, r.stderr);
      // The record command's errors carry its own prefix.
      assert.match(r.stderr, new RegExp(message.source.replace('^replayvm: ', '^replayvm record: ')));
      assert.equal(r.stdout, '');
      assert.equal(existsSync(log), false, 'no log is created');
    });
  }

  await t.test('a port in use', async () => {
    const busy = net.createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    const used = (busy.address() as net.AddressInfo).port;
    try {
      for (const args of [[...bare(echoElf), '-serial', `tcp:127.0.0.1:${used},server=on,wait=off`],
        withRr([...bare(echoElf), '-serial', `tcp:127.0.0.1:${used},server=on,wait=off`], 'record', join(tmp.dir, 'in-use.rrlog'))]) {
        const r = await runCli(args, [{ end: true }], 10_000);
        assert.equal(r.timedOut, false, 'it fails at once');
        assert.equal(r.status, 1, r.stderr);
        assert.equal(r.stderr, `replayvm: -serial tcp:127.0.0.1:${used},server=on,wait=off: could not listen on tcp 127.0.0.1:${used}: address already in use\n`);
        assert.equal(r.stdout, '');
      }
      assert.equal(existsSync(join(tmp.dir, 'in-use.rrlog')), false, 'a recording that never started leaves no log (a retry can use the name)');
    } finally {
      busy.close();
    }
  });

  await t.test('a unix path that is not a socket', async () => {
    const file = join(tmp.dir, 'plain-file');
    writeFileSync(file, 'keep me');
    const r = await runCli([...bare(echoElf), '-serial', `unix:${file},server=on,wait=off`], [{ end: true }], 10_000);
    assert.equal(r.status, 1, r.stderr);
    assert.equal(r.stderr, `replayvm: -serial unix:${file},server=on,wait=off: could not listen on unix socket '${file}': the file exists and is not a socket\n`);
    assert.ok(statSync(file).isFile(), 'the file is left alone');
  });

  await t.test('Ctrl-C (SIGINT) while waiting for a client ends the program; the guest never ran; the socket is removed', async () => {
    const sock = join(tmp.dir, 'interrupted.sock');
    const option = `unix:${sock},server=on`;
    const run = await runVm([...bare(echoElf), '-serial', option], {
      label: 'wait=on interrupted', dir: tmp.dir, stdin: 'null', timeoutMs: 20_000, script: async (p) => {
        await expectWaiting(p, waitingLine(`-serial ${option}`, `disconnected:unix:${sock},server=on`), 200);
        p.kill('SIGINT');
      },
    });
    assert.deepEqual({ status: run.status, signal: run.signal }, { status: 1, signal: null }, run.describe);
    assert.match(run.stderr, /\nreplayvm: terminating on signal 2 \(SIGINT\) while waiting for a connection on -serial unix:.*\n$/);
    assert.equal(run.finalState, undefined, 'the machine never ran');
    assert.equal(existsSync(sock), false, 'the socket file is removed');
  });
});
