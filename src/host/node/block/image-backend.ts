/**
 * A disk image of any format (src/block's BlockImage: raw, qcow2 with its backing chain) as
 * the virtio-blk device's BlockBackend: the image's promises become callbacks on the main loop
 * (the I/O itself runs on libuv's thread pool, off the vCPU thread), requests in flight are
 * counted and `close` waits for them. A guest FLUSH is BlockImage.flush (fsync of the data and
 * of the format's metadata).
 */
import type { BlockImage } from '../../../block/index.js';
import {
  NO_DATA, SECTOR_SIZE, cacheIsWriteback, requestProblem,
  type CacheMode, type ClosableBlockBackend,
} from './block-backend.js';
import { RequestTracker } from './request-tracker.js';

/** The one-line text of an image's error (ImageErrors name the file already). */
function errorText(e: unknown): string {
  const text = e instanceof Error ? e.message : String(e);
  const nl = text.indexOf('\n');
  return nl < 0 ? text : text.slice(0, nl);
}

/**
 * The size of the disk an image of `virtualSize` bytes makes: whole sectors, the last one
 * completed with zeros (as QEMU, whose block layer counts sectors rounding up: a raw file of
 * 1000 bytes is a disk of 1024).
 */
export function diskSize(virtualSize: number): number {
  return Math.ceil(virtualSize / SECTOR_SIZE) * SECTOR_SIZE;
}

export class ImageBlockBackend implements ClosableBlockBackend {
  /** The image's size rounded up to whole sectors (see diskSize). */
  readonly byteLength: number;
  readonly readOnly: boolean;
  private readonly requests = new RequestTracker();

  /**
   * Serves `image`, which the backend now owns (`close` closes it). `cache` as QEMU's:
   * writethrough and directsync flush after every write; unsafe ignores flushes.
   */
  constructor(private readonly image: BlockImage, readonly cache: CacheMode) {
    this.byteLength = diskSize(image.virtualSize);
    this.readOnly = image.readOnly;
  }

  read(offset: number, length: number, done: (err: string | undefined, data: Uint8Array) => void): void {
    const problem = this.requests.closed ? 'the drive is closed' : requestProblem(this.byteLength, offset, length);
    if (problem !== undefined) {
      setImmediate(() => done(problem, NO_DATA));
      return;
    }
    this.requests.track(this.readPadded(offset, length), (e, data) => {
      if (e === undefined && data !== undefined) done(undefined, data);
      else done(`read error at offset ${offset}: ${errorText(e)}`, NO_DATA);
    });
  }

  write(offset: number, data: Uint8Array, done: (err: string | undefined) => void): void {
    const problem = this.requests.closed ? 'the drive is closed'
      : this.readOnly ? 'the drive is read-only'
        : requestProblem(this.byteLength, offset, data.length)
          // The zeros completing the last sector are not in the image (QEMU would grow a raw file).
          ?? (offset + data.length > this.image.virtualSize ? `write beyond the end of the image file (offset ${offset}, length ${data.length}, image size ${this.image.virtualSize})` : undefined);
    if (problem !== undefined) {
      setImmediate(() => done(problem));
      return;
    }
    const work = cacheIsWriteback(this.cache)
      ? this.image.write(offset, data)
      : this.image.write(offset, data).then(() => this.image.flush());
    this.requests.track(work, (e) => done(e === undefined ? undefined : `write error at offset ${offset}: ${errorText(e)}`));
  }

  flush(done: (err: string | undefined) => void): void {
    if (this.requests.closed) {
      setImmediate(() => done('the drive is closed'));
      return;
    }
    // Nothing to make durable: cache=unsafe ignores flushes; a read-only image has no writes.
    if (this.cache === 'unsafe' || this.readOnly) {
      setImmediate(() => done(undefined));
      return;
    }
    this.requests.track(this.image.flush(), (e) => done(e === undefined ? undefined : `flush error: ${errorText(e)}`));
  }

  /** Reads from the image, with zeros for the part past its virtual size (the last sector's completion). */
  private async readPadded(offset: number, length: number): Promise<Uint8Array> {
    const inside = Math.max(0, Math.min(length, this.image.virtualSize - offset));
    if (inside === length) return this.image.read(offset, length);
    const data = new Uint8Array(length);
    if (inside > 0) data.set(await this.image.read(offset, inside));
    return data;
  }

  /** Waits for the requests in flight, then closes the image (writing back what it caches). */
  close(): Promise<void> {
    return this.requests.close(() => this.image.close());
  }
}
