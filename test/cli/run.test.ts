/** End-to-end tests that run guests: console I/O, Ctrl-A keys through a pipe, -serial file:, -d/-D. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { guestFixtures } from '../helpers/guest-programs.js';
import { elfPath, runCli } from '../helpers/run-vm.js';

const { tmp, idleElf, echoElf } = guestFixtures('run');

const demo = elfPath('demo');
const BASE = ['-M', 'virt', '-nographic', '-bios', 'none'];

test('demo.elf prints its banner and powers off with status 0', async () => {
  const r = await runCli([...BASE, '-kernel', demo]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /replayvm bare-metal demo/);
  assert.match(r.stdout, /PASS demo/);
});

test('a finisher fail code becomes the exit status', async () => {
  const r = await runCli([...BASE, '-kernel', elfPath('fail-exit')]);
  assert.equal(r.status, 3, r.stderr);
});

test('Ctrl-A x through a pipe quits an idle guest with status 0', async () => {
  const r = await runCli([...BASE, '-kernel', idleElf], [{ delayMs: 300, bytes: Uint8Array.of(0x01, 0x78) }]);
  assert.equal(r.timedOut, false);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /replayvm: terminated/);
});

test('Ctrl-A h prints the key help; Ctrl-A c opens the monitor', async () => {
  const r = await runCli([...BASE, '-kernel', idleElf], [
    { delayMs: 200, bytes: Uint8Array.of(0x01, 0x68) },
    { afterOutput: 'sends C-a', bytes: Uint8Array.of(0x01, 0x63) },
    { afterOutput: '(qemu) ', bytes: Uint8Array.of(0x01, 0x78) },
  ]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /C-a h {4}print this help\n\r/);
  assert.match(r.stdout, /C-a x {4}exit emulator/);
});

test('console input reaches the guest; Ctrl-A Ctrl-A sends one Ctrl-A', async () => {
  const r = await runCli([...BASE, '-kernel', echoElf], [
    { afterOutput: '>', bytes: 'hello' },
    { afterOutput: 'hello', bytes: Uint8Array.of(0x01, 0x01) },
    { afterOutput: '\x01', bytes: 'q' },
  ]);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, '>hello\x01q');
});

test('EOF on stdin does not stop the machine; SIGTERM does (status 0, like QEMU)', async () => {
  const r = await runCli([...BASE, '-kernel', echoElf], [
    { afterOutput: '>', bytes: 'x' },
    { afterOutput: 'x', end: true },
    { delayMs: 300, signal: 'SIGTERM' },
  ]);
  assert.equal(r.timedOut, false);
  assert.equal(r.status, 0);
  assert.equal(r.stdout, '>x');
  assert.match(r.stderr, /terminating on signal 15/);
});

test('-serial file: writes the guest output to the file', async () => {
  const out = join(tmp, 'serial.txt');
  const r = await runCli(['-M', 'virt', '-display', 'none', '-bios', 'none', '-serial', 'file:' + out, '-kernel', demo]);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, '');
  assert.equal(r.stderr, '');
  assert.match(readFileSync(out, 'latin1'), /replayvm bare-metal demo[^]*PASS demo/);
});

test('-d guest_errors -D FILE logs invalid accesses to the file', async () => {
  const log = join(tmp, 'trace.log');
  const r = await runCli([...BASE, '-d', 'guest_errors', '-D', log, '-kernel', elfPath('devices')]);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr, '');
  assert.match(readFileSync(log, 'latin1'), /^Invalid access at addr 0x[0-9A-F]+, size \d/m);
});

test('without -nographic and -serial, a notice says the console is on stdio', async () => {
  const r = await runCli(['-M', 'virt', '-bios', 'none', '-kernel', idleElf], [{ delayMs: 200, bytes: Uint8Array.of(0x01, 0x78) }]);
  assert.equal(r.status, 0);
  assert.match(r.stderr, /^replayvm: no graphical display: using -serial mon:stdio/);
});
