/**
 * Guest writes land in qcow2 images as QEMU's tools see them: `diskfill` at random sectors and
 * sizes (a seeded host PRNG; REPLAYVM_BLOCK_SEED reruns a failure), several MiB across cluster
 * boundaries, on a fresh image (64 KiB and 512 B clusters) and on an overlay of a qcow2 base.
 * Afterwards `qemu-img check` finds the image clean, `qemu-img convert -O raw` gives exactly the
 * bytes written, the base file is byte-identical, and the guest itself read the same bytes back.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  assertClean, assertGuestReads, assertSameBytes, blockTestSeed, fillPattern, guestDisksBySize, guestFill, qemuRawBytes, SECTOR, tool,
  useDisk,
} from '../helpers/guest-disk.js';
import { seededRandom } from '../helpers/host-utils.js';
import { powerOff, sha256File, TEST_TIMEOUT_MS, withLinuxVm } from '../helpers/linux.js';

const tmp = mkdtempSync(join(tmpdir(), 'replayvm-block-write-'));
test.after(() => rmSync(tmp, { recursive: true, force: true }));

const MIB = 1 << 20;
const SEED = blockTestSeed();

interface Fill { readonly sector: number; readonly count: number; readonly seed: number }

/**
 * `n` fills of 1..maxSectors sectors at random sectors of a `diskBytes` disk (overlapping each
 * other and straddling cluster boundaries), with distinct pattern seeds.
 */
function randomFills(random: () => number, diskBytes: number, n: number, maxSectors: number): Fill[] {
  const sectors = diskBytes / SECTOR;
  const fills: Fill[] = [];
  for (let i = 0; i < n; i++) {
    const count = 1 + Math.floor(random() * maxSectors);
    fills.push({ sector: Math.floor(random() * (sectors - count + 1)), count, seed: 1000 + i });
  }
  return fills;
}

/** One image the guest writes to: its file, its content before, the writes. */
interface Case {
  readonly label: string;
  readonly image: string;
  readonly before: Buffer;
  readonly fills: readonly Fill[];
  /** Files that must stay byte-identical (a base image), with their sha256. */
  readonly unchanged: ReadonlyArray<readonly [string, string]>;
}

/** A fresh image (`qemu-img create -f qcow2 -o cluster_size=N`) and random writes over it. */
function freshCase(clusterSize: number, diskMib: number, maxSectors: number): Case {
  const image = join(tmp, `fresh-${clusterSize}.qcow2`);
  tool('qemu-img', 'create', '-f', 'qcow2', '-o', `cluster_size=${clusterSize}`, image, `${diskMib}M`);
  const fills = randomFills(seededRandom(SEED + clusterSize), diskMib * MIB, 14, maxSectors);
  // Always one write straddling the first L2 table's reach and one ending at the last sector.
  const l2Reach = (clusterSize / 8) * clusterSize;
  if (l2Reach < diskMib * MIB) fills.push({ sector: l2Reach / SECTOR - 5, count: 11, seed: 77 });
  fills.push({ sector: (diskMib * MIB) / SECTOR - 9, count: 9, seed: 78 });
  return { label: `fresh qcow2, ${clusterSize}-byte clusters`, image, before: Buffer.alloc(diskMib * MIB), fills, unchanged: [] };
}

/** An overlay (`qemu-img create -b base.qcow2 -F qcow2`) on a base whose first half holds data. */
function overlayCase(diskMib: number): Case {
  const before = Buffer.alloc(diskMib * MIB);
  fillPattern(before, 0, before.length / SECTOR / 2, 5);
  const raw = join(tmp, 'base.raw');
  writeFileSync(raw, before);
  const base = join(tmp, 'base.qcow2');
  tool('qemu-img', 'convert', '-f', 'raw', '-O', 'qcow2', raw, base);
  const image = join(tmp, 'overlay.qcow2');
  tool('qemu-img', 'create', '-f', 'qcow2', '-b', base, '-F', 'qcow2', image);
  const fills = randomFills(seededRandom(SEED + 1), before.length, 14, 1500);
  return { label: 'overlay on a qcow2 base', image, before, fills, unchanged: [[base, sha256File(base)]] };
}

test('random guest writes on qcow2 images (fresh with 64 KiB and 512 B clusters, an overlay): qemu-img check clean, convert gives the bytes written, the base unchanged', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  // Distinct sizes tell the guest's disks apart.
  const cases = [freshCase(65536, 16, 2048), freshCase(512, 8, 300), overlayCase(12)];
  const expected = cases.map((c) => {
    const e = Buffer.from(c.before);
    for (const f of c.fills) fillPattern(e, f.sector, f.count, f.seed);
    return e;
  });
  const describe = (c: Case): string =>
    `${c.label} (seed ${SEED}, ${c.fills.length} writes, ${(c.fills.reduce((s, f) => s + f.count * SECTOR, 0) / MIB).toFixed(1)} MiB)`;
  await withLinuxVm(cases.flatMap((c) => ['-drive', `file=${c.image},format=qcow2,if=virtio`]), async (vm) => {
    await vm.prompt();
    const disks = await guestDisksBySize(vm);
    for (const [i, c] of cases.entries()) {
      await t.test(`${c.label}: the guest writes and reads its writes back`, async () => {
        const dev = disks.get(c.before.length);
        assert.ok(dev !== undefined, `no guest disk of ${c.before.length} bytes: ${[...disks].join(', ')}`);
        await useDisk(vm, dev);
        for (const f of c.fills) await guestFill(vm, f.sector, f.count, f.seed);
        await assertGuestReads(vm, expected[i]!, describe(c));
      });
    }
    await powerOff(vm);
  });
  for (const [i, c] of cases.entries()) {
    await t.test(`${c.label}: qemu-img check clean, convert -O raw gives the bytes written`, () => {
      assertClean(c.image);
      assertSameBytes(qemuRawBytes(c.image, `${c.image}.raw`), expected[i]!, `${describe(c)}: qemu-img convert -O raw`);
      for (const [file, hash] of c.unchanged) {
        assert.equal(sha256File(file), hash, `${file} is unchanged`);
        assertClean(file);
      }
    });
  }
});
