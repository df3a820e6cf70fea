/** The sink for `-d` trace lines: `-D FILE` or stderr, written synchronously so none are lost. */
import { closeSync, openSync } from 'node:fs';
import { writeAll } from './write-all.js';

/** A line sink and its cleanup. */
export interface TraceLog {
  /** Writes one line; a newline is added unless the line ends in one. */
  readonly log: (line: string) => void;
  /** Closes the file, if any. */
  close(): void;
}

/** Opens `path` (truncating it) or uses stderr when `path` is undefined; throws the open error. */
export function openTraceLog(path: string | undefined): TraceLog {
  let fd: number | undefined = path === undefined ? 2 : openSync(path, 'w');
  const owned = path !== undefined;
  return {
    log(line: string): void {
      if (fd === undefined) return;
      writeAll(fd, Buffer.from(line.endsWith('\n') ? line : line + '\n'));
    },
    close(): void {
      if (owned && fd !== undefined) closeSync(fd);
      fd = undefined;
    },
  };
}
