/**
 * Bad device configuration with the Linux guest's command line: every case is a one-line
 * `replayvm: ...` error and a non-zero exit before the machine boots (nothing on the console).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { linuxArgs } from '../helpers/linux.js';
import { describeRun, runCli, type RunResult } from '../helpers/run-vm.js';

const tmp = mkdtempSync(join(tmpdir(), 'replayvm-linux-errors-'));
test.after(() => rmSync(tmp, { recursive: true, force: true }));

/** Generous: only a sign of a hang (a booting guest would run until this kills it). */
const TIMEOUT_MS = 60_000;

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Runs the Linux command line plus `args` with stdin closed. */
function runLinux(args: readonly string[]): Promise<RunResult> {
  return runCli(linuxArgs(args), [{ end: true }], TIMEOUT_MS);
}

/**
 * Exit status 1 (a run-time error; 2 for a usage error), nothing on stdout (the machine did not
 * start), one `replayvm:` line matching `pattern`.
 */
function assertOneLineError(r: RunResult, pattern: RegExp, status = 1): void {
  const info = describeRun(r);
  assert.equal(r.timedOut, false, `the machine ran instead of failing: ${info}`);
  assert.equal(r.status, status, info);
  assert.equal(r.stdout, '', `no console output: ${info}`);
  const lines = r.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, `one line: ${info}`);
  assert.match(lines[0]!, /^replayvm: /);
  assert.match(lines[0]!, pattern);
}

test('a missing disk image: one-line error naming the file', async () => {
  const missing = join(tmp, 'no-such-disk.img');
  assertOneLineError(await runLinux(['-drive', `file=${missing},format=raw,if=virtio`]),
    new RegExp(`${escape(missing)}.*No such file or directory`));
  assertOneLineError(await runLinux(['-drive', `file=${missing},format=raw,if=none,id=d0`, '-device', 'virtio-blk-device,drive=d0']),
    new RegExp(`${escape(missing)}.*No such file or directory`));
});

test('other bad -drive values: format=qcow2 on a raw file, format=vmdk, an unknown drive= id', async () => {
  const img = join(tmp, 'ok.img');
  writeFileSync(img, new Uint8Array(512 * 8));
  assertOneLineError(await runLinux(['-drive', `file=${img},format=qcow2,if=virtio`]), new RegExp(`-drive file=${escape(img)},format=qcow2,if=virtio: .*${escape(img)}`), 1);
  assertOneLineError(await runLinux(['-drive', `file=${img},format=vmdk,if=virtio`]), /format 'vmdk' is not supported \(raw, qcow2\)/, 2);
  assertOneLineError(await runLinux(['-device', 'virtio-blk-device,drive=nope']), /-device virtio-blk-device,drive=nope: .*'nope'/, 2);
});

test('a hostfwd or socket listen port already in use, a refused socket connect: one-line errors', async () => {
  const busy = net.createServer();
  await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
  const port = (busy.address() as net.AddressInfo).port;
  try {
    assertOneLineError(await runLinux(['-netdev', `user,id=n0,hostfwd=tcp:127.0.0.1:${port}-:7777`, '-device', 'virtio-net-device,netdev=n0']),
      new RegExp(`-netdev user.*hostfwd.*\\b${port}\\b.*already in use`));
    assertOneLineError(await runLinux(['-netdev', `socket,id=n0,listen=127.0.0.1:${port}`, '-device', 'virtio-net-device,netdev=n0']),
      new RegExp(`-netdev socket,id=n0,listen=127\\.0\\.0\\.1:${port}: .*already in use`));
  } finally {
    await new Promise((resolve) => busy.close(resolve));
  }
  // Nothing listens there any more.
  assertOneLineError(await runLinux(['-netdev', `socket,id=n0,connect=127.0.0.1:${port}`, '-device', 'virtio-net-device,netdev=n0']),
    new RegExp(`connect=127\\.0\\.0\\.1:${port}: .*refused`));
  assertOneLineError(await runLinux(['-netdev', 'user,id=n0,hostfwd=tcp:127.0.0.1:99999-:7777', '-device', 'virtio-net-device,netdev=n0']),
    /hostfwd|host forwarding/i, 2);
});

test('-device foo and devices naming missing backends: one-line usage errors (status 2)', async () => {
  assertOneLineError(await runLinux(['-device', 'foo']), /-device foo: .*'foo'/, 2);
  assertOneLineError(await runLinux(['-device', 'virtio-net-device,netdev=nope']), /-device virtio-net-device,netdev=nope: .*'nope'/, 2);
  assertOneLineError(await runLinux(['-device', 'virtio-net-device,netdev=n0,mac=01:00:00:00:00:01', '-netdev', 'user,id=n0']), /multicast/, 2);
  assertOneLineError(await runLinux(['-netdev', 'socket,id=n0']), /-netdev socket,id=n0: /, 2);
});
