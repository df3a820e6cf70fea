import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { qemuImg, qemuIo, tool, withTempDir } from '../../../test/support/block/qemu-tools.js';
import { firstDataCluster, qcow2Layout, setRefcount } from '../../../test/support/block/qcow2-bytes.js';
import { seededRandom } from '../../../test/helpers/host-utils.js';
import { ImageError } from '../errors.js';
import { MemoryImageFile } from '../memory-file.js';
import { checkQcow2, type Qcow2CheckReport } from './check.js';
import { createQcow2 } from './create.js';
import { Qcow2Image } from './qcow2-image.js';

/** A read-only in-memory copy of `bytes`. */
const bytesFile = (name: string, bytes: Uint8Array): MemoryImageFile => new MemoryImageFile(name, bytes, false);

/** What qemu-img check says about a file: its exit status, JSON report and problem lines. */
interface QemuCheck {
  status: number;
  json: Record<string, number | string>;
  lines: string[];
}

function qemuCheck(path: string): QemuCheck {
  const r = tool('qemu-img', ['check', '--output=json', path]);
  return { status: r.status, json: JSON.parse(r.stdout) as Record<string, number | string>, lines: r.stderr.split('\n').filter((l) => l !== '') };
}

/** The exit status qemu-img check gives a report. */
function statusOf(r: Qcow2CheckReport): number {
  return r.checkErrors > 0 ? 1 : r.corruptions > 0 ? 2 : r.leaks > 0 ? 3 : 0;
}

/** Checks `path` with qemu-img and with us, and asserts that the two agree on every count. */
async function assertSameAsQemu(path: string, expectedStatus: number): Promise<Qcow2CheckReport> {
  const q = qemuCheck(path);
  const ours = await checkQcow2(bytesFile(path, readFileSync(path)));
  assert.equal(q.status, expectedStatus, `qemu-img check exit status (${q.lines.join('; ')})`);
  assert.equal(statusOf(ours), expectedStatus, `our status (${ours.problems.join('; ')})`);
  assert.equal(ours.corruptions, q.json['corruptions'] ?? 0, 'corruptions');
  assert.equal(ours.leaks, q.json['leaks'] ?? 0, 'leaks');
  assert.equal(ours.checkErrors, q.json['check-errors'], 'check errors');
  assert.equal(ours.totalClusters, q.json['total-clusters'], 'total clusters');
  assert.equal(ours.allocatedClusters, q.json['allocated-clusters'] ?? 0, 'allocated clusters');
  assert.equal(ours.fragmentedClusters, q.json['fragmented-clusters'] ?? 0, 'fragmented clusters');
  assert.equal(ours.compressedClusters, q.json['compressed-clusters'] ?? 0, 'compressed clusters');
  assert.equal(ours.imageEndOffset, q.json['image-end-offset'], 'image end offset');
  for (const line of ours.problems) assert.ok(q.lines.includes(line), `qemu-img check says '${line}' too (it says: ${q.lines.join('; ')})`);
  return ours;
}

const withDir = (fn: (dir: string) => Promise<void>): (() => Promise<void>) => withTempDir('replayvm-check-', fn);

/** A qcow2 image with data written here and there (several L2 tables when clusters are small). */
function makeImage(dir: string, name: string, options: string, size = '8M'): string {
  const path = join(dir, name);
  qemuImg('create', '-f', 'qcow2', '-o', options, path, size);
  qemuIo(path, 'write -P 0x5a 0 100k', 'write -P 0x33 3M 70k', 'write -z 5M 64k', 'write -P 1 7M 4k');
  return path;
}

test('clean images made by qemu-img check clean, with the same statistics as qemu-img check', withDir(async (dir) => {
  for (const [name, options] of [
    ['default.qcow2', 'cluster_size=65536'],
    ['small-clusters.qcow2', 'cluster_size=512'],
    ['big-clusters.qcow2', 'cluster_size=2M'],
    ['refcount1.qcow2', 'refcount_bits=1'],
    ['refcount64.qcow2', 'refcount_bits=64'],
    ['v2.qcow2', 'compat=0.10'],
  ] as const) {
    const r = await assertSameAsQemu(makeImage(dir, name, options), 0);
    assert.ok(r.allocatedClusters > 0, name);
  }
}));

test('compressed clusters, snapshots and a bitmap are counted as qemu-img counts them', withDir(async (dir) => {
  const plain = makeImage(dir, 'plain.qcow2', 'cluster_size=4096');
  const compressed = join(dir, 'compressed.qcow2');
  qemuImg('convert', '-c', '-O', 'qcow2', '-o', 'cluster_size=4096', plain, compressed);
  const c = await assertSameAsQemu(compressed, 0);
  assert.ok(c.compressedClusters > 0);
  qemuImg('snapshot', '-c', 'one', plain);
  qemuIo(plain, 'write -P 0x77 0 8k');
  qemuImg('snapshot', '-c', 'two', plain);
  qemuIo(plain, 'write -P 0x78 4k 8k');
  await assertSameAsQemu(plain, 0);
  qemuImg('bitmap', '--add', plain, 'dirty0');
  qemuIo(plain, 'write -P 0x79 1M 64k');
  await assertSameAsQemu(plain, 0);
}));

test('a refcount higher than the uses is a leak (exit status 3 in qemu-img check)', withDir(async (dir) => {
  const path = makeImage(dir, 'leak.qcow2', 'cluster_size=65536');
  const bytes = readFileSync(path);
  const index = firstDataCluster(bytes) / qcow2Layout(bytes).clusterSize;
  setRefcount(bytes, index, 2); // a data cluster counted twice: a leak, and its COPIED flag is now wrong
  writeFileSync(path, bytes);
  const r = await assertSameAsQemu(path, 2);
  assert.equal(r.leaks, 1);
  assert.ok(r.problems.some((l) => l.startsWith('ERROR OFLAG_COPIED data cluster')));
  // A leak alone: bump the refcount of a cluster nothing uses, inside the file.
  const leakOnly = makeImage(dir, 'leak-only.qcow2', 'cluster_size=65536');
  const b2 = readFileSync(leakOnly);
  const free = b2.length / qcow2Layout(b2).clusterSize;
  writeFileSync(leakOnly, Buffer.concat([b2, new Uint8Array(qcow2Layout(b2).clusterSize)]));
  const grown = readFileSync(leakOnly);
  setRefcount(grown, free, 1);
  writeFileSync(leakOnly, grown);
  const l = await assertSameAsQemu(leakOnly, 3);
  assert.deepEqual([l.leaks, l.corruptions], [1, 0]);
  assert.deepEqual(l.problems, [`Leaked cluster ${free} refcount=1 reference=0`]);
}));

test('a refcount lower than the uses is a corruption (exit status 2)', withDir(async (dir) => {
  const path = makeImage(dir, 'corrupt.qcow2', 'cluster_size=65536');
  const bytes = readFileSync(path);
  const index = firstDataCluster(bytes) / qcow2Layout(bytes).clusterSize;
  setRefcount(bytes, index, 0);
  writeFileSync(path, bytes);
  const r = await assertSameAsQemu(path, 2);
  assert.ok(r.problems.includes(`ERROR cluster ${index} refcount=0 reference=1`));
  // The refcount table's own cluster unaccounted for, and an L2 entry pointing into the header.
  const other = makeImage(dir, 'corrupt2.qcow2', 'cluster_size=65536');
  const b = readFileSync(other);
  const h = qcow2Layout(b);
  setRefcount(b, h.refcountTable / h.clusterSize, 0);
  const v = new DataView(b.buffer, b.byteOffset);
  const l2 = Number(v.getBigUint64(h.l1) & 0x00fffffffffffe00n);
  v.setBigUint64(l2 + 8, (1n << 63n) | 0x200n); // unaligned, inside the header
  writeFileSync(other, b);
  await assertSameAsQemu(other, 2);
}));

test('a file that is not a qcow2 image is refused with one line naming the field', async () => {
  const raw = new Uint8Array(4096);
  await assert.rejects(checkQcow2(bytesFile('disk.img', raw)), (e: unknown) =>
    e instanceof ImageError && e.message === 'disk.img: not a qcow2 image (bad magic at offset 0)');
  await assert.rejects(checkQcow2(bytesFile('short.img', raw.subarray(0, 10))), /short\.img: not a qcow2 image: the file is 10 bytes/);
  const bad = new Uint8Array(4096);
  const v = new DataView(bad.buffer);
  v.setUint32(0, 0x514649fb);
  v.setUint32(4, 3);
  v.setUint32(20, 30);
  await assert.rejects(checkQcow2(bytesFile('x.qcow2', bad)), /x\.qcow2: cluster_bits 30 at offset 20 is out of range \(9\.\.21\)/);
});

test('images our engine wrote (random writes, snapshots, deletes) check as qemu-img checks them', withDir(async (dir) => {
  const rnd = seededRandom(12);
  for (const clusterBits of [9, 12, 16]) {
    const file = new MemoryImageFile(`engine-${clusterBits}.qcow2`);
    await createQcow2(file, { virtualSize: 8 << 20, clusterBits });
    const image = await Qcow2Image.open(file, { readOnly: false });
    const writeSome = async (n: number): Promise<void> => {
      for (let i = 0; i < n; i++) {
        const length = 1 + Math.floor(rnd() * 100_000);
        const offset = Math.floor(rnd() * ((8 << 20) - length));
        await image.write(offset, new Uint8Array(length).fill(1 + Math.floor(rnd() * 255)));
      }
    };
    await writeSome(20);
    await image.createSnapshot({ name: 'a' });
    await writeSome(20);
    await image.createSnapshot({ name: 'b' });
    await writeSome(10);
    await image.deleteSnapshot('a');
    await image.close();
    const path = join(dir, file.name);
    writeFileSync(path, file.bytes);
    const r = await assertSameAsQemu(path, 0);
    assert.ok(r.allocatedClusters > 0, path);
  }
}));

test('entries with reserved bits, pointing far past the end of the file, or with flags and no offset: as qemu-img counts them', withDir(async (dir) => {
  const damage = async (name: string, edit: (v: DataView, l1: number, l2: number) => void): Promise<Qcow2CheckReport> => {
    const path = makeImage(dir, name, 'cluster_size=65536');
    const b = readFileSync(path);
    const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
    const { l1 } = qcow2Layout(b);
    edit(v, l1, Number(v.getBigUint64(l1) & 0x00fffffffffffe00n));
    writeFileSync(path, b);
    return assertSameAsQemu(path, 2);
  };
  const reservedL1 = await damage('reserved-l1.qcow2', (v, l1) => v.setBigUint64(l1, v.getBigUint64(l1) | 0x80n));
  assert.ok(reservedL1.problems.some((l) => l.startsWith('ERROR found L1 entry with reserved bits set')));
  const reservedL2 = await damage('reserved-l2.qcow2', (v, _l1, l2) => v.setBigUint64(l2, v.getBigUint64(l2) | 0x2n));
  assert.ok(reservedL2.problems.some((l) => l.startsWith('ERROR found l2 entry with reserved bits set')));
  const far = await damage('far.qcow2', (v, _l1, l2) => v.setBigUint64(l2 + 16, (1n << 63n) | (1n << 55n)));
  assert.ok(far.problems.some((l) => l.startsWith('ERROR: counting reference for region exceeding the end of the file')));
  // An L1 entry with the COPIED flag and offset 0 is walked as qemu-img walks it: the header read as an L2 table.
  const flagsOnly = await damage('flags-only.qcow2', (v, l1) => v.setBigUint64(l1, 1n << 63n));
  assert.ok(flagsOnly.problems.some((l) => l.startsWith('ERROR cluster 0 refcount=1 reference=')));
}));
