/**
 * An ImageFile held in memory: for unit tests of the formats, and for images that never touch
 * the host (a browser's scratch disk).
 */
import { ImageError } from './errors.js';
import type { ImageFile } from './image-file.js';

/** An in-memory ImageFile; `bytes` is the current content (a copy is never made on read). */
export class MemoryImageFile implements ImageFile {
  private data: Uint8Array;
  private length: number;
  private closed = false;
  /** How many times `flush` was called (tests check that flush reaches the file). */
  flushes = 0;

  constructor(readonly name: string, initial: Uint8Array = new Uint8Array(0), readonly writable = true) {
    this.data = initial.slice();
    this.length = initial.length;
  }

  /** The file's content now. */
  get bytes(): Uint8Array {
    return this.data.subarray(0, this.length);
  }

  size(): Promise<number> {
    this.check(false);
    return Promise.resolve(this.length);
  }

  read(into: Uint8Array, offset: number): Promise<number> {
    this.check(false);
    const n = Math.max(0, Math.min(into.length, this.length - offset));
    into.set(this.data.subarray(offset, offset + n));
    return Promise.resolve(n);
  }

  write(data: Uint8Array, offset: number): Promise<void> {
    this.check(true);
    this.ensure(offset + data.length);
    this.data.set(data, offset);
    return Promise.resolve();
  }

  truncate(size: number): Promise<void> {
    this.check(true);
    if (size < this.length) this.data.fill(0, size, this.length);
    else this.ensure(size);
    this.length = size;
    return Promise.resolve();
  }

  flush(): Promise<void> {
    this.check(true);
    this.flushes++;
    return Promise.resolve();
  }

  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }

  private ensure(end: number): void {
    if (end > this.data.length) {
      const grown = new Uint8Array(Math.max(end, this.data.length * 2));
      grown.set(this.data.subarray(0, this.length));
      this.data = grown;
    }
    if (end > this.length) this.length = end;
  }

  private check(write: boolean): void {
    if (this.closed) throw new ImageError(`${this.name}: used after close`);
    if (write && !this.writable) throw new ImageError(`${this.name}: write to a file opened read-only`);
  }
}
