import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { BackingOpener } from './image-file.js';
import { ImageError } from './errors.js';
import { MemoryImageFile } from './memory-file.js';
import { MAX_BACKING_DEPTH, openImage, probeImageFormat } from './open-image.js';
import { createQcow2 } from './qcow2/create.js';
import type { ImageFormat } from './block-image.js';

const KiB = 1024;

test('probeImageFormat: qcow2 magic with version 2 or more is qcow2; qcow version 1, other magics and short files are raw', () => {
  const head = (magic: number[], version: number): Uint8Array => Uint8Array.from([...magic, 0, 0, 0, version]);
  assert.equal(probeImageFormat(head([0x51, 0x46, 0x49, 0xfb], 3)), 'qcow2');
  assert.equal(probeImageFormat(head([0x51, 0x46, 0x49, 0xfb], 2)), 'qcow2');
  assert.equal(probeImageFormat(head([0x51, 0x46, 0x49, 0xfb], 1)), 'raw');
  assert.equal(probeImageFormat(head([0x3c, 0x3c, 0x3c, 0x20], 3)), 'raw');
  assert.equal(probeImageFormat(Uint8Array.of(0x51, 0x46, 0x49, 0xfb)), 'raw');
  assert.equal(probeImageFormat(new Uint8Array(0)), 'raw');
});

/** Files by name, and an opener that finds them (names as the header stores them). */
function store(): { files: Map<string, MemoryImageFile>; opener: BackingOpener } {
  const files = new Map<string, MemoryImageFile>();
  const opener: BackingOpener = (name) => {
    const f = files.get(name);
    if (f === undefined) return Promise.reject(new Error(`Could not open '${name}': No such file or directory`));
    return Promise.resolve(new MemoryImageFile(name, f.bytes, false));
  };
  return { files, opener };
}

async function qcow2(name: string, size: number, backing?: { name: string; format: ImageFormat }): Promise<MemoryImageFile> {
  const f = new MemoryImageFile(name);
  await createQcow2(f, { virtualSize: size, clusterBits: 12, ...(backing !== undefined ? { backing } : {}) });
  return f;
}

test('openImage opens a chain: qcow2 over qcow2 over raw, reading through every level', async () => {
  const { files, opener } = store();
  const raw = new Uint8Array(64 * KiB).fill(1);
  files.set('base.raw', new MemoryImageFile('base.raw', raw));
  files.set('mid.qcow2', await qcow2('mid.qcow2', 64 * KiB, { name: 'base.raw', format: 'raw' }));
  const mid = await openImage(new MemoryImageFile('mid.qcow2', files.get('mid.qcow2')?.bytes), { readOnly: false, openBacking: opener });
  await mid.write(8 * KiB, new Uint8Array(KiB).fill(2));
  await mid.close();
  files.set('mid.qcow2', new MemoryImageFile('mid.qcow2', mid.file instanceof MemoryImageFile ? mid.file.bytes : new Uint8Array(0)));
  const top = await qcow2('top.qcow2', 96 * KiB, { name: 'mid.qcow2', format: 'qcow2' });
  const image = await openImage(top, { readOnly: true, openBacking: opener });
  assert.equal(image.format, 'qcow2');
  assert.equal(image.backing?.format, 'qcow2');
  assert.equal(image.backing?.backing?.format, 'raw');
  const back = await image.read(0, 96 * KiB);
  assert.ok(back.subarray(0, 8 * KiB).every((b) => b === 1));
  assert.ok(back.subarray(8 * KiB, 9 * KiB).every((b) => b === 2));
  assert.ok(back.subarray(9 * KiB, 64 * KiB).every((b) => b === 1));
  assert.ok(back.subarray(64 * KiB).every((b) => b === 0), 'past the backing file: zeros');
  await image.close();
});

test('openImage refuses a loop, a too-deep chain, a missing backing file, an unsupported backing format and an image with a backing file but no opener', async () => {
  const { files, opener } = store();
  files.set('a.qcow2', await qcow2('a.qcow2', 4 * KiB, { name: 'b.qcow2', format: 'qcow2' }));
  files.set('b.qcow2', await qcow2('b.qcow2', 4 * KiB, { name: 'a.qcow2', format: 'qcow2' }));
  await assert.rejects(openImage(await qcow2('a.qcow2', 4 * KiB, { name: 'b.qcow2', format: 'qcow2' }), { readOnly: true, openBacking: opener }), (e: unknown) => e instanceof ImageError && /backing chain loops: 'a\.qcow2' is already in the chain \(a\.qcow2 -> b\.qcow2\)/.test(e.message));
  for (let i = 0; i <= MAX_BACKING_DEPTH + 1; i++) files.set(`d${i}`, await qcow2(`d${i}`, 4 * KiB, { name: `d${i + 1}`, format: 'qcow2' }));
  await assert.rejects(openImage(await qcow2('top', 4 * KiB, { name: 'd0', format: 'qcow2' }), { readOnly: true, openBacking: opener }), /backing chain is more than 64 images deep \(at 'd\d+'\)/);
  await assert.rejects(openImage(await qcow2('top', 4 * KiB, { name: 'gone.qcow2', format: 'qcow2' }), { readOnly: true, openBacking: opener }), /^ImageError: top: Could not open backing file: Could not open 'gone\.qcow2': No such file or directory$/);
  await assert.rejects(openImage(await qcow2('top', 4 * KiB, { name: 'x', format: 'qcow2' }), { readOnly: true }), /has backing file 'x'/);
  const vhd = await qcow2('top', 4 * KiB, { name: 'x', format: 'raw' });
  const at = vhd.bytes.findIndex((_, i) => vhd.bytes[i] === 0x72 && vhd.bytes[i + 1] === 0x61 && vhd.bytes[i + 2] === 0x77);
  await vhd.write(Uint8Array.of(0x76, 0x68, 0x64), at);
  await assert.rejects(openImage(vhd, { readOnly: true, openBacking: opener }), /top: backing file format 'vhd' is not supported/);
});

test('openImage: format raw is honoured on a qcow2 file; probing finds qcow2; raw images read and write', async () => {
  const f = await qcow2('q', 8 * KiB);
  const asRaw = await openImage(new MemoryImageFile('q', f.bytes), { readOnly: true, format: 'raw' });
  assert.equal(asRaw.format, 'raw');
  assert.equal(asRaw.virtualSize, f.bytes.length);
  const probed = await openImage(new MemoryImageFile('q', f.bytes), { readOnly: true });
  assert.equal(probed.format, 'qcow2');
  assert.equal(probed.virtualSize, 8 * KiB);
  const raw = new MemoryImageFile('r', new Uint8Array(4 * KiB));
  const image = await openImage(raw, { readOnly: false });
  await image.write(100, Uint8Array.of(7, 8));
  assert.deepEqual([...(await image.read(99, 4))], [0, 7, 8, 0]);
  await image.flush();
  assert.equal(raw.flushes, 1);
  await assert.rejects(image.read(4 * KiB - 1, 2), /outside the virtual disk/);
});
