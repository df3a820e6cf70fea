/**
 * The bytes of one host file, as the image formats see them. The formats (raw, qcow2) are
 * written against this interface only, so they run unchanged in Node (a FileHandle, see
 * src/host/node/block) and, later, in a browser (a Blob or an OPFS handle).
 *
 * Ordering: a format that needs one write to reach the file before another (qcow2's refcount
 * before L2 update) awaits the first before it issues the second; `flush` is the only
 * durability barrier (fdatasync).
 */
export interface ImageFile {
  /** The name used in messages and to resolve relative backing-file names (the path as opened). */
  readonly name: string;
  /** Whether `write`, `truncate` and `flush` may be called. */
  readonly writable: boolean;
  /** The current size in bytes. */
  size(): Promise<number>;
  /**
   * Reads into `into` from byte `offset`; resolves with the number of bytes read, fewer than
   * `into.length` only at the end of the file (the rest of `into` is left as it was).
   */
  read(into: Uint8Array, offset: number): Promise<number>;
  /** Writes all of `data` at byte `offset`; the file grows as needed. */
  write(data: Uint8Array, offset: number): Promise<void>;
  /** Sets the file's size (growing it with zeros). */
  truncate(size: number): Promise<void>;
  /** Makes every completed write durable (fdatasync). */
  flush(): Promise<void>;
  /** Releases the file (and its lock). Later calls fail. */
  close(): Promise<void>;
}

/**
 * Opens the backing file an image's header names, read-only. `name` is as the header stores
 * it; the opener resolves a relative name against the directory of `relativeTo` (the file
 * whose header names it), as QEMU does, and rejects with an Error saying why it could not open
 * it (`Could not open 'base.qcow2': No such file or directory`).
 */
export type BackingOpener = (name: string, relativeTo: ImageFile) => Promise<ImageFile>;
