/**
 * qcow2 interoperability with QEMU's own tools (qemu-img, qemu-io from qemu-utils; the tests
 * fail if they are missing): images QEMU makes read as `qemu-img convert -O raw` says, and
 * images we write, snapshot and create pass `qemu-img check` and read back in QEMU as written.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BlockImage, ImageError, MemoryImageFile, Qcow2Image, createQcow2, openImage } from '../../src/block/index.js';
import { nodeBackingOpener, openImageFile } from '../../src/host/node/block/image-file.js';
import { seededRandom } from '../helpers/host-utils.js';

const MiB = 1 << 20;

/** Runs a QEMU tool; throws (failing the test) if it is missing or fails. */
function qemu(tool: 'qemu-img' | 'qemu-io', args: string[]): string {
  const r = spawnSync(tool, args, { encoding: 'utf8' });
  if (r.error !== undefined) throw new Error(`${tool} is needed for this test (apt-get install qemu-utils): ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${tool} ${args.join(' ')} failed (${r.status}): ${r.stderr}${r.stdout}`);
  return r.stdout;
}

/** `qemu-img check` as JSON; asserts no corruption, leak or error. */
function assertClean(path: string): void {
  const r = spawnSync('qemu-img', ['check', '--output=json', path], { encoding: 'utf8' });
  if (r.error !== undefined) throw new Error(`qemu-img is needed for this test: ${r.error.message}`);
  const report = JSON.parse(r.stdout) as { corruptions?: number; leaks?: number; 'check-errors'?: number };
  assert.deepEqual({ corruptions: report.corruptions ?? 0, leaks: report.leaks ?? 0, errors: report['check-errors'] ?? 0 }, { corruptions: 0, leaks: 0, errors: 0 }, `qemu-img check ${path}: ${r.stdout}${r.stderr}`);
  assert.equal(r.status, 0, r.stderr);
}

/** What QEMU reads from the image: `qemu-img convert -O raw`. */
function qemuRead(path: string, dir: string): Uint8Array {
  const out = join(dir, `raw-${Math.random().toString(36).slice(2)}.img`);
  qemu('qemu-img', ['convert', '-O', 'raw', path, out]);
  const bytes = readFileSync(out);
  rmSync(out);
  return bytes;
}

function tempDir(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'replayvm-qcow2-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function open(path: string, readOnly = false): Promise<BlockImage> {
  const file = await openImageFile(path, { writable: !readOnly });
  try {
    return await openImage(file, { readOnly, openBacking: nodeBackingOpener });
  } catch (e) {
    await file.close();
    throw e;
  }
}

/** A raw disk of `size` bytes: random data with zero stretches and repeated runs (compressible). */
function patternDisk(size: number, seed: number): Uint8Array {
  const rnd = seededRandom(seed);
  const bytes = new Uint8Array(size);
  for (let at = 0; at < size;) {
    const len = Math.min(size - at, 1 + Math.floor(rnd() * 200_000));
    const kind = Math.floor(rnd() * 3);
    if (kind === 1) for (let i = 0; i < len; i++) bytes[at + i] = Math.floor(rnd() * 256);
    else if (kind === 2) bytes.fill(Math.floor(rnd() * 256), at, at + len);
    at += len;
  }
  return bytes;
}

function equalBytes(a: Uint8Array, b: Uint8Array, what: string): void {
  assert.equal(a.length, b.length, `${what}: length`);
  const i = a.findIndex((x, k) => x !== b[k]);
  assert.equal(i, -1, `${what}: first difference at byte ${i}`);
}

/**
 * Random writes (offsets and sizes across cluster boundaries) to `image` and `expected`, up to
 * 8 in flight. Writes in flight together never overlap: like a disk's, the order in which
 * overlapping requests land is not defined.
 */
async function randomWrites(image: BlockImage, expected: Uint8Array, seed: number, count: number, maxLength: number): Promise<void> {
  const rnd = seededRandom(seed);
  const writes: Array<Promise<void>> = [];
  const ranges: Array<[number, number]> = [];
  for (let i = 0; i < count; i++) {
    const length = 1 + Math.floor(rnd() * maxLength);
    const offset = Math.floor(rnd() * (expected.length - length));
    const data = new Uint8Array(length);
    for (let k = 0; k < length; k += 97) data[k] = Math.floor(rnd() * 256);
    data.fill(i & 0xff, 0, Math.min(length, 13));
    if (writes.length === 8 || ranges.some(([a, b]) => offset < b && a < offset + length)) {
      await Promise.all(writes.splice(0));
      ranges.length = 0;
    }
    expected.set(data, offset);
    writes.push(image.write(offset, data));
    ranges.push([offset, offset + length]);
  }
  await Promise.all(writes);
}

test('createQcow2 writes what qemu-img create -f qcow2 writes', async (t) => {
  const dir = tempDir(t);
  const cases: Array<[number, number | undefined, string | undefined]> = [
    [MiB * 1024, undefined, undefined], [5 * MiB + 512, undefined, 'base.img'], [64 * MiB, 9, undefined], [64 * MiB, 9, 'base.img'], [3 * MiB, 21, undefined],
  ];
  for (const [size, clusterBits, backing] of cases) {
    const ours = join(dir, 'ours.qcow2');
    writeFileSync(ours, '');
    const f = await openImageFile(ours, { writable: true });
    await createQcow2(f, { virtualSize: size, ...(clusterBits !== undefined ? { clusterBits } : {}), ...(backing !== undefined ? { backing: { name: backing, format: 'raw' } } : {}) });
    await f.close();
    const args = [...(clusterBits !== undefined ? ['-o', `cluster_size=${2 ** clusterBits}`] : []), ...(backing !== undefined ? ['-u', '-b', backing, '-F', 'raw'] : [])];
    qemu('qemu-img', ['create', '-f', 'qcow2', ...args, join(dir, 'theirs.qcow2'), String(size)]);
    equalBytes(readFileSync(ours), readFileSync(join(dir, 'theirs.qcow2')), `image of ${size} bytes, qemu-img create ${args.join(' ')}`);
  }
  for (const clusterBits of [9, 21]) {
    const path = join(dir, `c${clusterBits}.qcow2`);
    writeFileSync(path, '');
    const f = await openImageFile(path, { writable: true });
    await createQcow2(f, { virtualSize: 64 * MiB, clusterBits, backing: { name: 'ours.qcow2', format: 'qcow2' } });
    await f.close();
    assertClean(path);
    const info = JSON.parse(qemu('qemu-img', ['info', '--output=json', path])) as Record<string, unknown>;
    assert.equal(info['cluster-size'], 2 ** clusterBits);
    assert.equal(info['backing-filename'], 'ours.qcow2');
    assert.equal(info['backing-filename-format'], 'qcow2');
  }
});

test('images qemu-img makes (plain, compressed, 512 B and 2 MiB clusters, version 2) read as qemu-img convert says', async (t) => {
  const dir = tempDir(t);
  const raw = patternDisk(6 * MiB + 4096, 12);
  const rawPath = join(dir, 'disk.raw');
  writeFileSync(rawPath, raw);
  const variants: Array<[string, string[]]> = [
    ['plain', []],
    ['compressed', ['-c']],
    ['compressed-4k', ['-c', '-o', 'cluster_size=4096']],
    ['cluster-512', ['-o', 'cluster_size=512']],
    ['cluster-2M', ['-o', 'cluster_size=2M']],
    ['v2', ['-o', 'compat=0.10']],
    ['refcount-bits-1', ['-o', 'refcount_bits=1']],
    ['refcount-bits-64', ['-o', 'refcount_bits=64']],
  ];
  for (const [name, args] of variants) {
    const path = join(dir, `${name}.qcow2`);
    qemu('qemu-img', ['convert', '-O', 'qcow2', ...args, rawPath, path]);
    const image = await open(path, true);
    assert.equal(image.format, 'qcow2');
    assert.equal(image.virtualSize, raw.length);
    equalBytes(await image.read(0, raw.length), raw, name);
    // Unaligned pieces across cluster boundaries.
    equalBytes(await image.read(65535, 70_001), raw.subarray(65535, 65535 + 70_001), `${name} unaligned`);
    await image.close();
  }
});

test('zero clusters (preallocated and not) and unallocated clusters over a backing file read as QEMU reads them', async (t) => {
  const dir = tempDir(t);
  const base = join(dir, 'base.raw');
  writeFileSync(base, patternDisk(4 * MiB, 3));
  const top = join(dir, 'top.qcow2');
  qemu('qemu-img', ['create', '-f', 'qcow2', '-b', 'base.raw', '-F', 'raw', top, String(6 * MiB)]);
  qemu('qemu-io', ['-c', 'write -P 0x55 100k 300k', '-c', 'write -z 1M 256k', '-c', 'write -P 0x66 2M 128k', '-c', 'write -z 2M 64k', '-c', 'write -P 0x77 3900k 1M', top]);
  const image = await open(top, true);
  assert.equal(image.backing?.format, 'raw');
  equalBytes(await image.read(0, 6 * MiB), qemuRead(top, dir), 'overlay with zero clusters');
  await image.close();
});

test('our random writes on plain images, on an overlay and over compressed clusters: qemu-img check clean, qemu-img convert gives the bytes written, the base unchanged', async (t) => {
  const dir = tempDir(t);
  for (const options of ['cluster_size=65536', 'cluster_size=512', 'cluster_size=2M', 'compat=0.10', 'refcount_bits=2']) {
    const clusterSize = options;
    const path = join(dir, `plain-${options}.qcow2`);
    qemu('qemu-img', ['create', '-f', 'qcow2', '-o', options, path, String(12 * MiB)]);
    const expected = new Uint8Array(12 * MiB);
    const image = await open(path);
    await randomWrites(image, expected, 7, 300, 200_000);
    equalBytes(await image.read(0, expected.length), expected, `our read-back (${clusterSize})`);
    await image.flush();
    await image.close();
    assertClean(path);
    equalBytes(qemuRead(path, dir), expected, `qemu's read (${clusterSize})`);
  }
  const base = join(dir, 'base.qcow2');
  const baseBytes = patternDisk(8 * MiB, 5);
  writeFileSync(join(dir, 'base.raw'), baseBytes);
  qemu('qemu-img', ['convert', '-O', 'qcow2', '-c', join(dir, 'base.raw'), base]);
  const baseBefore = readFileSync(base);
  const top = join(dir, 'top.qcow2');
  qemu('qemu-img', ['create', '-f', 'qcow2', '-b', 'base.qcow2', '-F', 'qcow2', top, String(10 * MiB)]);
  const expected = new Uint8Array(10 * MiB);
  expected.set(baseBytes);
  const image = await open(top);
  await randomWrites(image, expected, 9, 200, 150_000);
  await image.close();
  assertClean(top);
  equalBytes(qemuRead(top, dir), expected, 'overlay');
  equalBytes(readFileSync(base), baseBefore, 'base file');

  // Over compressed clusters: each written one is inflated, rewritten whole and its sectors freed.
  const compressed = join(dir, 'compressed.qcow2');
  qemu('qemu-img', ['convert', '-O', 'qcow2', '-c', '-o', 'cluster_size=4096', join(dir, 'base.raw'), compressed]);
  const inPlace = baseBytes.slice();
  const c = await open(compressed);
  await randomWrites(c, inPlace, 10, 100, 30_000);
  await c.close();
  assertClean(compressed);
  equalBytes(qemuRead(compressed, dir), inPlace, 'written over compressed clusters');
});

test('backing chains: three levels, relative names resolved from each file\'s directory, a loop refused by name', async (t) => {
  const dir = tempDir(t);
  mkdirSync(join(dir, 'a'));
  mkdirSync(join(dir, 'b'));
  const raw = patternDisk(3 * MiB, 21);
  writeFileSync(join(dir, 'a', 'base.raw'), raw);
  qemu('qemu-img', ['create', '-f', 'qcow2', '-b', '../a/base.raw', '-F', 'raw', join(dir, 'b', 'mid.qcow2'), String(3 * MiB)]);
  qemu('qemu-io', ['-c', 'write -P 0x11 1M 64k', join(dir, 'b', 'mid.qcow2')]);
  qemu('qemu-img', ['create', '-f', 'qcow2', '-b', 'b/mid.qcow2', '-F', 'qcow2', join(dir, 'top.qcow2'), String(4 * MiB)]);
  qemu('qemu-io', ['-c', 'write -P 0x22 1040k 64k', join(dir, 'top.qcow2')]);
  const image = await open(join(dir, 'top.qcow2'), true);
  assert.equal(image.backing?.backing?.format, 'raw');
  equalBytes(await image.read(0, 4 * MiB), qemuRead(join(dir, 'top.qcow2'), dir), 'three-level chain');
  await image.close();

  qemu('qemu-img', ['create', '-f', 'qcow2', join(dir, 'x.qcow2'), '1M']);
  qemu('qemu-img', ['create', '-f', 'qcow2', '-b', 'x.qcow2', '-F', 'qcow2', join(dir, 'y.qcow2'), '1M']);
  qemu('qemu-img', ['rebase', '-u', '-b', 'y.qcow2', '-F', 'qcow2', join(dir, 'x.qcow2')]);
  await assert.rejects(open(join(dir, 'y.qcow2'), true), (e: unknown) => e instanceof ImageError && /backing chain loops: '.*y\.qcow2' is already in the chain/.test(e.message));
});

test('snapshots: ours listed by qemu-img snapshot -l, theirs listed and applied by us, qemu-img check clean throughout', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 's.qcow2');
  qemu('qemu-img', ['create', '-f', 'qcow2', path, String(8 * MiB)]);
  const disk = new Uint8Array(8 * MiB);
  let image = (await open(path)) as Qcow2Image;
  await randomWrites(image, disk, 1, 50, 100_000);
  const atOurs = disk.slice();
  const vmState = patternDisk(300_000, 4);
  const info = await image.createSnapshot({ name: 'ours', vmClockNs: 5_000_000_000n, icount: 123456n, vmState });
  assert.equal(info.id, '1');
  await randomWrites(image, disk, 2, 50, 100_000);
  await image.close();
  assertClean(path);
  const listing = qemu('qemu-img', ['snapshot', '-l', path]);
  assert.match(listing, /^1\s+ours\s+293 KiB .* 00:00:05\.000\s+123456$/m);
  equalBytes(qemuRead(path, dir), disk, 'active image after our snapshot');

  qemu('qemu-img', ['snapshot', '-c', 'theirs', path]);
  const atTheirs = disk.slice();
  image = (await open(path)) as Qcow2Image;
  assert.deepEqual(image.listSnapshots().map((s) => [s.id, s.name]), [['1', 'ours'], ['2', 'theirs']]);
  equalBytes(await image.readVmState('ours'), vmState, 'machine state');
  await image.applySnapshot('ours');
  equalBytes(await image.read(0, disk.length), atOurs, 'after applying ours');
  await randomWrites(image, atOurs, 3, 30, 100_000);
  await image.close();
  assertClean(path);
  equalBytes(qemuRead(path, dir), atOurs, 'written after applying ours');

  image = (await open(path)) as Qcow2Image;
  await image.applySnapshot('2');
  equalBytes(await image.read(0, disk.length), atTheirs, 'after applying theirs');
  await image.deleteSnapshot('ours');
  await image.close();
  assertClean(path);
  assert.doesNotMatch(qemu('qemu-img', ['snapshot', '-l', path]), /ours/);
  qemu('qemu-img', ['snapshot', '-d', 'theirs', path]);
  assertClean(path);
  image = (await open(path)) as Qcow2Image;
  assert.deepEqual(image.listSnapshots(), []);
  await image.close();
});

test('a dirty image (QEMU killed with lazy refcounts) is repaired on a read-write open', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'lazy.qcow2');
  qemu('qemu-img', ['create', '-f', 'qcow2', '-o', 'lazy_refcounts=on', path, String(4 * MiB)]);
  // qemu-io's abort leaves the image dirty with refcounts not yet written.
  spawnSync('qemu-io', ['-c', 'write -P 0x33 0 1M', '-c', 'abort', path], { encoding: 'utf8' });
  const check = spawnSync('qemu-img', ['check', path], { encoding: 'utf8' });
  assert.notEqual(check.status, 0, 'the image should be dirty and need repair');
  const ro = await open(path, true);
  assert.ok((await ro.read(0, MiB)).every((b) => b === 0x33));
  await ro.close();
  const image = await open(path);
  await image.write(2 * MiB, new Uint8Array(4096).fill(0x44));
  await image.close();
  assertClean(path);
  const back = qemuRead(path, dir);
  assert.ok(back.subarray(0, MiB).every((b) => b === 0x33));
  assert.ok(back.subarray(2 * MiB, 2 * MiB + 4096).every((b) => b === 0x44));
});

test('qemu-img sees what a Qcow2Image flushed while it is still open', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'f.qcow2');
  const f = await openImageFile(path, { writable: true }).catch(() => {
    writeFileSync(path, '');
    return openImageFile(path, { writable: true });
  });
  await createQcow2(f, { virtualSize: 2 * MiB });
  const image = await Qcow2Image.open(f, { readOnly: false });
  await image.write(4096, new Uint8Array(100).fill(0xab));
  await image.flush();
  const back = qemuRead(path, dir);
  assert.ok(back.subarray(4096, 4196).every((b) => b === 0xab));
  await image.close();
});

/** An in-memory ImageFile that logs every write and truncate, to replay any prefix of them (a crash). */
class RecordingFile extends MemoryImageFile {
  readonly log: Array<{ offset: number; data: Uint8Array } | { size: number }> = [];

  override async write(data: Uint8Array, offset: number): Promise<void> {
    this.log.push({ offset, data: data.slice() });
    await super.write(data, offset);
  }

  override async truncate(size: number): Promise<void> {
    this.log.push({ size });
    await super.truncate(size);
  }
}

test('a process killed after any write leaves at worst leaked clusters (qemu-img check on prefixes of the write log)', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'start.qcow2');
  // 512-byte clusters: new refcount blocks and a refcount table move happen within a few MiB.
  qemu('qemu-img', ['create', '-f', 'qcow2', '-o', 'cluster_size=512', path, String(4 * MiB)]);
  const start = readFileSync(path);
  const file = new RecordingFile('crash.qcow2', start);
  const image = await Qcow2Image.open(file, { readOnly: false });
  const disk = new Uint8Array(4 * MiB);
  await randomWrites(image, disk, 11, 60, 40_000);
  await image.createSnapshot({ name: 's1', vmState: new Uint8Array(3000).fill(1) });
  await randomWrites(image, disk, 12, 40, 20_000);
  await image.applySnapshot('s1');
  await randomWrites(image, disk, 13, 20, 20_000);
  await image.deleteSnapshot('s1');
  await image.close();
  const log = file.log;
  assert.ok(log.length > 500, `expected a long write log, got ${log.length}`);
  const samples = 120;
  const crashPath = join(dir, 'crash.qcow2');
  let leaky = 0;
  for (let s = 1; s <= samples; s++) {
    const upTo = Math.round((s * log.length) / samples);
    const f = new MemoryImageFile('replay', start);
    for (const op of log.slice(0, upTo)) {
      if ('size' in op) await f.truncate(op.size);
      else await f.write(op.data, op.offset);
    }
    writeFileSync(crashPath, f.bytes);
    const r = spawnSync('qemu-img', ['check', crashPath], { encoding: 'utf8' });
    if (r.error !== undefined) throw new Error(`qemu-img is needed for this test: ${r.error.message}`);
    // The one error allowed: a COPIED flag still clear on a cluster whose refcount already fell
    // to 1 (snapshot delete/apply; it costs a needless copy, never data). A flag set on a
    // shared cluster, or a refcount below the references, is corruption.
    const errors = `${r.stdout}${r.stderr}`.split('\n').filter((l) => /ERROR/.test(l) && !/^ERROR OFLAG_COPIED .*refcount=1$/.test(l));
    assert.deepEqual(errors.slice(0, 5), [], `after ${upTo} of ${log.length} writes`);
    if (/leaked clusters were found/.test(r.stdout)) leaky++;
  }
  // The full log is a clean image.
  assertClean(crashPath);
  t.diagnostic(`${log.length} writes, ${samples} crash points, ${leaky} with leaked clusters`);
});
