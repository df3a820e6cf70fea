/**
 * Opening a disk image: probing its format as QEMU does and opening its backing chain
 * (qcow2 `-b`), raw or qcow2 at each level, up to a depth limit and refusing loops.
 */
import type { BlockImage, ImageFormat, OpenImageOptions } from './block-image.js';
import { ImageError } from './errors.js';
import type { ImageFile } from './image-file.js';
import { Qcow2Image } from './qcow2/qcow2-image.js';
import { QCOW2_MAGIC, parseHeader } from './qcow2/header.js';
import { RawImage } from './raw/raw-image.js';

/** How many backing files deep a chain may go (QEMU has no fixed limit; loops and runaways stop here). */
export const MAX_BACKING_DEPTH = 64;

/**
 * The format of an image whose file starts with `head` (at least 8 bytes, or the whole file
 * if shorter): qcow2 for the "QFI\xfb" magic with version 2 or later, else raw (as QEMU's probe:
 * a version 1 qcow image, another format's magic or no magic at all is raw).
 */
export function probeImageFormat(head: Uint8Array): ImageFormat {
  if (head.length < 8) return 'raw';
  const v = new DataView(head.buffer, head.byteOffset, head.byteLength);
  return v.getUint32(0) === QCOW2_MAGIC && v.getUint32(4) >= 2 ? 'qcow2' : 'raw';
}

/**
 * Opens `file` as a disk image of `options.format` (probed when undefined), with its backing
 * chain opened read-only through `options.openBacking`. Throws an ImageError; backing files
 * opened before the failure are closed (`file` itself is the caller's to close).
 */
export async function openImage(file: ImageFile, options: OpenImageOptions): Promise<BlockImage> {
  return openLevel(file, options.format, options, [file.name]);
}

async function openLevel(file: ImageFile, format: ImageFormat | undefined, options: OpenImageOptions, chain: string[]): Promise<BlockImage> {
  const readOnly = options.readOnly || !file.writable;
  const fmt = format ?? (await probe(file));
  if (fmt === 'raw') return RawImage.open(file, readOnly);
  const fileSize = await file.size();
  const head = new Uint8Array(Math.min(fileSize, 2 << 20));
  await file.read(head, 0);
  const header = parseHeader(file.name, head, fileSize);
  let backing: BlockImage | undefined;
  if (header.backingFile !== undefined) {
    const name = header.backingFile;
    if (options.openBacking === undefined) throw new ImageError(`${file.name}: has backing file '${name}', which this context cannot open`);
    if (chain.length > MAX_BACKING_DEPTH) throw new ImageError(`${file.name}: backing chain is more than ${MAX_BACKING_DEPTH} images deep (at '${name}')`);
    const backingFormat = backingFormatOf(file.name, header.backingFormat);
    let backingFile: ImageFile;
    try {
      backingFile = await options.openBacking(name, file);
    } catch (e) {
      throw new ImageError(`${file.name}: Could not open backing file: ${e instanceof Error ? e.message : String(e)}`);
    }
    try {
      if (chain.includes(backingFile.name)) {
        throw new ImageError(`${file.name}: backing chain loops: '${backingFile.name}' is already in the chain (${chain.join(' -> ')})`);
      }
      backing = await openLevel(backingFile, backingFormat, { ...options, readOnly: true }, [...chain, backingFile.name]);
    } catch (e) {
      await backingFile.close().catch(() => undefined);
      throw e;
    }
  }
  try {
    return await Qcow2Image.open(file, { readOnly, ...(backing !== undefined ? { backing } : {}) });
  } catch (e) {
    await backing?.close().catch(() => undefined);
    throw e;
  }
}

async function probe(file: ImageFile): Promise<ImageFormat> {
  const head = new Uint8Array(8);
  const n = await file.read(head, 0);
  return probeImageFormat(head.subarray(0, n));
}

function backingFormatOf(name: string, format: string | undefined): ImageFormat | undefined {
  if (format === undefined) return undefined;
  if (format === 'raw' || format === 'qcow2') return format;
  throw new ImageError(`${name}: backing file format '${format}' is not supported (raw and qcow2 are)`);
}
