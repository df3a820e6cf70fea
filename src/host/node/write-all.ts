/** Synchronous, complete writes to a file descriptor. */
import { writeSync } from 'node:fs';

/** Writes all of `data` to `fd`, retrying short writes and EAGAIN (non-blocking pipes). */
export function writeAll(fd: number, data: Uint8Array): void {
  let off = 0;
  while (off < data.length) {
    try {
      off += writeSync(fd, data, off, data.length - off);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
    }
  }
}
