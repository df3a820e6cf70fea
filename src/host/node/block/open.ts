/**
 * Opens the host backend of a `-drive`: the image in its format (raw, or qcow2 with its backing
 * chain; probed as QEMU does when `format=` is not given), locked against other processes as
 * QEMU locks it, under a temporary copy-on-write overlay with `snapshot=on` (or `-snapshot`,
 * which the CLI folds into each drive's spec).
 */
import { open } from 'node:fs/promises';
import type { ImageFormat } from '../../../block/index.js';
import { errnoText } from '../errno-text.js';
import { BlockBackendError, driveWhere, type BlockOpenSpec, type ClosableBlockBackend } from './block-backend.js';
import { diskSize } from './image-backend.js';
import { lockingUnavailable } from './image-lock.js';
import { openImageBackend, qcow2VirtualSize } from './image-open.js';
import { OverlayBlockBackend } from './overlay-backend.js';
import { PROBE_SIZE, guessFormat } from './probe.js';
import { ProbedRawBackend } from './probed-raw.js';

export type { BlockBackend, BlockOpenSpec, CacheMode, ClosableBlockBackend } from './block-backend.js';
export { BlockBackendError, cacheIsWriteback } from './block-backend.js';
export { OverlayBlockBackend } from './overlay-backend.js';

/** Where warnings go (`replayvm: warning: TEXT`). */
export type BlockWarning = (text: string) => void;

/**
 * Opens `spec.file`. A writable drive locks the image as QEMU's writer does; `readonly=on` and
 * `snapshot=on` open it read-only and take only a shared read lock. With `snapshot`, writes go
 * to an in-memory OverlayBlockBackend, dropped on close; the result is then an
 * OverlayBlockBackend. A probed raw image opened writable gets QEMU's warning (through `warn`)
 * and its sector-0 restriction. Rejects with a one-line BlockBackendError naming the option
 * (`-drive file=disk.img: Could not open 'disk.img': No such file or directory`).
 */
export async function openBlockBackend(spec: BlockOpenSpec, warn: BlockWarning = () => {}): Promise<ClosableBlockBackend> {
  const where = driveWhere(spec);
  const writable = !spec.readOnly && !spec.snapshot;
  const format = spec.format ?? await probeFormat(spec.file, where);
  warnIfUnlocked(warn);
  let backend = await openImageBackend(spec, format, writable, where);
  if (format === 'raw' && spec.format === undefined && writable) {
    warn(probedRawWarning(spec.file));
    backend = new ProbedRawBackend(backend);
  }
  return spec.snapshot ? new OverlayBlockBackend(backend, { readOnly: spec.readOnly, cache: spec.cache }) : backend;
}

/**
 * The size of the disk the guest sees (a qcow2 image's virtual size, a raw file's size in whole sectors),
 * without locking or changing anything: a replay needs it and touches no image.
 */
export async function imageVirtualSize(spec: Pick<BlockOpenSpec, 'file' | 'where' | 'format'>): Promise<number> {
  const where = driveWhere(spec);
  const format = spec.format ?? await probeFormat(spec.file, where);
  if (format === 'qcow2') return qcow2VirtualSize(spec.file, where);
  try {
    const handle = await open(spec.file, 'r');
    try {
      return diskSize((await handle.stat()).size);
    } finally {
      await handle.close();
    }
  } catch (e) {
    throw new BlockBackendError(`${where}: Could not open '${spec.file}': ${errnoText(e)}`);
  }
}

/** QEMU's warning for a writable image whose format was probed as raw (on one line). */
export function probedRawWarning(file: string): string {
  return `Image format was not specified for '${file}' and probing guessed raw. `
    + 'Automatically detecting the format is dangerous for raw images, write operations on block 0 will be restricted. '
    + "Specify the 'raw' format explicitly to remove the restrictions.";
}

/** The format of `file` from its first sector: qcow2 or raw; other formats QEMU knows are refused. */
async function probeFormat(file: string, where: string): Promise<ImageFormat> {
  const head = new Uint8Array(PROBE_SIZE);
  let length: number;
  try {
    const handle = await open(file, 'r');
    try {
      length = (await handle.read(head, 0, head.length, 0)).bytesRead;
    } finally {
      await handle.close();
    }
  } catch (e) {
    const text = (e as { code?: unknown }).code === 'EISDIR' ? 'Is a directory' : errnoText(e);
    throw new BlockBackendError(`${where}: Could not open '${file}': ${text}`);
  }
  const guessed = guessFormat(head.subarray(0, length));
  if (guessed === 'raw' || guessed === 'qcow2') return guessed;
  throw new BlockBackendError(`${where}: '${file}' is a ${guessed} image: format '${guessed}' is not supported (raw, qcow2; convert it with qemu-img convert -O qcow2)`);
}

let unlockedWarned = false;

/** Says once per process that images cannot be locked here (see lockingUnavailable). */
function warnIfUnlocked(warn: BlockWarning): void {
  const why = lockingUnavailable();
  if (why === undefined || unlockedWarned) return;
  unlockedWarned = true;
  warn(`disk images are not locked against other processes: ${why}`);
}
