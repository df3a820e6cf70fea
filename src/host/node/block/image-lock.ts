/**
 * Disk image locking as QEMU does it (block/file-posix.c, raw_apply_lock_bytes and
 * raw_check_lock_bytes), so that QEMU, qemu-img and replayvm refuse each other's images in use.
 *
 * Each block permission (include/block/block-common.h: BLK_PERM_CONSISTENT_READ = bit 0, WRITE
 * = 1, WRITE_UNCHANGED = 2, RESIZE = 3) has two bytes of the image file: byte 100 + bit, locked
 * (shared OFD lock) by every user holding the permission, and byte 200 + bit, locked by every
 * user that does not let others hold it. A user takes its bytes, then checks that no other open
 * file description locks byte 200 + bit of a permission it holds ("Failed to get "write" lock")
 * or byte 100 + bit of a permission it does not share ("Failed to get shared "write" lock").
 *
 * What QEMU 7.2's virtio-blk users lock, read from /proc/locks: a raw writer holds consistent
 * read + write and unshares write; a qcow2 writer also holds and unshares resize; a backing
 * file holds consistent read and unshares write and resize. replayvm does the same, except that
 * a read-only drive (`readonly=on`, `snapshot=on`) holds consistent read and shares everything,
 * so it may open an image that another process writes (QEMU's `force-share=on`).
 */
import { open, type FileHandle } from 'node:fs/promises';
import { errnoText } from '../errno-text.js';
import { errnoNumberText, isLockConflict, ofdLocks, type OfdLocks } from './ofd-lock.js';

/** QEMU's block permissions, by bit number, with the names its messages use. */
export const BLOCK_PERMISSIONS = ['consistent read', 'write', 'write unchanged', 'resize'] as const;

/** A block permission. */
export type BlockPermission = typeof BLOCK_PERMISSIONS[number];

/** The first byte of the "permission held" bytes (RAW_LOCK_PERM_BASE). */
export const LOCK_PERM_BASE = 100;
/** The first byte of the "permission not shared" bytes (RAW_LOCK_SHARED_BASE). */
export const LOCK_SHARED_BASE = 200;

/** What one user of an image file holds and does not share. */
export interface LockPermissions {
  readonly hold: readonly BlockPermission[];
  readonly unshare: readonly BlockPermission[];
}

/** A guest's writable raw image. */
export const RAW_WRITER: LockPermissions = { hold: ['consistent read', 'write'], unshare: ['write'] };
/** A guest's writable qcow2 image (it may grow the file). */
export const QCOW2_WRITER: LockPermissions = { hold: ['consistent read', 'write', 'resize'], unshare: ['write', 'resize'] };
/** A backing file: nobody may change it under the images that read through it. */
export const BACKING_READER: LockPermissions = { hold: ['consistent read'], unshare: ['write', 'resize'] };
/** A read-only drive (`readonly=on`, `snapshot=on`): reads whatever others do. */
export const SHARED_READER: LockPermissions = { hold: ['consistent read'], unshare: [] };

/** An image file is in use by another process (or cannot be locked); one line, QEMU's words. */
export class ImageLockError extends Error {
  override name = 'ImageLockError';
}

/** The locks on one image file, held until `release`. */
export interface ImageLock {
  /** Drops the locks (closes the descriptor that holds them). */
  release(): Promise<void>;
}

const NO_LOCK: ImageLock = { release: async () => {} };

/** Why images cannot be locked on this host, or undefined when they can. */
export function lockingUnavailable(): string | undefined {
  const locks = ofdLocks();
  return typeof locks === 'string' ? locks : undefined;
}

/**
 * Takes `perms`' lock bytes on `path` through a descriptor of its own, then checks for
 * conflicts as QEMU does. Rejects with a one-line ImageLockError
 * (`Failed to get "write" lock. Is another process using the image [disk.img]?`).
 * Without the addon (see lockingUnavailable) it locks nothing.
 */
export async function lockImage(path: string, perms: LockPermissions): Promise<ImageLock> {
  const locks = ofdLocks();
  if (typeof locks === 'string') return NO_LOCK;
  let handle: FileHandle;
  try {
    handle = await open(path, 'r');
  } catch (e) {
    throw new ImageLockError(`Could not open '${path}' to lock it: ${errnoText(e)}`);
  }
  const inUse = (what: string): ImageLockError =>
    new ImageLockError(`Failed to get ${what} lock. Is another process using the image [${path}]?`);
  try {
    const bytes = [
      ...perms.hold.map((p) => ({ byte: LOCK_PERM_BASE + BLOCK_PERMISSIONS.indexOf(p), what: `"${p}"` })),
      ...perms.unshare.map((p) => ({ byte: LOCK_SHARED_BASE + BLOCK_PERMISSIONS.indexOf(p), what: `shared "${p}"` })),
    ];
    for (const { byte, what } of bytes) {
      const err = locks.setLock(handle.fd, byte, 1, true);
      if (isLockConflict(err)) throw inUse(what);
      if (err !== 0) throw new ImageLockError(`Failed to lock byte ${byte} of '${path}': ${errnoNumberText(err)}`);
    }
    // Ours do not count: F_OFD_GETLK ignores the locks of the descriptor that asks.
    BLOCK_PERMISSIONS.forEach((p, bit) => {
      if (perms.hold.includes(p)) check(locks, handle.fd, LOCK_SHARED_BASE + bit, path, () => inUse(`"${p}"`));
    });
    BLOCK_PERMISSIONS.forEach((p, bit) => {
      if (perms.unshare.includes(p)) check(locks, handle.fd, LOCK_PERM_BASE + bit, path, () => inUse(`shared "${p}"`));
    });
  } catch (e) {
    await handle.close().catch(() => undefined);
    throw e;
  }
  let released = false;
  return {
    release: async () => {
      if (released) return;
      released = true;
      await handle.close();
    },
  };
}

/** Throws `conflict()` when another open file description locks `byte`. */
function check(locks: OfdLocks, fd: number, byte: number, path: string, conflict: () => ImageLockError): void {
  const r = locks.testLock(fd, byte, 1);
  if (r === 1) throw conflict();
  if (r < 0) throw new ImageLockError(`Failed to check the lock on byte ${byte} of '${path}': ${errnoNumberText(r)}`);
}
