/**
 * A raw image: the virtual disk is the file, byte for byte. Reads past the end of the file
 * (a file whose size is not a whole number of sectors) read as zeros.
 */
import type { BlockImage } from '../block-image.js';
import { ImageError } from '../errors.js';
import type { ImageFile } from '../image-file.js';

/** A raw disk image over an ImageFile. */
export class RawImage implements BlockImage {
  readonly format = 'raw';
  readonly backing = undefined;

  private constructor(readonly file: ImageFile, readonly virtualSize: number, readonly readOnly: boolean) {}

  /** Opens `file` as a raw image; its size is the virtual size. */
  static async open(file: ImageFile, readOnly: boolean): Promise<RawImage> {
    return new RawImage(file, await file.size(), readOnly || !file.writable);
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    checkRange(this, offset, length);
    const out = new Uint8Array(length);
    await this.file.read(out, offset);
    return out;
  }

  async write(offset: number, data: Uint8Array): Promise<void> {
    if (this.readOnly) throw new ImageError(`${this.file.name}: write to a read-only image`);
    checkRange(this, offset, data.length);
    await this.file.write(data, offset);
  }

  async flush(): Promise<void> {
    if (!this.readOnly) await this.file.flush();
  }

  async close(): Promise<void> {
    await this.file.close();
  }
}

/** Throws an ImageError unless [offset, offset + length) lies inside the virtual disk. */
export function checkRange(image: Pick<BlockImage, 'file' | 'virtualSize'>, offset: number, length: number): void {
  if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0 || offset + length > image.virtualSize) {
    throw new ImageError(`${image.file.name}: request at offset ${offset}, ${length} bytes, outside the virtual disk (${image.virtualSize} bytes)`);
  }
}
