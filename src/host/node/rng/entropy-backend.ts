/**
 * Host entropy for virtio-rng: QEMU's `rng-builtin` (the host's CSPRNG, here node:crypto) and
 * `rng-random` (reads a file such as /dev/urandom). Entropy is non-deterministic input: this is
 * where record/replay will wrap it.
 *
 * `EntropyBackend` is the device's contract (src/devices/virtio/device-api.ts): `read(length)`
 * delivers between 1 and `length` bytes (none only for length 0). These backends always call
 * back asynchronously. A source that runs dry (a regular file at its end) or fails never calls
 * back: the guest's request stays pending, as with a blocking /dev/random that never yields,
 * and the problem goes to `lastError` and, once, to the `onError` given at open.
 */
import { randomBytes } from 'node:crypto';
import { open, type FileHandle } from 'node:fs/promises';
import type { EntropyBackend } from '../../../devices/virtio/device-api.js';
import { errnoText } from '../errno-text.js';

export type { EntropyBackend };

/** An entropy backend that owns host resources. */
export interface ClosableEntropyBackend extends EntropyBackend {
  /** Why the source stopped giving bytes, if it did (one line). */
  readonly lastError: string | undefined;
  /** Waits for reads in flight, then releases the source; later reads never complete. */
  close(): Promise<void>;
}

/** Called once, with a one-line message, when a source stops giving bytes. */
export type EntropyErrorHandler = (message: string) => void;

/** Where entropy comes from (a `-object rng-*` or virtio-rng's default rng-builtin). */
export type EntropySource = 'builtin' | 'urandom' | { readonly file: string };

/** Opening an entropy source failed; the message is one line. */
export class EntropyBackendError extends Error {
  override name = 'EntropyBackendError';
}

/** The largest single request served (virtio-rng buffers are small; this bounds a bad length). */
export const MAX_ENTROPY_READ = 64 * 1024;

function clampLength(length: number): number {
  return Number.isSafeInteger(length) && length > 0 ? Math.min(length, MAX_ENTROPY_READ) : 0;
}

/** `rng-builtin`: node:crypto's randomBytes (the host CSPRNG), asynchronously. */
export class BuiltinEntropyBackend implements ClosableEntropyBackend {
  lastError: string | undefined;
  private closed = false;

  constructor(private readonly onError?: EntropyErrorHandler) {}

  read(length: number, done: (bytes: Uint8Array) => void): void {
    if (this.closed) return;
    const n = clampLength(length);
    if (n === 0) {
      setImmediate(() => done(new Uint8Array(0)));
      return;
    }
    randomBytes(n, (err, buf) => {
      if (err !== null) {
        if (this.lastError === undefined) this.onError?.(`rng-builtin: ${errnoText(err)}`);
        this.lastError = errnoText(err);
      } else {
        done(new Uint8Array(buf.buffer, buf.byteOffset, buf.length));
      }
    });
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

/** `rng-random`: reads the file (a character device such as /dev/urandom, or a regular file). */
export class FileEntropyBackend implements ClosableEntropyBackend {
  lastError: string | undefined;
  private pending = 0;
  private readonly idleWaiters: Array<() => void> = [];
  private closing: Promise<void> | undefined;

  private constructor(
    private readonly handle: FileHandle,
    private readonly path: string,
    private readonly onError?: EntropyErrorHandler,
  ) {}

  /**
   * Opens `path` for reading. Rejects with an EntropyBackendError whose message is
   * `${where}: Could not open 'PATH': REASON` (QEMU's wording), or without `where` just that.
   */
  static async open(path: string, where?: string, onError?: EntropyErrorHandler): Promise<FileEntropyBackend> {
    const prefix = where === undefined ? '' : `${where}: `;
    let handle: FileHandle;
    try {
      handle = await open(path, 'r');
    } catch (e) {
      throw new EntropyBackendError(`${prefix}Could not open '${path}': ${errnoText(e)}`);
    }
    try {
      if ((await handle.stat()).isDirectory()) throw new EntropyBackendError(`${prefix}Could not open '${path}': Is a directory`);
    } catch (e) {
      await handle.close().catch(() => undefined);
      if (e instanceof EntropyBackendError) throw e;
      throw new EntropyBackendError(`${prefix}Could not open '${path}': ${errnoText(e)}`);
    }
    return new FileEntropyBackend(handle, path, onError);
  }

  read(length: number, done: (bytes: Uint8Array) => void): void {
    if (this.closing !== undefined || this.lastError !== undefined) return;
    const n = clampLength(length);
    if (n === 0) {
      setImmediate(() => done(new Uint8Array(0)));
      return;
    }
    const buf = new Uint8Array(n);
    this.pending++;
    const settle = (): void => {
      this.pending--;
      if (this.pending === 0) for (const wake of this.idleWaiters.splice(0)) wake();
    };
    // Position null: read from the current position (a device has none; a file moves on).
    this.handle.read(buf, 0, n, null).then(
      ({ bytesRead }) => {
        settle();
        if (bytesRead > 0) done(buf.subarray(0, bytesRead));
        else this.fail('end of file');
      },
      (e: unknown) => {
        settle();
        this.fail(errnoText(e));
      },
    );
  }

  private fail(reason: string): void {
    if (this.lastError !== undefined) return;
    this.lastError = reason;
    this.onError?.(`rng-random: reading '${this.path}': ${reason} (no more entropy)`);
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      if (this.pending > 0) await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
      await this.handle.close();
    })();
    return this.closing;
  }
}

/**
 * Opens an entropy source: `builtin` is node:crypto; `urandom` reads /dev/urandom; `{ file }`
 * reads that file. `where` (the `-object ...` option) prefixes open errors; `onError` hears,
 * once, that a source stopped giving bytes.
 */
export async function openEntropyBackend(source: EntropySource, where?: string, onError?: EntropyErrorHandler): Promise<ClosableEntropyBackend> {
  if (source === 'builtin') return new BuiltinEntropyBackend(onError);
  return FileEntropyBackend.open(source === 'urandom' ? '/dev/urandom' : source.file, where, onError);
}
