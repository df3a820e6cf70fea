/**
 * qcow2 images made by QEMU's own tools boot the bundled Linux guest and read, from inside the
 * guest, the same bytes as the raw original: cluster sizes 512 B (version 2), 64 KiB and 2 MiB,
 * a compressed image, and backing chains (a qcow2 base named by a relative path, a raw base two
 * levels down) whose overlays hold data written by `qemu-io` and zero clusters (`write -z`,
 * also with unmap), which must read as zeros and not as the backing file's data.
 * One boot with every image attached (`-drive ...,format=qcow2,if=virtio` each; the images
 * differ in size so the guest can tell them apart); the guest compares with `disksum` (one
 * checksum per MiB), the host computes the same sums.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  assertGuestReads, assertSameBytes, fillPattern, guestDisksBySize, qemuRawBytes, SECTOR, tool, useDisk,
} from '../helpers/guest-disk.js';
import { powerOff, TEST_TIMEOUT_MS, withLinuxVm } from '../helpers/linux.js';

const tmp = mkdtempSync(join(tmpdir(), 'replayvm-block-read-'));
test.after(() => rmSync(tmp, { recursive: true, force: true }));

const KIB = 1024;
const MIB = 1 << 20;

/**
 * A raw original of 4 MiB + `extraKib` KiB: the pattern of seed 7 over the first 1.5 MiB and of
 * seed 8 from a sector that is no cluster boundary to past 3 MiB, zeros elsewhere, a text at
 * 3.5 MiB.
 */
function original(extraKib: number): Buffer {
  const disk = Buffer.alloc(4 * MIB + extraKib * KIB);
  fillPattern(disk, 0, (3 * MIB) / 2 / SECTOR, 7);
  fillPattern(disk, (2 * MIB) / SECTOR - 3, MIB / SECTOR + 131, 8);
  disk.write('the raw original, at 3.5 MiB', (7 * MIB) / 2, 'latin1');
  return disk;
}

/**
 * `qemu-io -c 'write ...' image` of `len` bytes at `off`: the byte `fill`, or zero clusters
 * (`write -z`, with `-u` also unmapped) when `fill` is 'zero' / 'zero-unmap'; applies the same
 * change to `expected`.
 */
function qemuIoWrite(image: string, expected: Buffer, off: number, len: number, fill: number | 'zero' | 'zero-unmap'): void {
  const how = fill === 'zero' ? '-z' : fill === 'zero-unmap' ? '-z -u' : `-P ${fill}`;
  tool('qemu-io', '-c', `write ${how} ${off} ${len}`, image);
  expected.fill(typeof fill === 'number' ? fill : 0, off, off + len);
}

/** One image for the guest to read: what it is, its file, the bytes it must read as. */
interface Case {
  readonly label: string;
  readonly image: string;
  readonly expected: Buffer;
}

/** A raw original of its own size in its own folder. */
function rawOriginal(name: string, extraKib: number): { dir: string; raw: string; content: Buffer } {
  const dir = join(tmp, name);
  mkdirSync(dir);
  const content = original(extraKib);
  const raw = join(dir, 'original.raw');
  writeFileSync(raw, content);
  return { dir, raw, content };
}

/** `qemu-img convert` of a raw original into a qcow2 image with `options`. */
function converted(label: string, extraKib: number, options: readonly string[]): Case {
  const { dir, raw, content } = rawOriginal(`convert-${extraKib}`, extraKib);
  const image = join(dir, 'image.qcow2');
  tool('qemu-img', 'convert', '-f', 'raw', '-O', 'qcow2', ...options, raw, image);
  return { label: `qemu-img convert, ${label}`, image, expected: content };
}

/** An overlay on a qcow2 base named by a relative path, with data and zero clusters over the base. */
function overlayOnQcow2(extraKib: number): Case {
  const { dir, raw, content } = rawOriginal('chain', extraKib);
  tool('qemu-img', 'convert', '-f', 'raw', '-O', 'qcow2', raw, join(dir, 'base.qcow2'));
  const overlay = join(dir, 'overlay.qcow2');
  // A relative backing name is resolved against the overlay's folder, not the current one.
  tool('qemu-img', 'create', '-f', 'qcow2', '-b', 'base.qcow2', '-F', 'qcow2', overlay);
  assert.match(tool('qemu-img', 'info', overlay), /backing file: base\.qcow2/);
  const expected = Buffer.from(content);
  // Part of a cluster (the rest comes from the base), then zero clusters over the base's data.
  qemuIoWrite(overlay, expected, 100 * KIB, 12 * KIB, 0x5c);
  qemuIoWrite(overlay, expected, 512 * KIB, 256 * KIB, 'zero');
  qemuIoWrite(overlay, expected, 2 * MIB, 128 * KIB, 'zero-unmap');
  return { label: 'overlay on a qcow2 base named by a relative path, with data and zero clusters', image: overlay, expected };
}

/** Two qcow2 overlays (64 KiB, then 4 KiB clusters) on a raw base, each with its own writes. */
function chainOnRaw(extraKib: number): Case {
  const { dir, raw, content } = rawOriginal('rawchain', extraKib);
  const mid = join(dir, 'mid.qcow2');
  const top = join(dir, 'top.qcow2');
  tool('qemu-img', 'create', '-f', 'qcow2', '-b', raw, '-F', 'raw', mid);
  tool('qemu-img', 'create', '-f', 'qcow2', '-o', 'cluster_size=4096', '-b', mid, '-F', 'qcow2', top);
  const expected = Buffer.from(content);
  qemuIoWrite(mid, expected, 1000 * KIB, 200 * KIB, 0x11);
  qemuIoWrite(top, expected, 1100 * KIB, 6 * KIB, 0x22);
  qemuIoWrite(top, expected, 1150 * KIB, 8 * KIB, 'zero');
  return { label: 'a chain of two qcow2 overlays on a raw base', image: top, expected };
}

test('qcow2 images made by qemu-img (cluster sizes, version 2, compressed, backing chains, zero clusters): the guest reads what QEMU reads', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  // Distinct sizes (4 MiB + k * 64 KiB) tell the guest's disks apart.
  const cases: Case[] = [
    converted('64 KiB clusters (the default, version 3)', 0, []),
    converted('512 B clusters, version 2 (compat=0.10)', 64, ['-o', 'cluster_size=512,compat=0.10']),
    converted('2 MiB clusters', 128, ['-o', 'cluster_size=2M']),
    converted('compressed (convert -c)', 192, ['-c']),
    overlayOnQcow2(256),
    chainOnRaw(320),
  ];
  // QEMU is the reference: what it reads must be what the test planned.
  for (const c of cases) assertSameBytes(qemuRawBytes(c.image, `${c.image}.raw`), c.expected, `${c.label}: qemu-img convert -O raw`);
  const drives = cases.flatMap((c) => ['-drive', `file=${c.image},format=qcow2,if=virtio`]);
  await withLinuxVm(drives, async (vm) => {
    await vm.prompt();
    const disks = await guestDisksBySize(vm);
    assert.equal(disks.size, cases.length, `one guest disk per image\n${vm.describe()}`);
    for (const c of cases) {
      await t.test(c.label, async () => {
        const dev = disks.get(c.expected.length);
        assert.ok(dev !== undefined, `no guest disk of ${c.expected.length} bytes: ${[...disks].join(', ')}`);
        await useDisk(vm, dev);
        await assertGuestReads(vm, c.expected, c.label);
      });
    }
    await powerOff(vm);
  });
});
