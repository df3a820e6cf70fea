import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nodeBackingOpener, openImageFile, resolveBackingName } from './image-file.js';

function tempDir(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'replayvm-imagefile-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('openImageFile reads to EOF, writes, truncates and flushes', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'disk.img');
  writeFileSync(path, Uint8Array.from([1, 2, 3, 4, 5]));
  const f = await openImageFile(path, { writable: true });
  assert.equal(await f.size(), 5);
  const buf = new Uint8Array(8).fill(0xee);
  assert.equal(await f.read(buf, 2), 3);
  assert.deepEqual([...buf], [3, 4, 5, 0xee, 0xee, 0xee, 0xee, 0xee]);
  await f.write(Uint8Array.from([9, 9]), 7);
  await f.flush();
  assert.deepEqual([...readFileSync(path)], [1, 2, 3, 4, 5, 0, 0, 9, 9]);
  await f.truncate(3);
  assert.equal(await f.size(), 3);
  await f.close();
  await assert.rejects(f.size(), /after close/);
});

test('a read-only ImageFile refuses writes; a missing file is refused in QEMU words', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'disk.img');
  writeFileSync(path, new Uint8Array(4));
  const f = await openImageFile(path, { writable: false });
  await assert.rejects(f.write(new Uint8Array(1), 0), /read-only/);
  await f.close();
  await assert.rejects(openImageFile(join(dir, 'nope'), { writable: false }), /Could not open '.*nope': No such file or directory/);
  await assert.rejects(openImageFile(dir, { writable: false }), /Is a directory/);
});

test('backing names resolve against the directory of the file naming them, as QEMU does', () => {
  assert.equal(resolveBackingName('base.qcow2', '/images/vm/top.qcow2'), '/images/vm/base.qcow2');
  assert.equal(resolveBackingName('../b/base.raw', 'vm/top.qcow2'), join('b', 'base.raw'));
  assert.equal(resolveBackingName('/abs/base', '/images/top.qcow2'), '/abs/base');
  assert.equal(resolveBackingName('base', 'top.qcow2'), 'base');
  assert.equal(resolveBackingName('./a:b', '/x/top.qcow2'), '/x/a:b');
  assert.throws(() => resolveBackingName('nbd:localhost:10809', '/x/top'), /'nbd:' protocol/);
  assert.throws(() => resolveBackingName('json:{"file":"x"}', '/x/top'), /json:/);
});

test('nodeBackingOpener opens the backing file read-only', async (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'base.img'), new Uint8Array(512));
  const top = await openImageFile(join(dir, 'base.img'), { writable: false });
  const base = await nodeBackingOpener('base.img', top);
  assert.equal(base.writable, false);
  assert.equal(base.name, join(dir, 'base.img'));
  await base.close();
  await top.close();
  await assert.rejects(nodeBackingOpener('missing.img', top), /Could not open/);
});
