/**
 * Image locking through the real CLI, against QEMU's own tools: a replayvm writer keeps
 * qemu-io (and another replayvm writer) out, a QEMU writer keeps replayvm out, and read-only
 * users (readonly=on, -snapshot) coexist with each other and with a writer. Needs
 * qemu-system-riscv32 and qemu-io (qemu-system-misc, qemu-utils): it fails without them.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI_PATH, QEMU, describeRun, elfPath, runCli, runProcess } from '../helpers/run-vm.js';

const TIMEOUT_MS = 30_000;

function scratchImage(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'replayvm-lock-cli-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'disk.img');
  writeFileSync(path, new Uint8Array(1024 * 1024));
  return path;
}

/** How many OFD locks /proc/locks lists on `path`. */
function lockCount(path: string): number {
  const inode = statSync(path).ino;
  return readFileSync('/proc/locks', 'utf8').split('\n').filter((l) => / OFDLCK /.test(l) && l.includes(`:${inode} `)).length;
}

/**
 * Starts `cmd args` (a machine paused with -S, holding its drive) and waits until it holds
 * more locks on `image` than before; killed when the test ends.
 */
async function holder(t: TestContext, image: string, cmd: string, args: readonly string[]): Promise<ChildProcess> {
  const before = lockCount(image);
  const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (b: Buffer) => (stderr += b.toString()));
  t.after(() => {
    child.kill('SIGKILL');
  });
  const deadline = Date.now() + TIMEOUT_MS;
  while (lockCount(image) <= before) {
    if (child.exitCode !== null || child.signalCode !== null) assert.fail(`${cmd} exited (${child.exitCode ?? child.signalCode}) before locking ${image}: ${stderr}`);
    if (Date.now() > deadline) assert.fail(`${cmd} did not lock ${image} within ${TIMEOUT_MS} ms: ${stderr}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return child;
}

/** replayvm, paused, with `-drive DRIVE` (and `extra` options). */
function replayvmArgs(drive: string, extra: readonly string[] = []): string[] {
  return [CLI_PATH, '-M', 'virt', '-nographic', '-bios', 'none', '-kernel', elfPath('demo'), '-S', '-monitor', 'none', ...extra, '-drive', drive];
}

/** replayvm with `-drive DRIVE` (and `extra`) must fail at once with exactly `message` (exit status 1). */
async function replayvmRefuses(drive: string, message: string, extra: readonly string[] = []): Promise<void> {
  const r = await runCli(replayvmArgs(drive, extra).slice(1), [{ end: true }], TIMEOUT_MS);
  assert.equal(r.status, 1, describeRun(r));
  assert.equal(r.stderr, `replayvm: -drive ${drive}: ${message}\n`);
}

/** Whether replayvm with `-drive DRIVE` opens it (starts and holds it, paused). */
async function replayvmOpens(t: TestContext, image: string, drive: string, extra: readonly string[] = []): Promise<ChildProcess> {
  return holder(t, image, process.execPath, replayvmArgs(drive, extra));
}

function inUse(image: string, what = '"write"'): string {
  return `Failed to get ${what} lock. Is another process using the image [${image}]?`;
}

test('a replayvm writer keeps qemu-io and other replayvm writers out; read-only users coexist', { timeout: 120_000 }, async (t) => {
  const image = scratchImage(t);
  await replayvmOpens(t, image, `file=${image},format=raw,if=virtio`);
  const io = await runProcess('qemu-io', ['-f', 'raw', '-c', 'read 0 512', image], { timeoutMs: TIMEOUT_MS });
  assert.notEqual(io.status, 0, describeRun(io));
  assert.match(io.stderr, /Failed to get "write" lock/);
  assert.match(io.stderr, /Is another process using the image/);
  await replayvmRefuses(`file=${image},format=raw,if=virtio`, inUse(image));
  await replayvmRefuses(`file=${image},format=raw,if=none,id=d0`, inUse(image), ['-device', 'virtio-blk-device,drive=d0']);
  // readonly=on and -snapshot only read: they open the image beside the writer and each other.
  await replayvmOpens(t, image, `file=${image},format=raw,if=virtio,readonly=on`);
  await replayvmOpens(t, image, `file=${image},format=raw,if=virtio`, ['-snapshot']);
  await replayvmOpens(t, image, `file=${image},format=raw,if=virtio,snapshot=on`);
});

test('a QEMU writer keeps replayvm writers out; replayvm readonly=on and -snapshot still open the image', { timeout: 120_000 }, async (t) => {
  const image = scratchImage(t);
  await holder(t, image, QEMU, ['-M', 'virt', '-bios', 'none', '-nographic', '-S', '-monitor', 'none', '-serial', 'none',
    '-drive', `file=${image},format=raw,if=virtio`]);
  await replayvmRefuses(`file=${image},format=raw,if=virtio`, inUse(image));
  await replayvmOpens(t, image, `file=${image},format=raw,if=virtio,readonly=on`);
  await replayvmOpens(t, image, `file=${image},format=raw,if=virtio`, ['-snapshot']);
});

test('when the holder exits, the image is free again', { timeout: 120_000 }, async (t) => {
  const image = scratchImage(t);
  const first = await replayvmOpens(t, image, `file=${image},format=raw,if=virtio`);
  const exited = new Promise((resolve) => first.once('exit', resolve));
  first.kill('SIGTERM');
  await exited;
  assert.equal(lockCount(image), 0);
  const io = await runProcess('qemu-io', ['-f', 'raw', '-c', 'read 0 512', image], { timeoutMs: TIMEOUT_MS });
  assert.equal(io.status, 0, describeRun(io));
});
