/**
 * Opens a `-drive`'s image in its format through src/block's openImage (raw, or qcow2 with its
 * backing chain), each file locked as QEMU locks it while the drive is open: the top image as a
 * writer (raw or qcow2), or as a shared reader with readonly=on/snapshot=on; backing files as
 * backing readers, which nobody may write meanwhile. Served by an ImageBlockBackend.
 */
import {
  ImageError, MemoryImageFile, Qcow2Image, RawImage, openImage,
  type BackingOpener, type BlockImage, type ImageFormat,
} from '../../../block/index.js';
import { BlockBackendError, closingWith, type BlockOpenSpec, type ClosableBlockBackend } from './block-backend.js';
import { ImageBlockBackend } from './image-backend.js';
import { nodeBackingOpener, openImageFile } from './image-file.js';
import {
  BACKING_READER, ImageLockError, QCOW2_WRITER, RAW_WRITER, SHARED_READER,
  lockImage, type ImageLock, type LockPermissions,
} from './image-lock.js';

/** The one-line error of a failed open, naming the option. */
function openError(where: string, e: unknown): unknown {
  return e instanceof ImageError || e instanceof ImageLockError ? new BlockBackendError(`${where}: ${e.message}`) : e;
}

/** What the top image's user holds and does not share. */
function topImagePermissions(format: ImageFormat, writable: boolean): LockPermissions {
  if (!writable) return SHARED_READER;
  return format === 'qcow2' ? QCOW2_WRITER : RAW_WRITER;
}

/**
 * Opens `spec.file` as a `format` image, writable or not, with its backing chain, every file
 * locked until the backend closes. Rejects with a one-line BlockBackendError naming the option.
 */
export async function openImageBackend(spec: BlockOpenSpec, format: ImageFormat, writable: boolean, where: string): Promise<ClosableBlockBackend> {
  const locks: ImageLock[] = [];
  const releaseLocks = async (): Promise<void> => {
    for (const lock of locks.splice(0).reverse()) await lock.release().catch(() => undefined);
  };
  const openBacking: BackingOpener = async (name, relativeTo) => {
    const file = await nodeBackingOpener(name, relativeTo);
    try {
      locks.push(await lockImage(file.name, BACKING_READER));
    } catch (e) {
      await file.close().catch(() => undefined);
      throw e;
    }
    return file;
  };
  let image: BlockImage | undefined;
  try {
    const file = await openImageFile(spec.file, { writable });
    try {
      locks.push(await lockImage(spec.file, topImagePermissions(format, writable)));
      image = await openImage(file, { format, readOnly: !writable, openBacking });
    } finally {
      if (image === undefined) await file.close().catch(() => undefined);
    }
  } catch (e) {
    await releaseLocks();
    throw openError(where, e);
  }
  return closingWith(new ImageBlockBackend(image, spec.cache), releaseLocks);
}

/**
 * The virtual size of the qcow2 image `file`, from its header (checked as any open checks it),
 * without locking it or opening its backing chain: a replay needs only this, and may run where
 * the backing files are not.
 */
export async function qcow2VirtualSize(file: string, where: string): Promise<number> {
  try {
    const imageFile = await openImageFile(file, { writable: false });
    // The backing chain does not change the size: an empty stand-in takes its place.
    const standIn = await RawImage.open(new MemoryImageFile(`${file} (backing not opened)`, new Uint8Array(0), false), true);
    const image = await Qcow2Image.open(imageFile, { readOnly: true, backing: standIn }).catch(async (e: unknown) => {
      await imageFile.close().catch(() => undefined);
      throw e;
    });
    const size = image.virtualSize;
    await image.close();
    return size;
  } catch (e) {
    throw openError(where, e);
  }
}
