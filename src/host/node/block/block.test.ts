import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { BlockBackend, BlockOpenSpec } from './block-backend.js';
import { BlockBackendError } from './block-backend.js';
import { OverlayBlockBackend } from './overlay-backend.js';
import { openBlockBackend } from './open.js';

function tempDir(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'replayvm-blk-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A file of `size` bytes where byte i is (i * 7 + (i >> 9)) & 0xff. */
function patternFile(path: string, size: number): Uint8Array {
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i++) bytes[i] = (i * 7 + (i >> 9)) & 0xff;
  writeFileSync(path, bytes);
  return bytes;
}

function spec(file: string, over: Partial<BlockOpenSpec> = {}): BlockOpenSpec {
  return { file, readOnly: false, snapshot: false, cache: 'writeback', ...over };
}

function read(b: BlockBackend, offset: number, length: number): Promise<Uint8Array> {
  return new Promise((resolve, reject) => b.read(offset, length, (err, data) => (err === undefined ? resolve(data) : reject(new Error(err)))));
}

function write(b: BlockBackend, offset: number, data: Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => b.write(offset, data, (err) => (err === undefined ? resolve() : reject(new Error(err)))));
}

function writeError(b: BlockBackend, offset: number, data: Uint8Array): Promise<string | undefined> {
  return new Promise((resolve) => b.write(offset, data, resolve));
}

function flush(b: BlockBackend): Promise<void> {
  return new Promise((resolve, reject) => b.flush((err) => (err === undefined ? resolve() : reject(new Error(err)))));
}

function sha256(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

function fill(length: number, value: number): Uint8Array {
  return new Uint8Array(length).fill(value);
}

async function rejectsWith(p: Promise<unknown>, message: string): Promise<void> {
  await assert.rejects(p, (e: unknown) => e instanceof BlockBackendError && e.message === message);
}

test('read/write round trip reaches the file; flush in every cache mode', async (t) => {
  const dir = tempDir(t);
  for (const cache of ['writeback', 'writethrough', 'none', 'directsync', 'unsafe'] as const) {
    const path = join(dir, `${cache}.img`);
    const original = patternFile(path, 8192);
    const b = await openBlockBackend(spec(path, { cache }));
    assert.equal(b.byteLength, 8192);
    assert.equal(b.readOnly, false);
    assert.equal(b.cache, cache);
    assert.deepEqual(await read(b, 512, 1024), original.subarray(512, 1536));
    await write(b, 1024, fill(512, 0xab));
    await write(b, 100, fill(10, 0xcd)); // not sector aligned: the file backend does not care
    await flush(b);
    const back = await read(b, 0, 8192);
    assert.deepEqual(back.subarray(1024, 1536), fill(512, 0xab));
    assert.deepEqual(back.subarray(100, 110), fill(10, 0xcd));
    assert.deepEqual(back.subarray(1536), original.subarray(1536));
    await b.close();
    const file = readFileSync(path);
    assert.deepEqual(new Uint8Array(file.subarray(1024, 1536)), fill(512, 0xab));
    assert.deepEqual(new Uint8Array(file.subarray(100, 110)), fill(10, 0xcd));
  }
});

test('write data may be a view of a SharedArrayBuffer (guest RAM)', async (t) => {
  const path = join(tempDir(t), 'disk.img');
  patternFile(path, 4096);
  const b = await openBlockBackend(spec(path));
  const ram = new Uint8Array(new SharedArrayBuffer(8192));
  ram.fill(0x5a, 1000, 1512);
  await write(b, 512, ram.subarray(1000, 1512));
  assert.deepEqual(await read(b, 512, 512), fill(512, 0x5a));
  await b.close();
});

test('snapshot=on: reads see the writes, the image file never changes', async (t) => {
  const path = join(tempDir(t), 'disk.img');
  const original = patternFile(path, 16 * 512);
  const before = sha256(path);
  chmodSync(path, 0o444); // snapshot opens the image read-only
  const b = await openBlockBackend(spec(path, { snapshot: true }));
  assert.ok(b instanceof OverlayBlockBackend);
  assert.equal(b.readOnly, false);
  await write(b, 512, fill(1024, 1)); // sectors 1, 2
  await write(b, 5 * 512 + 100, fill(600, 2)); // partial sectors 5 and 6: read-modify-write
  await write(b, 5 * 512 + 50, fill(10, 3)); // partial sector already in the overlay
  await flush(b);
  const all = await read(b, 0, 16 * 512);
  const expected = original.slice();
  expected.fill(1, 512, 1536);
  expected.fill(2, 5 * 512 + 100, 5 * 512 + 700);
  expected.fill(3, 5 * 512 + 50, 5 * 512 + 60);
  assert.deepEqual(all, expected);
  // A read entirely inside the overlay, and one straddling overlay and base.
  assert.deepEqual(await read(b, 600, 300), expected.subarray(600, 900));
  assert.deepEqual(await read(b, 1000, 1000), expected.subarray(1000, 2000));
  assert.equal(b.dirtySectorCount, 4);
  assert.deepEqual([...b.exportDirty()].map(([i]) => i), [1, 2, 5, 6]);
  const sector5 = [...b.exportDirty()][2]?.[1];
  assert.deepEqual(sector5, expected.subarray(5 * 512, 6 * 512));
  await b.close();
  assert.equal(sha256(path), before);
});

test('snapshot overlays export and restore their sectors; discardDirty drops them', async (t) => {
  const path = join(tempDir(t), 'disk.img');
  const original = patternFile(path, 8 * 512);
  const a = await openBlockBackend(spec(path, { snapshot: true })) as OverlayBlockBackend;
  await write(a, 3 * 512, fill(512, 9));
  await write(a, 0, fill(512, 8));
  const saved = [...a.exportDirty()];
  assert.deepEqual(saved.map(([i]) => i), [0, 3]);
  const b = await openBlockBackend(spec(path, { snapshot: true })) as OverlayBlockBackend;
  b.restoreDirty(saved);
  assert.deepEqual(await read(b, 0, 4096), await read(a, 0, 4096));
  assert.throws(() => b.restoreDirty([[8, fill(512, 0)]]), /outside the image/);
  assert.throws(() => b.restoreDirty([[1, fill(100, 0)]]), /not 512/);
  assert.equal(b.dirtySectorCount, 2); // unchanged by the failed restores
  b.discardDirty();
  assert.deepEqual(await read(b, 0, 4096), original);
  await a.close();
  await b.close();
});

test('readonly=on: writes fail with an error string, reads work, the file is unchanged', async (t) => {
  const path = join(tempDir(t), 'disk.img');
  const original = patternFile(path, 2048);
  chmodSync(path, 0o444);
  const before = sha256(path);
  for (const snapshot of [false, true]) {
    const b = await openBlockBackend(spec(path, { readOnly: true, snapshot }));
    assert.equal(b.readOnly, true);
    assert.equal(await writeError(b, 0, fill(512, 1)), 'the drive is read-only');
    assert.deepEqual(await read(b, 0, 2048), original);
    await flush(b);
    await b.close();
  }
  assert.equal(sha256(path), before);
});

test('open errors are one line, in QEMU words', async (t) => {
  const dir = tempDir(t);
  await rejectsWith(openBlockBackend(spec('disk.img')), "-drive file=disk.img: Could not open 'disk.img': No such file or directory");
  const missing = join(dir, 'nope.img');
  await rejectsWith(openBlockBackend(spec(missing, { where: `-drive file=${missing},if=virtio` })),
    `-drive file=${missing},if=virtio: Could not open '${missing}': No such file or directory`);
  for (const readOnly of [false, true]) {
    await rejectsWith(openBlockBackend(spec(dir, { readOnly })), `-drive file=${dir}: Could not open '${dir}': Is a directory`);
  }
  const odd = join(dir, 'odd.img');
  writeFileSync(odd, new Uint8Array(1000));
  for (const snapshot of [false, true]) {
    // As QEMU: whole sectors, the last one completed with zeros.
    const d = await openBlockBackend(spec(odd, { snapshot, format: 'raw' }));
    assert.equal(d.byteLength, 1024);
    assert.deepEqual(await read(d, 512, 512), new Uint8Array(512));
    if (!snapshot) {
      // The completing zeros are not in the file: a write there is refused (QEMU would grow the file).
      assert.equal(await writeError(d, 512, fill(512, 1)), 'write beyond the end of the image file (offset 512, length 512, image size 1000)');
      assert.equal(await writeError(d, 0, fill(512, 1)), undefined);
    }
    await d.close();
  }
  const qcow = join(dir, 'q.img');
  const header = new Uint8Array(512);
  header.set([0x51, 0x46, 0x49, 0xfb, 0, 0, 0, 3]);
  writeFileSync(qcow, header);
  const b = await openBlockBackend(spec(qcow, { format: 'raw' })); // format=raw: the file's bytes, as QEMU
  assert.equal(b.byteLength, 512);
  assert.deepEqual(await read(b, 0, 512), header);
  await b.close();
  const vmdk = join(dir, 'v.img');
  writeFileSync(vmdk, new Uint8Array([...'KDMV'].map((c) => c.charCodeAt(0)).concat(new Array<number>(508).fill(0))));
  await rejectsWith(openBlockBackend(spec(vmdk)),
    `-drive file=${vmdk}: '${vmdk}' is a vmdk image: format 'vmdk' is not supported (raw, qcow2; convert it with qemu-img convert -O qcow2)`);
  const empty = join(dir, 'empty.img');
  writeFileSync(empty, new Uint8Array(0));
  const e = await openBlockBackend(spec(empty));
  assert.equal(e.byteLength, 0);
  await e.close();
});

test('no write permission: read-write open fails, readonly=on and snapshot=on work', async (t) => {
  const dir = tempDir(t);
  chmodSync(dir, 0o755);
  const path = join(dir, 'disk.img');
  patternFile(path, 1024);
  chmodSync(path, 0o444);
  const message = `-drive file=${path}: Could not open '${path}': Permission denied`;
  if (process.getuid?.() !== 0) {
    await rejectsWith(openBlockBackend(spec(path)), message);
    return;
  }
  // Root ignores file modes: try as 'nobody' in a child process.
  const openJs = fileURLToPath(new URL('./open.js', import.meta.url));
  const script = `process.setuid(65534);
    const { openBlockBackend } = await import(${JSON.stringify(openJs)});
    const s = { file: ${JSON.stringify(path)}, readOnly: false, snapshot: false, cache: 'writeback' };
    const out = [];
    try { await openBlockBackend(s); out.push('opened'); } catch (e) { out.push(e.message); }
    for (const o of [{ readOnly: true }, { snapshot: true }]) {
      const b = await openBlockBackend({ ...s, ...o }); out.push(String(b.byteLength)); await b.close();
    }
    console.log(JSON.stringify(out));`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  if (r.status !== 0 && /EPERM|setuid/.test(r.stderr)) {
    t.skip('cannot drop root privileges here');
    return;
  }
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), [message, '1024', '1024']);
});

test('concurrent requests all complete, in any order, with the right data', async (t) => {
  const path = join(tempDir(t), 'disk.img');
  patternFile(path, 256 * 512);
  for (const snapshot of [false, true]) {
    const b = await openBlockBackend(spec(path, { snapshot }));
    const writes: Array<Promise<void>> = [];
    for (let s = 0; s < 256; s += 2) writes.push(write(b, s * 512, fill(512, (s + (snapshot ? 1 : 0)) & 0xff)));
    await Promise.all(writes);
    const reads: Array<Promise<Uint8Array>> = [];
    for (let s = 0; s < 256; s += 2) reads.push(read(b, s * 512, 512));
    const results = await Promise.all(reads);
    results.forEach((data, k) => assert.deepEqual(data, fill(512, (2 * k + (snapshot ? 1 : 0)) & 0xff)));
    // Interleaved reads, writes and flushes in flight together, then close waits for them.
    const mixed: Array<Promise<unknown>> = [];
    for (let s = 1; s < 256; s += 2) {
      mixed.push(write(b, s * 512, fill(512, 0xee)), read(b, (s - 1) * 512, 512), flush(b));
    }
    const closing = Promise.all(mixed).then(() => b.close());
    await closing;
  }
});

test('callbacks run asynchronously; bad ranges and closed drives fail', async (t) => {
  const path = join(tempDir(t), 'disk.img');
  patternFile(path, 1024);
  for (const snapshot of [false, true]) {
    const b = await openBlockBackend(spec(path, { snapshot }));
    let sync = true;
    const err = await new Promise<string | undefined>((resolve) => {
      b.read(1000, 100, (e) => {
        assert.equal(sync, false);
        resolve(e);
      });
      sync = false;
    });
    assert.equal(err, 'request beyond the end of the image (offset 1000, length 100, image size 1024)');
    assert.equal(await writeError(b, -512, fill(512, 0)), 'invalid request (offset -512, length 512)');
    assert.equal((await read(b, 1024, 0)).length, 0);
    await b.close();
    await b.close(); // idempotent
    assert.equal(await writeError(b, 0, fill(512, 0)), 'the drive is closed');
  }
});
