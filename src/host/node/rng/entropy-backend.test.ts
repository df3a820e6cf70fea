import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EntropyBackend } from './entropy-backend.js';
import { EntropyBackendError, MAX_ENTROPY_READ, openEntropyBackend } from './entropy-backend.js';

/** Whether `p` settles within `ms` milliseconds. */
async function settlesWithin(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  const r = await Promise.race([p.then(() => true), timeout]);
  clearTimeout(timer);
  return r;
}

function read(b: EntropyBackend, length: number): Promise<Uint8Array> {
  return new Promise((resolve) => b.read(length, resolve));
}

/** Reads asserting the callback does not run inside `read`. */
function readAsync(b: EntropyBackend, length: number): Promise<Uint8Array> {
  let inside = true;
  const p = new Promise<Uint8Array>((resolve) => b.read(length, (bytes) => {
    assert.equal(inside, false, 'callback ran synchronously');
    resolve(bytes);
  }));
  inside = false;
  return p;
}

test('rng-builtin gives the requested number of random bytes, asynchronously', async () => {
  const b = await openEntropyBackend('builtin');
  const a = await readAsync(b, 64);
  const c = await readAsync(b, 64);
  assert.equal(a.length, 64);
  assert.notDeepEqual(a, c);
  assert.equal((await readAsync(b, 0)).length, 0);
  assert.equal((await read(b, MAX_ENTROPY_READ + 1)).length, MAX_ENTROPY_READ);
  const many = await Promise.all(Array.from({ length: 16 }, () => read(b, 16)));
  assert.ok(many.every((x) => x.length === 16));
  await b.close();
  assert.equal(await settlesWithin(read(b, 8), 50), false, 'a closed source gives nothing');
});

test('rng-random reads /dev/urandom', { skip: !existsSync('/dev/urandom') }, async () => {
  const b = await openEntropyBackend('urandom');
  const [x, y] = await Promise.all([readAsync(b, 32), readAsync(b, 32)]);
  assert.equal(x.length, 32);
  assert.equal(y.length, 32);
  assert.notDeepEqual(x, y);
  await b.close();
  assert.equal(b.lastError, undefined);
});

test('rng-random on a regular file reads it in order; when it runs dry, reads stay pending', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'replayvm-rng-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'entropy.bin');
  writeFileSync(path, Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]));
  const errors: string[] = [];
  const b = await openEntropyBackend({ file: path }, undefined, (m) => errors.push(m));
  assert.deepEqual(await read(b, 4), Uint8Array.from([1, 2, 3, 4]));
  assert.deepEqual(await read(b, 100), Uint8Array.from([5, 6, 7, 8, 9, 10]));
  assert.equal(await settlesWithin(read(b, 4), 100), false, 'no bytes: the request must not complete');
  assert.equal(await settlesWithin(read(b, 4), 50), false);
  assert.equal(b.lastError, 'end of file');
  assert.deepEqual(errors, [`rng-random: reading '${path}': end of file (no more entropy)`]);
  await b.close();
});

test('rng-random: a file that cannot be opened is a clear one-line error', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'replayvm-rng-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const missing = join(dir, 'nope');
  const where = `-object rng-random,id=rng0,filename=${missing}`;
  await assert.rejects(openEntropyBackend({ file: missing }, where),
    (e: unknown) => e instanceof EntropyBackendError && e.message === `${where}: Could not open '${missing}': No such file or directory`);
  await assert.rejects(openEntropyBackend({ file: dir }),
    (e: unknown) => e instanceof EntropyBackendError && e.message === `Could not open '${dir}': Is a directory`);
});
