/**
 * `-drive` without `format=` through the real CLI: QEMU's warning for a probed raw image (only
 * when the guest may write it), images of formats replayvm does not open refused in one line.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeRun, elfPath, runCli } from '../helpers/run-vm.js';

function scratchDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'replayvm-probe-cli-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Runs the nop guest with `-drive DRIVE` (and `extra`). */
function runWithDrive(drive: string, extra: readonly string[] = []): ReturnType<typeof runCli> {
  return runCli(['-M', 'virt', '-nographic', '-bios', 'none', '-kernel', elfPath('nop'), ...extra, '-drive', drive], [{ end: true }], 30_000);
}

test('a probed raw image: QEMU\'s warning when the guest may write it, none otherwise', { timeout: 120_000 }, async (t) => {
  const image = join(scratchDir(t), 'disk.img');
  writeFileSync(image, new Uint8Array(64 * 1024));
  const warning = `replayvm: warning: Image format was not specified for '${image}' and probing guessed raw. `
    + 'Automatically detecting the format is dangerous for raw images, write operations on block 0 will be restricted. '
    + "Specify the 'raw' format explicitly to remove the restrictions.\n";
  const warned = await runWithDrive(`file=${image},if=virtio`);
  assert.equal(warned.status, 0, describeRun(warned));
  assert.equal(warned.stderr, warning);
  for (const [drive, extra] of [
    [`file=${image},format=raw,if=virtio`, []],
    [`file=${image},driver=file,if=virtio`, []],
    [`file=${image},if=virtio,readonly=on`, []],
    [`file=${image},if=virtio,snapshot=on`, []],
    [`file=${image},if=virtio`, ['-snapshot']],
  ] as const) {
    const quiet = await runWithDrive(drive, extra);
    assert.equal(quiet.status, 0, describeRun(quiet));
    assert.equal(quiet.stderr, '', drive);
  }
});

test('an image of a format replayvm does not open is refused by name, in one line', { timeout: 60_000 }, async (t) => {
  const image = join(scratchDir(t), 'disk.vdi');
  const header = new Uint8Array(4096);
  header.set([0x7f, 0x10, 0xda, 0xbe], 0x40);
  writeFileSync(image, header);
  const r = await runWithDrive(`file=${image},if=virtio`);
  assert.equal(r.status, 1, describeRun(r));
  assert.equal(r.stderr, `replayvm: -drive file=${image},if=virtio: '${image}' is a vdi image: format 'vdi' is not supported (raw, qcow2; convert it with qemu-img convert -O qcow2)\n`);
  // format=raw exposes the bytes, as QEMU does.
  const raw = await runWithDrive(`file=${image},format=raw,if=virtio`);
  assert.equal(raw.status, 0, describeRun(raw));
});
