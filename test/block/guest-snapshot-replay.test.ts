/**
 * qcow2 disks whose file must not change: `-snapshot` (the guest reads its own writes, the file
 * is byte-identical afterwards), and record/replay of a guest writing to a qcow2 disk
 * (`replayvm record`, then `replayvm replay LOG`): the replay prints the recorded
 * console output byte for byte and ends in the recorded state, and the image is unchanged (the
 * recording's writes go to its overlay).
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { assertGuestReads, diskSum, fillPattern, guestFill, SECTOR, tool } from '../helpers/guest-disk.js';
import { powerOff, TEST_TIMEOUT_MS, withLinuxVm } from '../helpers/linux.js';
import { checkAspects, copyKernel, linuxMachine, makeTempDir, recordReplayCompare, sha256File, shellSteps } from '../helpers/rr-driver.js';

const tmp = makeTempDir('block-snapshot');
after(() => tmp.remove());

const DISK_BYTES = 4 << 20;

/** A qcow2 image (64 KiB clusters) of 4 MiB: seed 3's pattern over the first MiB, a text at sector 3000, zeros. */
function contentImage(name: string): { image: string; content: Buffer } {
  const content = Buffer.alloc(DISK_BYTES);
  fillPattern(content, 0, (1 << 20) / SECTOR, 3);
  content.write('qcow2 original', 3000 * SECTOR, 'latin1');
  const raw = join(tmp.dir, `${name}.raw`);
  writeFileSync(raw, content);
  const image = join(tmp.dir, `${name}.qcow2`);
  tool('qemu-img', 'convert', '-f', 'raw', '-O', 'qcow2', raw, image);
  return { image, content };
}

test('-snapshot on qcow2: the guest reads its own writes; the file is unchanged after poweroff', { timeout: TEST_TIMEOUT_MS }, async () => {
  const { image, content } = contentImage('snapshot');
  const before = sha256File(image);
  const expected = Buffer.from(content);
  await withLinuxVm(['-snapshot', '-drive', `file=${image},format=qcow2,if=virtio`], async (vm) => {
    await vm.prompt();
    await assertGuestReads(vm, content, '-snapshot before writing');
    await guestFill(vm, 1000, 3000, 9); // over data, zeros and the text
    fillPattern(expected, 1000, 3000, 9);
    await guestFill(vm, 7000, 1192, 10); // to the last sector
    fillPattern(expected, 7000, 1192, 10);
    await assertGuestReads(vm, expected, '-snapshot after writing');
    await powerOff(vm);
  });
  assert.equal(sha256File(image), before, 'the qcow2 file is unchanged');
});

test('record/replay of a guest writing to a qcow2 disk: the replay matches the recording; the image is unchanged', { timeout: 900_000 }, async (t) => {
  const { image, content } = contentImage('rr');
  const kernel = copyKernel(tmp.dir);
  const before = sha256File(image);
  const expected = Buffer.from(content);
  fillPattern(expected, 1500, 2500, 31);
  const r = await recordReplayCompare({
    name: 'block-qcow2',
    machine: linuxMachine(kernel, ['-drive', `file=${image},format=qcow2,if=virtio`]),
    steps: shellSteps(['diskfill 1500 2500 31', 'diskcheck 0 2048 3', 'disksum 0 8192', 'diskread 3000', 'poweroff'],
      { delayMs: [50, 600], charDelayMs: [0, 30] }),
    replays: 1,
    assert: false,
  });
  const out = r.record.stdout.toString('latin1').replace(/\r/g, '');
  assert.match(out, /^diskfill: wrote 1280000 bytes at sector 1500 seed 31$/m);
  // Sectors 1500..2047 now hold seed 31's pattern, so the check of seed 3 fails exactly there.
  assert.match(out, new RegExp(`^diskcheck: FAIL at offset ${1500 * SECTOR} `, 'm'));
  assert.match(out, new RegExp(`^disksum: ${diskSum(expected)} over ${DISK_BYTES} bytes at sector 0$`, 'm'));
  assert.match(out, /^sector 3000: /m);
  assert.doesNotMatch(out, /^sector 3000: qcow2 original/m, 'the text at sector 3000 was overwritten');
  assert.equal(sha256File(image), before, 'the qcow2 file is unchanged after the recording and the replays');
  await checkAspects(t, r);
});
