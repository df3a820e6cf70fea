/**
 * The description of an image file a log's header keeps (size and SHA-256), apart from the log
 * code so that finding a replay's images does not load it.
 */
import { createHash } from 'node:crypto';
import { closeSync, openSync, readSync } from 'node:fs';
import type { LogImage } from '../../../replay/index.js';
import { errnoText } from '../errno-text.js';
import { LogFileError } from './log-file-error.js';

/** The header's description of an image file: its size and SHA-256. Throws LogFileError. */
export function describeImage(role: string, path: string): LogImage {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    throw new LogFileError(`cannot open '${path}': ${errnoText(e)}`);
  }
  try {
    const hash = createHash('sha256');
    const buf = new Uint8Array(1 << 20);
    let size = 0;
    while (true) {
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      hash.update(buf.subarray(0, n));
      size += n;
    }
    return { role, path, sha256: hash.digest('hex'), size };
  } finally {
    closeSync(fd);
  }
}
