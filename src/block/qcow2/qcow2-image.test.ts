import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ImageError } from '../errors.js';
import { MemoryImageFile } from '../memory-file.js';
import { checkQcow2 } from './check.js';
import { createQcow2 } from './create.js';
import { Qcow2Image } from './qcow2-image.js';
import { viewOf, writeU64 } from './bytes.js';

const KiB = 1024;

/** A small image (4 KiB clusters) with data, a snapshot and more data written after it. */
async function sampleImage(): Promise<{ bytes: Uint8Array; disk: Uint8Array }> {
  const file = new MemoryImageFile('sample.qcow2');
  await createQcow2(file, { virtualSize: 256 * KiB, clusterBits: 12 });
  const image = await Qcow2Image.open(file, { readOnly: false });
  const disk = new Uint8Array(256 * KiB);
  for (let i = 0; i < 20; i++) {
    const offset = (i * 37_123) % (250 * KiB);
    const data = new Uint8Array(3000 + i * 50).fill(i + 1);
    disk.set(data, offset);
    await image.write(offset, data);
  }
  await image.createSnapshot({ name: 'snap', vmState: new Uint8Array(5000).fill(9) });
  await image.write(100, new Uint8Array(10_000).fill(0xee));
  disk.fill(0xee, 100, 10_100);
  await image.close();
  return { bytes: file.bytes.slice(), disk };
}

test('reads back what was written, across clusters, with snapshots and machine state', async () => {
  const { bytes, disk } = await sampleImage();
  const image = await Qcow2Image.open(new MemoryImageFile('s', bytes, false), { readOnly: true });
  assert.deepEqual(await image.read(0, disk.length), disk);
  assert.deepEqual(image.listSnapshots().map((s) => s.name), ['snap']);
  assert.ok((await image.readVmState('snap')).every((b) => b === 9));
  await assert.rejects(image.write(0, new Uint8Array(1)), /read-only/);
  await assert.rejects(image.read(256 * KiB - 1, 2), /outside the virtual disk/);
  await image.close();
});

test('header errors name the field', async () => {
  const { bytes } = await sampleImage();
  const cases: Array<[string, (v: DataView) => void, RegExp]> = [
    ['magic', (v) => v.setUint32(0, 0x12345678), /bad magic/],
    ['version', (v) => v.setUint32(4, 4), /unsupported qcow2 version 4/],
    ['cluster_bits', (v) => v.setUint32(20, 22), /cluster_bits is 22/],
    ['crypt', (v) => v.setUint32(32, 2), /encrypted images are not supported/],
    ['unknown feature', (v) => v.setBigUint64(72, 1n << 40n), /unsupported qcow2 feature\(s\): bit 40/],
    ['named feature', (v) => v.setBigUint64(72, 1n << 4n), /extended L2 entries/],
    ['external data', (v) => v.setBigUint64(72, 1n << 2n), /external data file/],
    ['refcount_order', (v) => v.setUint32(96, 7), /refcount_order is 7/],
    ['l1 past end', (v) => writeU64(v, 40, 1 << 30), /l1_table_offset 0x40000000 .* past the end of the file/],
    ['l1 in header', (v) => writeU64(v, 40, 0), /l1_table_offset 0x0 points into the header cluster/],
    ['l1 unaligned', (v) => writeU64(v, 40, 4096 + 8), /not aligned/],
    ['l1 too small', (v) => v.setUint32(36, 0), /l1_size is 0, too small/],
    ['refcount table overlap', (v) => writeU64(v, 48, Number(v.getBigUint64(40))), /overlaps the refcount table/],
    ['header_length', (v) => v.setUint32(100, 101), /header_length is 101/],
  ];
  for (const [what, mutate, expected] of cases) {
    const b = bytes.slice();
    mutate(viewOf(b));
    await assert.rejects(Qcow2Image.open(new MemoryImageFile('bad.qcow2', b), { readOnly: true }), (e: unknown) => {
      assert.ok(e instanceof ImageError, `${what}: ${String(e)}`);
      assert.match(e.message, /^bad\.qcow2: /);
      assert.match(e.message, expected, what);
      assert.doesNotMatch(e.message, /\n/);
      return true;
    });
  }
});

test('a corrupt-marked image opens read-only only; a dirty one is repaired on a read-write open', async () => {
  const { bytes, disk } = await sampleImage();
  const corrupt = bytes.slice();
  viewOf(corrupt).setBigUint64(72, 2n);
  await assert.rejects(Qcow2Image.open(new MemoryImageFile('c', corrupt), { readOnly: false }), /marked corrupt/);
  await (await Qcow2Image.open(new MemoryImageFile('c', corrupt), { readOnly: true })).close();

  // Dirty, with every refcount block zeroed: the rebuild restores them from the tables.
  const dirty = bytes.slice();
  const v = viewOf(dirty);
  v.setBigUint64(72, 1n);
  const refblock = Number(v.getBigUint64(Number(v.getBigUint64(48))));
  dirty.fill(0, refblock, refblock + 4096);
  const file = new MemoryImageFile('d', dirty);
  const image = await Qcow2Image.open(file, { readOnly: false });
  assert.equal(viewOf(file.bytes).getBigUint64(72), 0n);
  await image.write(200 * KiB, new Uint8Array(9000).fill(3));
  disk.fill(3, 200 * KiB, 200 * KiB + 9000);
  assert.deepEqual(await image.read(0, disk.length), disk);
  assert.ok((await image.readVmState('snap')).every((b) => b === 9));
  await image.close();
});

test('an L2 entry pointing past the end of the file or into the header is an error naming the entry', async () => {
  const file = new MemoryImageFile('e.qcow2');
  await createQcow2(file, { virtualSize: 64 * KiB, clusterBits: 12 });
  const image = await Qcow2Image.open(file, { readOnly: false });
  await image.write(8192, new Uint8Array(10).fill(1));
  await image.close();
  const v = viewOf(file.bytes);
  const l1 = Number(v.getBigUint64(40));
  const l2 = Number(v.getBigUint64(l1) & 0x00ff_ffff_ffff_fe00n);
  for (const [entry, expected] of [[0x8000_0000_1000_0000n, /L2 table entry 2 of L1 entry 0 points past the end of the file \(offset 0x10000000/], [0x8000_0000_0000_0000n, /has the COPIED flag set but no cluster/], [0x8000_0000_0000_0200n, /not aligned/], [0x0000_0000_0000_0002n, /reserved bits/]] as const) {
    const b = file.bytes.slice();
    viewOf(b).setBigUint64(l2 + 16, entry);
    const bad = await Qcow2Image.open(new MemoryImageFile('e.qcow2', b), { readOnly: true });
    await assert.rejects(bad.read(8192, 10), (e: unknown) => e instanceof ImageError && expected.test(e.message));
    await bad.close();
  }
  const b = file.bytes.slice();
  viewOf(b).setBigUint64(l2 + 16, 0x8000_0000_0000_0000n | BigInt(l1));
  const bad = await Qcow2Image.open(new MemoryImageFile('e.qcow2', b), { readOnly: true });
  await assert.rejects(bad.read(8192, 10), /points into the L1 table/);
});

test('refcount overflow is refused with an error (1-bit refcounts cannot share a cluster)', async () => {
  const file = new MemoryImageFile('o.qcow2');
  await createQcow2(file, { virtualSize: 64 * KiB, clusterBits: 12 });
  // Turn the fresh image into one with 1-bit refcounts: order 0, and rewrite the block.
  const v = viewOf(file.bytes);
  v.setUint32(96, 0);
  const refblock = Number(v.getBigUint64(Number(v.getBigUint64(48))));
  const clusters = 4;
  await file.write(new Uint8Array(4096), refblock);
  await file.write(Uint8Array.of((1 << clusters) - 1), refblock);
  const image = await Qcow2Image.open(file, { readOnly: false });
  await image.write(0, new Uint8Array(100).fill(1));
  await assert.rejects(image.createSnapshot({ name: 's' }), /refcount overflow at cluster offset 0x[0-9a-f]+ \(refcount 1, at most 1 with 1-bit refcounts\)/);
  assert.deepEqual((await image.read(0, 100)).every((b) => b === 1), true);
});

test('the refcount table grows (moves) when the image outgrows it', async () => {
  const file = new MemoryImageFile('g.qcow2');
  await createQcow2(file, { virtualSize: 8 << 20, clusterBits: 9 });
  const before = Number(viewOf(file.bytes).getBigUint64(48));
  const image = await Qcow2Image.open(file, { readOnly: false });
  const data = new Uint8Array(8 << 20);
  for (let i = 0; i < data.length; i += 4096) data[i] = (i >> 12) & 0xff;
  await image.write(0, data);
  assert.notEqual(Number(viewOf(file.bytes).getBigUint64(48)), before);
  assert.deepEqual(await image.read(0, data.length), data);
  await image.close();
  const again = await Qcow2Image.open(new MemoryImageFile('g', file.bytes, false), { readOnly: true });
  assert.deepEqual(await again.read(0, data.length), data);
});

test('overlapping writes to the same new cluster keep both', async () => {
  const file = new MemoryImageFile('c.qcow2');
  await createQcow2(file, { virtualSize: 1 << 20 });
  const image = await Qcow2Image.open(file, { readOnly: false });
  const writes = [];
  for (let i = 0; i < 64; i++) writes.push(image.write(i * 1000, new Uint8Array(1000).fill(i + 1)));
  await Promise.all(writes);
  const back = await image.read(0, 64_000);
  for (let i = 0; i < 64; i++) assert.ok(back.subarray(i * 1000, (i + 1) * 1000).every((b) => b === i + 1), `write ${i}`);
  await image.close();
});

test('mutated or truncated images give a clean ImageError or a read, never another error or a hang', async () => {
  const { bytes } = await sampleImage();
  let seed = 12345;
  const rnd = (n: number): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed % n;
  };
  // Metadata lives in the first clusters and wherever tables were allocated: mutate anywhere.
  let errors = 0;
  for (let round = 0; round < 300; round++) {
    // One round in five cuts the file short as well (a truncated download or copy).
    const b = bytes.slice(0, rnd(5) === 0 ? rnd(bytes.length) : bytes.length);
    for (let k = 0; k < 1 + rnd(4) && b.length > 0; k++) {
      const at = rnd(4) === 0 ? rnd(Math.min(128, b.length)) : rnd(b.length);
      b[at] = rnd(256);
    }
    try {
      const image = await Qcow2Image.open(new MemoryImageFile('fuzz', b), { readOnly: rnd(2) === 0 });
      await image.read(0, Math.min(image.virtualSize, 1 << 20));
      if (!image.readOnly) await image.write(rnd(200) * 1000, new Uint8Array(5000).fill(7));
      for (const s of image.listSnapshots()) await image.readVmState(s.id);
      await image.close();
    } catch (e) {
      if (!(e instanceof ImageError)) throw new Error(`round ${round}: not an ImageError: ${e instanceof Error ? e.stack : String(e)}`);
      assert.doesNotMatch(e.message, /\n/);
      errors++;
    }
  }
  assert.ok(errors > 30, `only ${errors} of 300 mutations were caught`);
});

test('writes racing snapshot create, apply and delete leave a consistent image', async () => {
  const file = new MemoryImageFile('race.qcow2');
  await createQcow2(file, { virtualSize: 512 * KiB, clusterBits: 12 });
  const image = await Qcow2Image.open(file, { readOnly: false });
  const burst = (seed: number): Array<Promise<void>> =>
    Array.from({ length: 40 }, (_, i) => image.write(((seed * 7919 + i * 12_347) % 500) * KiB, new Uint8Array(5000).fill(seed + i)));
  const ops = [
    ...burst(1), image.createSnapshot({ name: 'a', vmState: new Uint8Array(9000).fill(1) }), ...burst(2),
    image.createSnapshot({ name: 'b' }), ...burst(3), image.applySnapshot('a'), ...burst(4),
    image.deleteSnapshot('b'), ...burst(5),
  ];
  await Promise.all(ops);
  assert.deepEqual(image.listSnapshots().map((s) => s.name), ['a']);
  await image.close();
  const report = await checkQcow2(new MemoryImageFile('race.qcow2', file.bytes, false));
  assert.deepEqual({ corruptions: report.corruptions, leaks: report.leaks, checkErrors: report.checkErrors }, { corruptions: 0, leaks: 0, checkErrors: 0 }, JSON.stringify(report.problems));
});
