/**
 * Where the reader gets bytes from: a whole Uint8Array, or a random-access source (a file on the
 * host side) so that a large log is read chunk by chunk.
 */

export interface ByteSource {
  /** Total bytes available. */
  readonly size: number;
  /** Up to `length` bytes starting at `offset` (fewer only at the end of the source). */
  read(offset: number, length: number): Uint8Array;
  /** Releases the source (a file descriptor); optional. */
  close?(): void;
}

/** A ByteSource over bytes in memory. */
export function bytesSource(bytes: Uint8Array): ByteSource {
  return {
    size: bytes.length,
    read: (offset, length) => bytes.subarray(offset, Math.min(bytes.length, offset + length)),
  };
}
