/**
 * The Linux guest and virtio-blk through the CLI: raw sector writes reach the host image and
 * survive a reboot; -snapshot / snapshot=on keep the image unchanged; readonly=on refuses writes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expectOutput, powerOff, sha256File, TEST_TIMEOUT_MS, withLinuxVm } from '../helpers/linux.js';

const tmp = mkdtempSync(join(tmpdir(), 'replayvm-linux-disk-'));
test.after(() => rmSync(tmp, { recursive: true, force: true }));

const SECTOR = 512;
const DISK_BYTES = 4 * 1024 * 1024;

/** A new raw image of zeros. */
function zeroImage(name: string): string {
  const path = join(tmp, name);
  writeFileSync(path, new Uint8Array(DISK_BYTES));
  return path;
}



test('diskwrite/disktest reach the host image (if=none + virtio-blk-device); diskread reads them back after a reboot', { timeout: TEST_TIMEOUT_MS }, async () => {
  const img = zeroImage('disk.img');
  const text = 'written by the guest at sector 100';
  const drive = ['-drive', `file=${img},format=raw,if=none,id=d0`, '-device', 'virtio-blk-device,drive=d0'];
  await withLinuxVm(drive, async (vm) => {
    const log = await vm.prompt();
    assert.match(log, /virtio_blk virtio\d+: \[vda\] 8192 512-byte logical blocks \(4\.19 MB\/4\.00 MiB\)/);
    await expectOutput(vm, 'ls /dev', /\bvda\b/);
    await expectOutput(vm, 'cat /sys/block/vda/size', /^8192$/m);
    await expectOutput(vm, `diskwrite 100 ${text}`, new RegExp(`^diskwrite: wrote ${text.length} bytes of text at sector 100$`, 'm'));
    await expectOutput(vm, 'diskread 100', new RegExp(`^sector 100: ${text}$`, 'm'));
    await expectOutput(vm, 'disktest 2000 8', /^disk: \/dev\/vda, 8192 sectors$/m, /^disktest: wrote 4096 bytes at sector 2000$/m,
      /^disktest: read 4096 bytes$/m, /^disktest: ok$/m);
    await expectOutput(vm, 'disktest', /^disktest: ok$/m); // the default: 16 sectors at 64
    await expectOutput(vm, 'disktest 8190 4', /beyond the end \(8192 sectors\)/);
    await expectOutput(vm, 'diskwrite 8191 last sector', /^diskwrite: wrote 11 bytes/m);
    await expectOutput(vm, 'hexdump /dev/vda 32 51200', /^0000c800 {2}77 72 69 74 74 65 6e 20/m, /\|written by the g\|/);
    await expectOutput(vm, 'sync', /^synced$/m);
    await powerOff(vm);
  });

  const disk = readFileSync(img);
  assert.equal(disk.length, DISK_BYTES, 'the image keeps its size');
  const sector100 = disk.subarray(100 * SECTOR, 101 * SECTOR);
  assert.equal(sector100.subarray(0, text.length).toString('latin1'), text);
  assert.ok(sector100.subarray(text.length).every((b) => b === 0), 'the rest of the sector is NUL padded');
  assert.equal(disk.subarray(8191 * SECTOR, 8191 * SECTOR + 11).toString('latin1'), 'last sector');
  const nonZero = (from: number, count: number): number => disk.subarray(from * SECTOR, (from + count) * SECTOR).filter((b) => b !== 0).length;
  assert.ok(nonZero(2000, 8) > 3000, 'disktest 2000 8 wrote its pattern');
  assert.ok(nonZero(64, 16) > 6000, 'disktest wrote its pattern at sectors 64..79');
  assert.equal(nonZero(0, 64), 0, 'nothing else was written');
  assert.equal(nonZero(80, 20), 0, 'nothing else was written');
  assert.equal(nonZero(101, 2000 - 101), 0, 'nothing else was written');

  // Second boot, the short form if=virtio: the data is there.
  await withLinuxVm(['-drive', `file=${img},format=raw,if=virtio`], async (vm) => {
    await vm.prompt();
    await expectOutput(vm, 'diskread 100', new RegExp(`^sector 100: ${text}$`, 'm'));
    await expectOutput(vm, 'diskread 8191', /^sector 8191: last sector$/m);
    await expectOutput(vm, 'diskread 101', /^sector 101: $/m);
    await powerOff(vm);
  });
});

for (const [label, args] of [
  ['-snapshot', (img: string) => ['-snapshot', '-drive', `file=${img},format=raw,if=none,id=d0`, '-device', 'virtio-blk-device,drive=d0']],
  ['-drive snapshot=on', (img: string) => ['-drive', `file=${img},format=raw,if=virtio,snapshot=on`]],
] as const) {
  test(`${label}: the guest reads its own writes, the image is unchanged after poweroff`, { timeout: TEST_TIMEOUT_MS }, async () => {
    const img = zeroImage(`snap-${label.replace(/[^a-z]/g, '')}.img`);
    writeFileSync(img, 'original content', { flag: 'r+', encoding: 'latin1' }); // at offset 0
    const before = sha256File(img);
    await withLinuxVm(args(img), async (vm) => {
      await vm.prompt();
      await expectOutput(vm, 'diskread 0', /^sector 0: original content$/m);
      await expectOutput(vm, 'diskwrite 0 overwritten in the overlay', /^diskwrite: wrote 26 bytes/m);
      await expectOutput(vm, 'diskwrite 300 new data', /^diskwrite: wrote 8 bytes/m);
      await expectOutput(vm, 'disktest 500 32', /^disktest: ok$/m);
      await expectOutput(vm, 'sync', /^synced$/m);
      await expectOutput(vm, 'diskread 0', /^sector 0: overwritten in the overlay$/m);
      await expectOutput(vm, 'diskread 300', /^sector 300: new data$/m);
      await powerOff(vm);
    });
    assert.equal(sha256File(img), before, 'the image file is unchanged');
  });
}

test('readonly=on: the guest sees a read-only disk and writes fail', { timeout: TEST_TIMEOUT_MS }, async () => {
  const img = zeroImage('ro.img');
  writeFileSync(img, 'read-only data', { flag: 'r+', encoding: 'latin1' });
  const before = sha256File(img);
  await withLinuxVm(['-drive', `file=${img},format=raw,if=virtio,readonly=on`], async (vm) => {
    await vm.prompt();
    await expectOutput(vm, 'cat /sys/block/vda/ro', /^1$/m);
    await expectOutput(vm, 'diskread 0', /^sector 0: read-only data$/m);
    // Linux lets the shell open the device O_RDWR; the write itself is refused.
    await expectOutput(vm, 'diskwrite 0 nope', /^diskwrite: error EPERM/m);
    await expectOutput(vm, 'disktest 10 1', /^disktest: write: error EPERM/m);
    await expectOutput(vm, 'sync', /^synced$/m);
    await expectOutput(vm, 'hexdump /dev/vda 16', /\|read-only data\.\.\|/);
    await powerOff(vm);
  });
  assert.equal(sha256File(img), before);
});
