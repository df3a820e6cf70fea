/**
 * Linux open-file-description byte-range locks (fcntl F_OFD_SETLK / F_OFD_GETLK) through our
 * native addon (native/ofd-lock.c, built by node-gyp when npm installs the package): Node's fs
 * module has no fcntl. The addon is loaded on first use; when it is missing (no C compiler at
 * install time, or not Linux) `ofdLocks()` says why instead, and images are used unlocked.
 */
import { createRequire } from 'node:module';
import { constants } from 'node:os';
import { errnoText } from '../errno-text.js';

/** The addon's functions (see native/ofd-lock.c). */
export interface OfdLocks {
  /** Takes a shared lock on [start, start + length) (`shared`), or releases it; 0 or a positive errno. */
  setLock(fd: number, start: number, length: number, shared: boolean): number;
  /** 1 when another open file description holds a lock on the range, 0 when none, or a negative errno. */
  testLock(fd: number, start: number, length: number): number;
}

/** Where node-gyp puts the addon, from dist/src/host/node/block/ (the package root is five up). */
const ADDON_URL = new URL('../../../../../build/Release/ofd_lock.node', import.meta.url);

let loaded: OfdLocks | string | undefined;

/** The addon, or why it is not available (one line). */
export function ofdLocks(): OfdLocks | string {
  if (loaded !== undefined) return loaded;
  if (process.platform !== 'linux') {
    loaded = `OFD locks exist on Linux only (this is ${process.platform})`;
    return loaded;
  }
  try {
    loaded = createRequire(import.meta.url)(ADDON_URL.pathname) as OfdLocks;
  } catch (e) {
    loaded = `the native addon ${ADDON_URL.pathname} could not be loaded (${errnoText(e)}; npm install builds it)`;
  }
  return loaded;
}

const ERRNO_NAMES = new Map<number, string>(Object.entries(constants.errno).map(([name, value]) => [value, name]));

/** strerror() text of an errno number the addon returned. */
export function errnoNumberText(errno: number): string {
  const code = ERRNO_NAMES.get(Math.abs(errno));
  return code === undefined ? `error ${errno}` : errnoText({ code, message: code });
}

/** Whether `errno` (as setLock returns it) means another lock is in the way. */
export function isLockConflict(errno: number): boolean {
  return errno === constants.errno.EAGAIN || errno === constants.errno.EACCES;
}
