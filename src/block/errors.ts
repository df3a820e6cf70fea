/**
 * A disk image that cannot be opened or used: bad magic, a header field out of range, a
 * table entry pointing outside the file, an unsupported feature, a backing chain that loops.
 * The message is one line naming the file and, where there is one, the byte offset or table
 * entry at fault (`disk.qcow2: L2 table entry 17 of L1 entry 3 points past the end of the
 * file (offset 0x2a0000, file size 0x200000)`).
 */
export class ImageError extends Error {
  override name = 'ImageError';
}
