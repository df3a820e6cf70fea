import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createQcow2 } from '../../../block/index.js';
import type { BlockOpenSpec, ClosableBlockBackend } from './block-backend.js';
import { BlockBackendError } from './block-backend.js';
import { openImageFile } from './image-file.js';
import { imageVirtualSize, openBlockBackend, OverlayBlockBackend } from './open.js';

function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'replayvm-qcow2-drive-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function qcow2(path: string, virtualSize: number, backing?: { name: string; format: 'raw' | 'qcow2' }): Promise<void> {
  writeFileSync(path, new Uint8Array(0));
  const file = await openImageFile(path, { writable: true });
  await createQcow2(file, { virtualSize, clusterBits: 12, ...(backing !== undefined ? { backing } : {}) });
  await file.close();
}

function spec(file: string, over: Partial<BlockOpenSpec> = {}): BlockOpenSpec {
  return { file, readOnly: false, snapshot: false, cache: 'writeback', ...over };
}

function read(b: ClosableBlockBackend, offset: number, length: number): Promise<Uint8Array> {
  return new Promise((resolve, reject) => b.read(offset, length, (err, data) => (err === undefined ? resolve(data) : reject(new Error(err)))));
}

function write(b: ClosableBlockBackend, offset: number, data: Uint8Array): Promise<string | undefined> {
  return new Promise((resolve) => b.write(offset, data, resolve));
}

function flush(b: ClosableBlockBackend): Promise<string | undefined> {
  return new Promise((resolve) => b.flush(resolve));
}

const sha256 = (path: string): string => createHash('sha256').update(readFileSync(path)).digest('hex');

test('a qcow2 overlay on a raw base, probed: reads through the chain, writes land in the overlay, the base never changes', async (t) => {
  const dir = tempDir(t);
  const base = join(dir, 'base.img');
  const baseBytes = new Uint8Array(64 * 1024).map((_, i) => (i * 13) & 0xff);
  writeFileSync(base, baseBytes);
  const baseHash = sha256(base);
  const top = join(dir, 'top.qcow2');
  await qcow2(top, 128 * 1024, { name: 'base.img', format: 'raw' }); // relative to top's folder
  assert.equal(await imageVirtualSize(spec(top)), 128 * 1024);

  const warnings: string[] = [];
  const b = await openBlockBackend(spec(top), (w) => warnings.push(w));
  assert.deepEqual(warnings, [], 'no warning for a probed qcow2 image');
  assert.equal(b.byteLength, 128 * 1024);
  assert.deepEqual(await read(b, 0, 64 * 1024), baseBytes);
  assert.deepEqual(await read(b, 64 * 1024, 4096), new Uint8Array(4096)); // past the base's end: zeros
  assert.equal(await write(b, 4096 - 512, new Uint8Array(1024).fill(0xee)), undefined); // across a cluster boundary
  assert.equal(await flush(b), undefined);
  await b.close();
  assert.equal(sha256(base), baseHash);

  const again = await openBlockBackend(spec(top, { format: 'qcow2', readOnly: true }));
  assert.equal(again.readOnly, true);
  const expected = baseBytes.slice(0, 8192);
  expected.fill(0xee, 4096 - 512, 4096 + 512);
  assert.deepEqual(await read(again, 0, 8192), expected);
  assert.equal(await write(again, 0, new Uint8Array(512)), 'the drive is read-only');
  await again.close();
});

test('snapshot=on over a qcow2 image: writes stay in memory, the files never change', async (t) => {
  const dir = tempDir(t);
  const top = join(dir, 'disk.qcow2');
  await qcow2(top, 64 * 1024);
  assert.equal(await imageVirtualSize(spec(top)), 64 * 1024);
  const before = sha256(top);
  const b = await openBlockBackend(spec(top, { snapshot: true }));
  assert.ok(b instanceof OverlayBlockBackend);
  assert.equal(await write(b, 512, new Uint8Array(512).fill(1)), undefined);
  assert.deepEqual(await read(b, 512, 512), new Uint8Array(512).fill(1));
  await b.close();
  assert.equal(sha256(top), before);
});

test('format=raw on a qcow2 file exposes its bytes; a broken qcow2 image is one line naming the option', async (t) => {
  const dir = tempDir(t);
  const top = join(dir, 'disk.qcow2');
  await qcow2(top, 64 * 1024);
  const raw = await openBlockBackend(spec(top, { format: 'raw', readOnly: true }));
  const fileBytes = new Uint8Array(readFileSync(top));
  assert.equal(raw.byteLength, Math.ceil(fileBytes.length / 512) * 512);
  assert.deepEqual((await read(raw, 0, 512)).subarray(0, 4), fileBytes.subarray(0, 4));
  await raw.close();

  const broken = join(dir, 'broken.qcow2');
  const bytes = new Uint8Array(fileBytes);
  bytes[7] = 9; // version 9
  writeFileSync(broken, bytes);
  const where = `-drive file=${broken},if=virtio`;
  await assert.rejects(openBlockBackend(spec(broken, { where })), (e: unknown) =>
    e instanceof BlockBackendError && e.message.startsWith(`${where}: `) && e.message.includes(broken) && !e.message.includes('\n'));
  // Its lock went with the failure: a writer gets the image.
  writeFileSync(broken, fileBytes);
  const ok = await openBlockBackend(spec(broken));
  await ok.close();

  const missingBase = join(dir, 'orphan.qcow2');
  await qcow2(missingBase, 64 * 1024, { name: 'nowhere.img', format: 'raw' });
  await assert.rejects(openBlockBackend(spec(missingBase)), (e: unknown) =>
    e instanceof BlockBackendError && /^-drive file=.*orphan\.qcow2: .*nowhere\.img.*No such file or directory$/.test(e.message));
  // A replay needs only the virtual size: the backing file need not be there.
  assert.equal(await imageVirtualSize(spec(missingBase)), 64 * 1024);
});

test('a qcow2 drive locks its image as a writer and its backing file as a backing reader', async (t) => {
  const dir = tempDir(t);
  const base = join(dir, 'base.qcow2');
  await qcow2(base, 64 * 1024);
  const top = join(dir, 'top.qcow2');
  await qcow2(top, 64 * 1024, { name: base, format: 'qcow2' });
  const b = await openBlockBackend(spec(top));
  const inUse = (path: string, what: string): RegExp => new RegExp(`Failed to get ${what} lock\\. Is another process using the image \\[${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\]\\?$`);
  await assert.rejects(openBlockBackend(spec(top)), (e: unknown) => e instanceof Error && inUse(top, '"write"').test(e.message));
  await assert.rejects(openBlockBackend(spec(base)), (e: unknown) => e instanceof Error && inUse(base, '"write"').test(e.message));
  const reader = await openBlockBackend(spec(base, { readOnly: true }));
  await reader.close();
  await b.close();
  const writer = await openBlockBackend(spec(base));
  await writer.close();
});
