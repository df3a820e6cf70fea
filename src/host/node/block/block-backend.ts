/**
 * The host side of a block device: the options a `-drive` gives the host backends, and what
 * they share. The interface itself, `BlockBackend`, is the device's contract in
 * src/devices/virtio/device-api.ts; the backends here are stricter than it requires: every
 * callback runs asynchronously (never from inside the call), any offset and length inside the
 * image is accepted, and errors are one-line strings.
 */
import type { BlockBackend } from '../../../devices/virtio/device-api.js';
import type { ImageFormat } from '../../../block/index.js';

export type { BlockBackend };

/**
 * QEMU's `cache=` modes. As QEMU: `writeback` (the default) and `none` have a volatile write
 * cache that `flush` makes durable; `writethrough` and `directsync` make every write durable
 * before it completes; `unsafe` ignores flushes. (`none`/`directsync` mean O_DIRECT in QEMU;
 * we do not bypass the host page cache, so they behave as writeback/writethrough.)
 */
export type CacheMode = 'writeback' | 'writethrough' | 'none' | 'directsync' | 'unsafe';

/** Whether the guest sees a volatile write cache (virtio-blk's `writeback` config bit). */
export function cacheIsWriteback(cache: CacheMode): boolean {
  return cache !== 'writethrough' && cache !== 'directsync';
}

/** A backend that owns host resources. */
export interface ClosableBlockBackend extends BlockBackend {
  /** The cache mode the backend applies. */
  readonly cache: CacheMode;
  /** Waits for requests in flight, then releases the backend (a snapshot overlay is dropped). */
  close(): Promise<void>;
}

/** What `openBlockBackend` needs from a `-drive` (a cli `DriveSpec` has these fields). */
export interface BlockOpenSpec {
  /** The image file. */
  readonly file: string;
  readonly readOnly: boolean;
  /** `snapshot=on` / `-snapshot`: writes go to a temporary overlay; the file is never written. */
  readonly snapshot: boolean;
  readonly cache: CacheMode;
  /**
   * The option as given (`-drive file=disk.img,if=virtio`), prefixed to error messages as QEMU
   * does. Without it messages start with `-drive file=PATH`.
   */
  readonly where?: string;
  /** `format=` / `driver=`; undefined probes the format from the file, as QEMU does. */
  readonly format?: ImageFormat;
}

/** The `-drive ...` prefix of a spec's messages. */
export function driveWhere(spec: Pick<BlockOpenSpec, 'file' | 'where'>): string {
  return spec.where ?? `-drive file=${spec.file.replaceAll(',', ',,')}`;
}

/** Opening a block backend failed; the message is one line, starting with the `-drive` option. */
export class BlockBackendError extends Error {
  override name = 'BlockBackendError';
}

/** The sector size of the virtio-blk interface (and the granularity of snapshot overlays). */
export const SECTOR_SIZE = 512;

/**
 * Why a request of `length` bytes at `offset` is invalid for an image of `byteLength` bytes,
 * or undefined when it is valid (non-negative integers, inside the image).
 */
export function requestProblem(byteLength: number, offset: number, length: number): string | undefined {
  if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0) {
    return `invalid request (offset ${offset}, length ${length})`;
  }
  if (offset + length > byteLength) {
    return `request beyond the end of the image (offset ${offset}, length ${length}, image size ${byteLength})`;
  }
  return undefined;
}

/** The empty array returned with a failed read. */
export const NO_DATA = new Uint8Array(0);

/**
 * `backend`, whose `close` also runs `release` (dropping its image locks) once the backend has
 * closed. Requests go straight to `backend`.
 */
export function closingWith(backend: ClosableBlockBackend, release: () => Promise<void>): ClosableBlockBackend {
  return {
    byteLength: backend.byteLength,
    readOnly: backend.readOnly,
    cache: backend.cache,
    read: backend.read.bind(backend),
    write: backend.write.bind(backend),
    flush: backend.flush.bind(backend),
    close: async () => {
      try {
        await backend.close();
      } finally {
        await release();
      }
    },
  };
}
