/**
 * A raw image file as a block backend: asynchronous positioned reads and writes through a
 * node:fs/promises FileHandle (libuv's thread pool does the I/O; completions run on the main
 * loop). Requests may overlap in time and complete in any order, as on a real disk.
 */
import { open, type FileHandle } from 'node:fs/promises';
import {
  BlockBackendError, NO_DATA, SECTOR_SIZE, cacheIsWriteback, requestProblem,
  type BlockOpenSpec, type CacheMode, type ClosableBlockBackend,
} from './block-backend.js';
import { errnoText } from '../errno-text.js';
import { RequestTracker } from './request-tracker.js';

/** The `-drive ...` prefix of a spec's messages. */
export function driveWhere(spec: Pick<BlockOpenSpec, 'file' | 'where'>): string {
  return spec.where ?? `-drive file=${spec.file.replaceAll(',', ',,')}`;
}

/**
 * The size of the disk a raw file of `fileSize` bytes makes: whole sectors, the last one
 * completed with zeros (as QEMU, whose block layer counts sectors rounding up).
 */
export function rawDiskSize(fileSize: number): number {
  return Math.ceil(fileSize / SECTOR_SIZE) * SECTOR_SIZE;
}

/** A raw image file opened read-write, or read-only with `readonly=on` (and under a snapshot overlay). */
export class FileBlockBackend implements ClosableBlockBackend {
  private readonly requests = new RequestTracker();

  private constructor(
    private readonly handle: FileHandle,
    readonly byteLength: number,
    readonly readOnly: boolean,
    readonly cache: CacheMode,
  ) {}

  /**
   * Opens `spec.file` (ignoring `spec.snapshot` and `spec.format`: see openBlockBackend). Rejects with a
   * one-line BlockBackendError naming the option, in QEMU's words where QEMU has some:
   * `-drive file=disk.img: Could not open 'disk.img': No such file or directory`.
   */
  static async open(spec: BlockOpenSpec): Promise<FileBlockBackend> {
    const where = driveWhere(spec);
    const fail = (message: string): never => {
      throw new BlockBackendError(`${where}: ${message}`);
    };
    let handle: FileHandle;
    try {
      handle = await open(spec.file, spec.readOnly ? 'r' : 'r+');
    } catch (e) {
      return fail(`Could not open '${spec.file}': ${errnoText(e)}`);
    }
    try {
      const st = await handle.stat();
      // Read-only opens of a directory succeed on Linux; say what a read-write open says.
      if (st.isDirectory()) fail(`Could not open '${spec.file}': Is a directory`);
      if (!st.isFile()) fail(`'file' driver requires '${spec.file}' to be a regular file`);
      return new FileBlockBackend(handle, rawDiskSize(st.size), spec.readOnly, spec.cache);
    } catch (e) {
      await handle.close().catch(() => undefined);
      if (e instanceof BlockBackendError) throw e;
      return fail(`Could not open '${spec.file}': ${errnoText(e)}`);
    }
  }

  read(offset: number, length: number, done: (err: string | undefined, data: Uint8Array) => void): void {
    const problem = this.requests.closed ? 'the drive is closed' : requestProblem(this.byteLength, offset, length);
    if (problem !== undefined) {
      setImmediate(() => done(problem, NO_DATA));
      return;
    }
    const data = new Uint8Array(length);
    this.requests.track(this.readFully(data, offset), (e) => {
      if (e === undefined) done(undefined, data);
      else done(`read error at offset ${offset}: ${errnoText(e)}`, NO_DATA);
    });
  }

  write(offset: number, data: Uint8Array, done: (err: string | undefined) => void): void {
    const problem = this.requests.closed ? 'the drive is closed'
      : this.readOnly ? 'the drive is read-only'
        : requestProblem(this.byteLength, offset, data.length);
    if (problem !== undefined) {
      setImmediate(() => done(problem));
      return;
    }
    this.requests.track(this.writeFully(data, offset), (e) => {
      done(e === undefined ? undefined : `write error at offset ${offset}: ${errnoText(e)}`);
    });
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
    this.requests.track(this.handle.datasync(), (e) => done(e === undefined ? undefined : `flush error: ${errnoText(e)}`));
  }

  /** Waits for the requests in flight, then closes the file. Later requests fail. */
  close(): Promise<void> {
    return this.requests.close(() => this.handle.close());
  }

  private async readFully(data: Uint8Array, offset: number): Promise<void> {
    let done = 0;
    while (done < data.length) {
      const { bytesRead } = await this.handle.read(data, done, data.length - done, offset + done);
      // The file shrank under us: what is past its end reads as zeros (data is zero-filled).
      if (bytesRead === 0) return;
      done += bytesRead;
    }
  }

  private async writeFully(data: Uint8Array, offset: number): Promise<void> {
    let done = 0;
    while (done < data.length) {
      const { bytesWritten } = await this.handle.write(data, done, data.length - done, offset + done);
      if (bytesWritten === 0) throw new Error('short write');
      done += bytesWritten;
    }
    // writethrough and directsync: the write is durable when it completes.
    if (!cacheIsWriteback(this.cache)) await this.handle.datasync();
  }
}
