/**
 * The replay log on the host: a file written with synchronous writes and fdatasync, compressed
 * with zlib's deflate-raw, and read back chunk by chunk with positioned reads (the whole file is
 * never loaded). The format itself is core code: src/replay/log/.
 *
 * Crash safety: the log is written directly at its final path (never PATH.tmp then rename), so
 * at every moment the file is a valid prefix: header, whole chunks, maybe a partial last chunk.
 * An existing file is never truncated unless `overwrite: true` is given.
 */
import { closeSync, fdatasyncSync, fstatSync, fsyncSync, openSync, readSync, unlinkSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import {
  LogReader, LogWriter, type ByteSource, type Compress, type Decompress, type LogHeaderInit,
  type LogSink, type LogWriterOptions, type ReadAllResult,
} from '../../../replay/index.js';
import { errnoText } from '../errno-text.js';
import { LogFileError } from './log-file-error.js';

export { LogFileError } from './log-file-error.js';
export { describeImage } from './image-file.js';


/** deflate-raw at `level` (zlib's 1..9; default 6). */
export function nodeCompress(level = 6): Compress {
  return (raw) => deflateRawSync(raw, { level });
}

/** inflate-raw that never produces more than the declared length. */
export const nodeDecompress: Decompress = (data, uncompressedLength) =>
  inflateRawSync(data, { maxOutputLength: Math.max(1, uncompressedLength) });

export interface OpenLogWriterOptions extends Omit<LogWriterOptions, 'compress'> {
  /** Replace an existing file (default: refuse). */
  readonly overwrite?: boolean;
  /** Compress chunks with deflate-raw when smaller (default true). */
  readonly compress?: boolean;
  /** zlib level 1..9 (default 6). */
  readonly compressionLevel?: number;
}

/** The header fields; `created` defaults to now. */
export type LogHeaderFields = Omit<LogHeaderInit, 'created'> & { readonly created?: string };

function writeFully(fd: number, bytes: Uint8Array): void {
  let off = 0;
  while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
}

/** Makes the new directory entry durable (best effort: not every platform can fsync a directory). */
function syncDirectory(path: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dirname(path), 'r');
    fsyncSync(fd);
  } catch {
    // Windows and some file systems refuse; the data itself is still synced.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * Creates the log at `path`, writes and fsyncs the header, and returns the writer. Refuses an
 * existing file unless `overwrite`. Throws LogFileError for file problems, RangeError for a bad
 * header.
 */
export function openLogWriter(path: string, header: LogHeaderFields, options: OpenLogWriterOptions = {}): LogWriter {
  let fd: number;
  try {
    fd = openSync(path, options.overwrite === true ? 'w' : 'wx', 0o644);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new LogFileError(`replay log '${path}' already exists (refusing to overwrite it)`);
    }
    throw new LogFileError(`cannot create replay log '${path}': ${errnoText(e)}`);
  }
  let open = true;
  const sink: LogSink = {
    write: (bytes) => {
      try {
        writeFully(fd, bytes);
      } catch (e) {
        throw new LogFileError(`cannot write replay log '${path}': ${errnoText(e)}`);
      }
    },
    sync: () => {
      try {
        fdatasyncSync(fd);
      } catch (e) {
        throw new LogFileError(`cannot sync replay log '${path}': ${errnoText(e)}`);
      }
    },
    close: () => {
      if (open) {
        open = false;
        closeSync(fd);
      }
    },
  };
  try {
    const { compress, compressionLevel, overwrite: _overwrite, ...rest } = options;
    const writer = new LogWriter(sink, { ...header, created: header.created ?? new Date().toISOString() }, {
      ...rest,
      ...(compress === false ? {} : { compress: nodeCompress(compressionLevel) }),
    });
    syncDirectory(path);
    return writer;
  } catch (e) {
    sink.close?.();
    try {
      unlinkSync(path);
    } catch {
      // already gone
    }
    throw e;
  }
}

/** A ByteSource over an open file (positioned reads; the size is taken once, at open). */
function fileSource(fd: number, path: string): ByteSource {
  const size = fstatSync(fd).size;
  let open = true;
  return {
    size,
    read: (offset, length) => {
      const n = Math.max(0, Math.min(length, size - offset));
      const buf = new Uint8Array(n);
      let got = 0;
      while (got < n) {
        let r: number;
        try {
          r = readSync(fd, buf, got, n - got, offset + got);
        } catch (e) {
          throw new LogFileError(`cannot read replay log '${path}': ${errnoText(e)}`);
        }
        if (r === 0) break;
        got += r;
      }
      return got === n ? buf : buf.subarray(0, got);
    },
    close: () => {
      if (open) {
        open = false;
        closeSync(fd);
      }
    },
  };
}

/**
 * Opens the log at `path` and reads its header. Throws LogFileError if the file cannot be
 * opened, ReplayLogError if it is not a valid log. Close the reader when done.
 */
export function openLogReader(path: string): LogReader {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    throw new LogFileError(`cannot open replay log '${path}': ${errnoText(e)}`);
  }
  const source = fileSource(fd, path);
  try {
    return LogReader.open(source, { decompress: nodeDecompress });
  } catch (e) {
    source.close?.();
    throw e;
  }
}

/** Header, events and report of the log at `path` (for small logs and tests). */
export function readLogFile(path: string): ReadAllResult {
  const reader = openLogReader(path);
  try {
    return reader.readAll();
  } finally {
    reader.close();
  }
}
