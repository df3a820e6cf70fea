import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  BACKING_READER, ImageLockError, QCOW2_WRITER, RAW_WRITER, SHARED_READER,
  lockImage, lockingUnavailable, type LockPermissions,
} from './image-lock.js';

function imageFile(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'replayvm-lock-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'disk.img');
  writeFileSync(path, new Uint8Array(4096));
  return path;
}

/** The byte ranges /proc/locks shows as OFD read locks on `path`, sorted ("100-101"). */
function lockedBytes(path: string): string[] {
  const inode = statSync(path).ino;
  return readFileSync('/proc/locks', 'utf8').split('\n')
    .map((line) => line.trim().split(/\s+/))
    .filter((f) => f[1] === 'OFDLCK' && f[3] === 'READ' && f[5]?.endsWith(`:${inode}`))
    .map((f) => `${f[6]}-${f[7]}`)
    .sort();
}

async function refused(path: string, perms: LockPermissions, what: string): Promise<void> {
  await assert.rejects(lockImage(path, perms), (e: unknown) => e instanceof ImageLockError
    && e.message === `Failed to get ${what} lock. Is another process using the image [${path}]?`);
}

test('the native addon is built (npm install builds it): images are locked', () => {
  assert.equal(lockingUnavailable(), undefined);
});

test('the lock bytes are QEMU 7.2\'s (read from /proc/locks while QEMU ran)', async (t) => {
  const path = imageFile(t);
  const expected: Array<[LockPermissions, string[]]> = [
    [RAW_WRITER, ['100-101', '201-201']],
    [QCOW2_WRITER, ['100-101', '103-103', '201-201', '203-203']],
    [BACKING_READER, ['100-100', '201-201', '203-203']],
    [SHARED_READER, ['100-100']],
  ];
  for (const [perms, bytes] of expected) {
    const lock = await lockImage(path, perms);
    // Adjacent bytes of one descriptor show as one range.
    assert.deepEqual(lockedBytes(path), bytes);
    await lock.release();
    assert.deepEqual(lockedBytes(path), []);
  }
});

test('writers refuse each other; shared readers coexist with anyone; backing readers keep writers out', async (t) => {
  const path = imageFile(t);
  const writer = await lockImage(path, RAW_WRITER);
  await refused(path, RAW_WRITER, '"write"');
  await refused(path, QCOW2_WRITER, '"write"');
  await refused(path, BACKING_READER, 'shared "write"');
  const reader = await lockImage(path, SHARED_READER);
  await writer.release();
  await writer.release(); // twice is harmless
  // The failed attempts left nothing behind: a writer gets in again, beside the reader.
  const writer2 = await lockImage(path, QCOW2_WRITER);
  await writer2.release();
  const backing = await lockImage(path, BACKING_READER);
  const backing2 = await lockImage(path, BACKING_READER);
  await refused(path, RAW_WRITER, '"write"');
  await backing.release();
  await refused(path, RAW_WRITER, '"write"');
  await backing2.release();
  (await lockImage(path, RAW_WRITER)).release();
  await reader.release();
});

test('a file that cannot be opened: one-line error', async (t) => {
  const missing = join(imageFile(t), '..', 'missing.img');
  await assert.rejects(lockImage(missing, RAW_WRITER), (e: unknown) => e instanceof ImageLockError
    && e.message === `Could not open '${missing}' to lock it: No such file or directory`);
});
