/**
 * The Node side of the block layer's ImageFile: a host file through a node:fs/promises
 * FileHandle (positioned reads and writes on libuv's thread pool), and the opener of backing
 * files that resolves a relative backing name as QEMU does.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { dirname, isAbsolute, join } from 'node:path';
import { ImageError, type BackingOpener, type ImageFile } from '../../../block/index.js';
import { errnoText } from '../errno-text.js';

/** How to open an image file. */
export interface OpenImageFileOptions {
  /** Open for writing too (`r+`); otherwise read-only. */
  readonly writable: boolean;
}

/**
 * Opens `path` as an ImageFile. Rejects with a one-line ImageError in QEMU's words
 * (`Could not open 'disk.qcow2': No such file or directory`); a directory or other non-regular
 * file is refused.
 */
export async function openImageFile(path: string, options: OpenImageFileOptions): Promise<ImageFile> {
  let handle: FileHandle;
  try {
    handle = await open(path, options.writable ? 'r+' : 'r');
  } catch (e) {
    throw new ImageError(`Could not open '${path}': ${errnoText(e)}`);
  }
  try {
    const st = await handle.stat();
    if (st.isDirectory()) throw new ImageError(`Could not open '${path}': Is a directory`);
    if (!st.isFile() && !st.isBlockDevice()) throw new ImageError(`'${path}' is not a regular file`);
  } catch (e) {
    await handle.close().catch(() => undefined);
    throw e;
  }
  return new NodeImageFile(path, handle, options.writable);
}

/** An ImageFile over an open FileHandle. Errors from the host become one-line ImageErrors. */
class NodeImageFile implements ImageFile {
  private closed = false;

  constructor(readonly name: string, private readonly handle: FileHandle, readonly writable: boolean) {}

  async size(): Promise<number> {
    this.checkOpen('size');
    try {
      return (await this.handle.stat()).size;
    } catch (e) {
      throw this.hostError('stat', e);
    }
  }

  async read(into: Uint8Array, offset: number): Promise<number> {
    this.checkOpen('read');
    let done = 0;
    try {
      // A positioned read may return fewer bytes than asked before the end of the file.
      while (done < into.length) {
        const { bytesRead } = await this.handle.read(into, done, into.length - done, offset + done);
        if (bytesRead === 0) break;
        done += bytesRead;
      }
    } catch (e) {
      throw this.hostError(`read at offset ${offset}`, e);
    }
    return done;
  }

  async write(data: Uint8Array, offset: number): Promise<void> {
    this.checkWritable('write');
    let done = 0;
    try {
      while (done < data.length) {
        const { bytesWritten } = await this.handle.write(data, done, data.length - done, offset + done);
        done += bytesWritten;
      }
    } catch (e) {
      throw this.hostError(`write at offset ${offset}`, e);
    }
  }

  async truncate(size: number): Promise<void> {
    this.checkWritable('truncate');
    try {
      await this.handle.truncate(size);
    } catch (e) {
      throw this.hostError(`truncate to ${size} bytes`, e);
    }
  }

  async flush(): Promise<void> {
    this.checkWritable('flush');
    try {
      await this.handle.datasync();
    } catch (e) {
      throw this.hostError('flush', e);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      await this.handle.close();
    } catch (e) {
      throw this.hostError('close', e);
    }
  }

  private checkOpen(what: string): void {
    if (this.closed) throw new ImageError(`${this.name}: ${what} after close`);
  }

  private checkWritable(what: string): void {
    this.checkOpen(what);
    if (!this.writable) throw new ImageError(`${this.name}: ${what} on a file opened read-only`);
  }

  private hostError(what: string, e: unknown): ImageError {
    return new ImageError(`${this.name}: ${what} failed: ${errnoText(e)}`);
  }
}

/**
 * Where a backing file named `name` in the header of the file `relativeTo` is, as QEMU's
 * path_combine() has it: an absolute name as it is, a relative one against the directory of
 * `relativeTo`. A protocol prefix (`nbd:`, `json:`: letters before the first ':' with no '/')
 * is refused with an ImageError, as we open plain files only.
 */
export function resolveBackingName(name: string, relativeTo: string): string {
  if (name === '') throw new ImageError(`${relativeTo}: the backing file name is empty`);
  const colon = name.indexOf(':');
  if (colon > 0 && !name.slice(0, colon).includes('/')) {
    const protocol = name.slice(0, colon);
    const what = protocol === 'json' ? 'a json: backing file specification' : `the '${protocol}:' protocol`;
    throw new ImageError(`${relativeTo}: backing file '${name}' uses ${what}, which replayvm does not support (only plain files)`);
  }
  if (isAbsolute(name)) return name;
  return join(dirname(relativeTo), name);
}

/** Opens backing files read-only, resolving their names as QEMU does (see resolveBackingName). */
export const nodeBackingOpener: BackingOpener = async (name, relativeTo) =>
  openImageFile(resolveBackingName(name, relativeTo.name), { writable: false });
