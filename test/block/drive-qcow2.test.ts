/**
 * `-drive` with qcow2 images made by qemu-img, through the real CLI: probed or named, on every
 * interface, readonly=on, snapshot=on and -snapshot, record and replay; a broken image is one
 * line before the guest starts; a replayvm writer keeps `qemu-img info` out. Needs qemu-img
 * (qemu-utils): it fails without it.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI_PATH, describeRun, elfPath, runCli, runProcess } from '../helpers/run-vm.js';

const TIMEOUT_MS = 60_000;

function scratchDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'replayvm-qcow2-cli-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function qemuImg(args: readonly string[]): Promise<string> {
  const r = await runProcess('qemu-img', args, { timeoutMs: TIMEOUT_MS });
  assert.equal(r.status, 0, describeRun(r));
  return r.stdout;
}

const sha256 = (path: string): string => createHash('sha256').update(readFileSync(path)).digest('hex');

/** A raw base and a qcow2 overlay on it (relative backing name), as qemu-img makes them. */
async function overlayOnBase(dir: string): Promise<{ base: string; top: string }> {
  const base = join(dir, 'base.img');
  writeFileSync(base, new Uint8Array(1024 * 1024).fill(0x5a));
  const top = join(dir, 'top.qcow2');
  await qemuImg(['create', '-q', '-f', 'qcow2', '-b', 'base.img', '-F', 'raw', top, '4M']);
  return { base, top };
}

const nop = (extra: readonly string[]): string[] => ['-M', 'virt', '-nographic', '-bios', 'none', '-kernel', elfPath('nop'), ...extra];

test('qcow2 drives start on every interface and option, without warnings; the files are unchanged by read-only uses', { timeout: 300_000 }, async (t) => {
  const dir = scratchDir(t);
  const { base, top } = await overlayOnBase(dir);
  const baseHash = sha256(base);
  for (const extra of [
    ['-drive', `file=${top},if=virtio`],
    ['-drive', `file=${top},format=qcow2,if=virtio`],
    ['-drive', `file=${top},driver=qcow2,if=none,id=d0`, '-device', 'virtio-blk-device,drive=d0'],
    ['-drive', `file=${top},if=virtio,readonly=on`],
    ['-drive', `file=${top},if=virtio,snapshot=on`],
    ['-snapshot', '-drive', `file=${top},if=virtio`],
  ]) {
    const r = await runCli(nop(extra), [{ end: true }], TIMEOUT_MS);
    assert.equal(r.status, 0, describeRun(r));
    assert.equal(r.stderr, '', extra.join(' '));
  }
  assert.equal(sha256(base), baseHash);
  await qemuImg(['check', '-q', top]);
});

test('a broken qcow2 image: one line naming the option, exit status 1, before the guest starts', { timeout: 120_000 }, async (t) => {
  const dir = scratchDir(t);
  const image = join(dir, 'bad.qcow2');
  await qemuImg(['create', '-q', '-f', 'qcow2', image, '1M']);
  const bytes = new Uint8Array(readFileSync(image));
  bytes[7] = 9; // version 9
  writeFileSync(image, bytes);
  const drive = `file=${image},if=virtio`;
  const r = await runCli(nop(['-drive', drive]), [{ end: true }], TIMEOUT_MS);
  assert.equal(r.status, 1, describeRun(r));
  assert.equal(r.stdout, '');
  assert.match(r.stderr, new RegExp(`^replayvm: -drive ${drive.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: [^\\n]*bad\\.qcow2[^\\n]*\\n$`));
  // A backing file that is not there.
  const orphan = join(dir, 'orphan.qcow2');
  await qemuImg(['create', '-q', '-f', 'qcow2', '-u', '-b', 'gone.img', '-F', 'raw', orphan, '1M']);
  const o = await runCli(nop(['-drive', `file=${orphan},if=virtio`]), [{ end: true }], TIMEOUT_MS);
  assert.equal(o.status, 1, describeRun(o));
  assert.match(o.stderr, /^replayvm: -drive file=.*orphan\.qcow2,if=virtio: .*gone\.img.*No such file or directory\n$/);
});

test('a replayvm qcow2 writer keeps qemu-img info out of the image and qemu-img writers out of its base', { timeout: 120_000 }, async (t) => {
  const dir = scratchDir(t);
  const { base, top } = await overlayOnBase(dir);
  const child = spawn(process.execPath, [CLI_PATH, ...nop(['-S', '-monitor', 'none', '-drive', `file=${top},if=virtio`])], { stdio: ['ignore', 'ignore', 'pipe'] });
  t.after(() => {
    child.kill('SIGKILL');
  });
  const inode = statSync(base).ino;
  const deadline = Date.now() + TIMEOUT_MS;
  // The base is locked last, once the overlay is open.
  while (!readFileSync('/proc/locks', 'utf8').split('\n').some((l) => l.includes(`:${inode} `))) {
    assert.ok(Date.now() < deadline && child.exitCode === null, 'replayvm did not lock the backing file');
    await new Promise((r) => setTimeout(r, 50));
  }
  const info = await runProcess('qemu-img', ['info', top], { timeoutMs: TIMEOUT_MS });
  assert.notEqual(info.status, 0, describeRun(info));
  assert.match(info.stderr, /Failed to get shared "write" lock\nIs another process using the image \[.*top\.qcow2\]\?/);
  const resize = await runProcess('qemu-img', ['resize', '-f', 'raw', base, '2M'], { timeoutMs: TIMEOUT_MS });
  assert.notEqual(resize.status, 0, describeRun(resize));
  assert.match(resize.stderr, /Failed to get "(write|resize)" lock/);
  // Read-only looks are allowed, as with QEMU's own users (-U shares everything).
  await qemuImg(['info', '-U', top]);
});

test('record and replay with a qcow2 drive (the recording reads through the chain read-only; the replay opens no image)', { timeout: 300_000 }, async (t) => {
  const dir = scratchDir(t);
  const { top } = await overlayOnBase(dir);
  const log = join(dir, 'run.rrlog');
  const args = nop(['-drive', `file=${top},if=virtio`]);
  const rec = await runCli(['record', '-o', log, '--', ...args], [{ end: true }], TIMEOUT_MS);
  assert.equal(rec.status, 0, describeRun(rec));
  const rep = await runCli(['replay', log], [{ end: true }], TIMEOUT_MS);
  assert.equal(rep.status, 0, describeRun(rep));
  assert.match(rep.stderr, /replay complete/);
  assert.match(rep.stderr, /disk writes of virtio7 identical to the recording's/);
  assert.equal(rep.stdout, rec.stdout);
});
