/** The human monitor through the real CLI: `-monitor unix:`, Ctrl-A c on the console, `-monitor stdio`. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { guestFixtures } from '../helpers/guest-programs.js';
import { CLI_PATH, describeRun, runCli, runProcess } from '../helpers/run-vm.js';
import { TestClient, socketReady } from './client.js';

const { tmp, idleElf, echoElf } = guestFixtures('cli-hmp');
const BASE = ['-M', 'virt', '-nographic', '-bios', 'none'];
const TIMEOUT_MS = 15_000;
const PROMPT = '(qemu) ';

/** Sends one command line and returns its output (up to the next prompt). */
async function hmp(c: TestClient, line: string): Promise<string> {
  const start = c.text.length;
  c.send(`${line}\n`);
  await c.until((t) => t.slice(start).endsWith(PROMPT), `output of ${line}`);
  return c.text.slice(start, c.text.length - PROMPT.length);
}

test('-monitor unix: info status, stop/cont, x/xp, quit', async () => {
  const sock = join(tmp, 'hmp.sock');
  const run = runCli([...BASE, '-monitor', `unix:${sock},server=on,wait=off`, '-kernel', idleElf], [], TIMEOUT_MS);
  await socketReady(sock, run);
  const c = await TestClient.connect({ kind: 'unix', path: sock });
  await c.until((t) => t.endsWith(PROMPT), 'banner and prompt');
  assert.match(c.text, /^replayvm monitor - type 'help' for more information\r\n/);
  assert.equal(await hmp(c, 'info status'), 'VM status: running\r\n');
  assert.equal(await hmp(c, 'stop'), '');
  assert.equal(await hmp(c, 'info status'), 'VM status: paused\r\n');
  assert.equal(await hmp(c, 'xp /2xw 0x80000000'), '0000000080000000: 0x10500073 0xffdff06f\r\n');
  assert.match(await hmp(c, 'x /1i 0x80000000'), /^0x80000000: +10500073 +wfi/);
  assert.match(await hmp(c, 'xp /1xw 0x1000'), /cannot access memory/i);
  assert.equal(await hmp(c, 'cont'), '');
  assert.equal(await hmp(c, 'info status'), 'VM status: running\r\n');
  c.send('quit\n');
  const r = await run;
  assert.equal(r.status, 0, describeRun(r));
  assert.equal(existsSync(sock), false);
});

test('Ctrl-A c on the console: the monitor, then Ctrl-A c back and input reaches the guest', async () => {
  const r = await runCli([...BASE, '-kernel', echoElf], [
    { afterOutput: '>', bytes: Uint8Array.of(0x01, 0x63) },
    { afterOutput: PROMPT, bytes: 'info status\n' },
    { afterOutput: 'VM status: running', bytes: 'stop\n' },
    { bytes: 'info status\n' }, // commands run in order
    { afterOutput: 'VM status: paused', bytes: 'cont\n' },
    { delayMs: 100, bytes: Uint8Array.of(0x01, 0x63, 0x5a, 0x71) }, // Ctrl-A c, 'Z', 'q'
  ], TIMEOUT_MS);
  assert.equal(r.status, 0, describeRun(r));
  assert.match(r.stdout, /^>replayvm monitor - type 'help' for more information\r\n\(qemu\) VM status: running\r\n\(qemu\) /);
  assert.match(r.stdout, /VM status: paused\r\n\(qemu\) \(qemu\) Zq$/);
});

test('-monitor stdio without -nographic: the monitor owns stdio, the serial port goes to a file', async () => {
  const out = join(tmp, 'serial.txt');
  const r = await runCli(['-M', 'virt', '-display', 'none', '-bios', 'none', '-serial', `file:${out}`, '-monitor', 'stdio',
    '-kernel', echoElf], [
    { afterOutput: PROMPT, bytes: 'info status\n' },
    { afterOutput: 'VM status', delayMs: 1000, bytes: 'quit\n' }, // the guest wrote '>' long before
  ], TIMEOUT_MS);
  assert.equal(r.status, 0, describeRun(r));
  assert.match(r.stdout, /VM status: running\r\n/);
  assert.equal(readFileSync(out, 'latin1'), '>');
});

test('-monitor stdio with -nographic conflicts like QEMU; -nographic -monitor none: plain stdio, no mux', async () => {
  const r = await runCli([...BASE, '-monitor', 'stdio', '-kernel', idleElf]);
  assert.equal(r.status, 2, 'a usage error');
  assert.match(r.stderr, /^replayvm: -monitor stdio: cannot use stdio by multiple character devices/);
  // As QEMU (vl.c): without the default monitor, -nographic puts the serial port on plain stdio.
  const r2 = await runCli([...BASE, '-monitor', 'none', '-kernel', echoElf], [
    { afterOutput: '>', bytes: Uint8Array.of(0x01, 0x63, 0x71) },
  ], TIMEOUT_MS);
  assert.equal(r2.status, 0, describeRun(r2));
  assert.equal(r2.stdout, '>\x01cq');
});

test('Ctrl-A c on a terminal: the monitor echoes and edits the line, Enter (CR) runs it', async () => {
  // A pseudo-terminal from util-linux `script`, as test/cli/tty.test.ts.
  const quote = (t: string): string => `'${t.replace(/'/g, `'\\''`)}'`;
  const cli = [process.execPath, CLI_PATH, ...BASE, '-kernel', echoElf].map(quote).join(' ');
  const r = await runProcess('script', ['-qefc', `${cli}; echo "status=$?"`, '/dev/null'], {
    timeoutMs: TIMEOUT_MS, encoding: 'latin1', input: [
      { afterOutput: '>', bytes: '\x01c' },
      { afterOutput: PROMPT, bytes: 'info statx\x7fus\r' },
      { afterOutput: 'VM status: running', bytes: '\x01cZq' },
    ],
  });
  assert.equal(r.timedOut, false, describeRun(r));
  assert.ok(r.stdout.includes('(qemu) info statx\b \bus\r'), describeRun(r));
  assert.match(r.stdout, /VM status: running\r+\n\(qemu\) Zq/);
  assert.match(r.stdout, /status=0/);
});
