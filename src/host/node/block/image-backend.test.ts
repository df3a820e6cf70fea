import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ImageError, type BlockImage, type ImageFile } from '../../../block/index.js';
import type { CacheMode } from './block-backend.js';
import { ImageBlockBackend } from './image-backend.js';

/** An in-memory BlockImage whose requests settle when the test says (`settle()`), counting calls. */
class FakeImage implements BlockImage {
  readonly format = 'qcow2' as const;
  readonly file = {} as ImageFile;
  readonly backing = undefined;
  readonly bytes: Uint8Array;
  flushes = 0;
  closed = false;
  failNext: string | undefined;
  private readonly queue: Array<() => void> = [];

  constructor(readonly virtualSize: number, readonly readOnly = false) {
    this.bytes = new Uint8Array(virtualSize);
  }

  private later<T>(fn: () => T): Promise<T> {
    const fail = this.failNext;
    this.failNext = undefined;
    return new Promise((resolve, reject) => this.queue.push(() => (fail !== undefined ? reject(new ImageError(fail)) : resolve(fn()))));
  }

  /** Completes every request issued so far. */
  settle(): void {
    for (const run of this.queue.splice(0)) run();
  }

  read(offset: number, length: number): Promise<Uint8Array> {
    return this.later(() => this.bytes.slice(offset, offset + length));
  }

  write(offset: number, data: Uint8Array): Promise<void> {
    const copy = data.slice();
    return this.later(() => this.bytes.set(copy, offset));
  }

  flush(): Promise<void> {
    return this.later(() => void this.flushes++);
  }

  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }
}

function call<T>(issue: (done: (err: string | undefined, value?: T) => void) => void): Promise<{ err: string | undefined; value: T | undefined }> {
  return new Promise((resolve) => issue((err, value) => resolve({ err, value })));
}

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

test('requests reach the image and complete asynchronously; close waits for those in flight', async () => {
  const image = new FakeImage(4096);
  const b = new ImageBlockBackend(image, 'writeback');
  assert.equal(b.byteLength, 4096);
  assert.equal(b.readOnly, false);
  let synchronous = true;
  const w = call<void>((done) => b.write(512, new Uint8Array(512).fill(9), (err) => {
    assert.equal(synchronous, false);
    done(err);
  }));
  synchronous = false;
  const r = call<Uint8Array>((done) => b.read(0, 1024, done));
  const closing = b.close();
  await tick();
  assert.equal(image.closed, false, 'close waits for the two requests');
  image.settle();
  assert.equal((await w).err, undefined);
  const read = await r;
  assert.equal(read.err, undefined);
  assert.deepEqual(read.value?.subarray(512), new Uint8Array(512).fill(9));
  await closing;
  assert.equal(image.closed, true);
  assert.equal((await call((done) => b.read(0, 512, done))).err, 'the drive is closed');
  assert.equal((await call((done) => b.flush(done))).err, 'the drive is closed');
});

test('flush per cache mode; writethrough flushes each write', async () => {
  const expected: Array<[CacheMode, number]> = [['writeback', 1], ['none', 1], ['unsafe', 0], ['writethrough', 2], ['directsync', 2]];
  for (const [cache, flushes] of expected) {
    const image = new FakeImage(1024);
    const b = new ImageBlockBackend(image, cache);
    const w = call((done) => b.write(0, new Uint8Array(512), done));
    image.settle();
    await tick();
    image.settle(); // the writethrough flush after the write
    assert.equal((await w).err, undefined);
    const f = call((done) => b.flush(done));
    await tick();
    image.settle();
    assert.equal((await f).err, undefined);
    assert.equal(image.flushes, flushes, cache);
    await b.close();
  }
});

test('bad requests, read-only images and image errors fail with one-line strings', async () => {
  const image = new FakeImage(1024, true);
  const b = new ImageBlockBackend(image, 'writeback');
  assert.equal(b.readOnly, true);
  assert.equal((await call((done) => b.write(0, new Uint8Array(512), done))).err, 'the drive is read-only');
  assert.equal((await call((done) => b.read(1000, 100, done))).err, 'request beyond the end of the image (offset 1000, length 100, image size 1024)');
  assert.equal((await call((done) => b.flush(done))).err, undefined); // nothing to make durable
  image.failNext = 'disk.qcow2: L2 table entry 3 of L1 entry 0 points past the end of the file';
  const r = call<Uint8Array>((done) => b.read(0, 512, done));
  image.settle();
  const failed = await r;
  assert.equal(failed.err, 'read error at offset 0: disk.qcow2: L2 table entry 3 of L1 entry 0 points past the end of the file');
  assert.equal(failed.value?.length, 0);
  await b.close();
});
