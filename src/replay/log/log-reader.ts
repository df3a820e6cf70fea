/**
 * Reads a replay log: the header when opened (a bad header throws), then chunk by chunk. A chunk
 * that is truncated, fails its CRC or does not decode stops the reading: everything before it
 * is returned and the report says where and why, so a crashed or damaged recording still
 * replays up to its last good chunk. Nothing but ReplayLogError is ever thrown for bad input.
 */
import type { ChunkDamage, Decompress, LogChunk } from './chunk.js';
import { readChunk } from './chunk.js';
import { ReplayLogError } from './errors.js';
import type { EndEvent, ReplayEvent } from './events.js';
import type { LogHeader } from './header.js';
import { readHeader } from './header.js';
import type { ByteSource } from './source.js';
import { bytesSource } from './source.js';

export interface LogReaderOptions {
  /** Needed for compressed chunks (node: inflateRawSync with maxOutputLength). */
  readonly decompress?: Decompress;
}

/**
 * How a log ends.
 * - complete: the last chunk ends with the `end` event and nothing follows it;
 * - no-end: every chunk is whole but there is no `end` event (the recorder was killed);
 * - truncated: the last chunk is cut short (killed or crashed in the middle of a write);
 * - corrupt: a chunk fails its CRC or checks, or data follows the end event;
 * - unsupported: a chunk needs a newer replayvm (unknown event kind or flag of a newer minor).
 */
export type LogStatus = 'complete' | 'no-end' | ChunkDamage;

export interface LogReport {
  readonly complete: boolean;
  readonly status: LogStatus;
  /** Whole chunks read, and their events (skipped optional events not included). */
  readonly chunks: number;
  readonly events: number;
  /** Optional events of unknown kinds skipped. */
  readonly skipped: number;
  /** Icount of the first and last event read (undefined when there is none). */
  readonly firstIcount: number | undefined;
  readonly lastIcount: number | undefined;
  /** The end event, when the recording ended cleanly. */
  readonly end: EndEvent | undefined;
  /** Where reading stopped: the file size when it reached the end. */
  readonly stoppedAtOffset: number;
  readonly fileSize: number;
  /** Why the log is not complete (the error's message), e.g. "truncated chunk at offset 1234 (...)". */
  readonly reason: string | undefined;
  readonly error: ReplayLogError | undefined;
}

export interface ReadAllResult {
  readonly header: LogHeader;
  readonly events: ReplayEvent[];
  readonly report: LogReport;
}

export class LogReader {
  /** The report of the last scan that ran to its end (undefined before). */
  report: LogReport | undefined;

  private constructor(
    private readonly source: ByteSource,
    readonly header: LogHeader,
    private readonly decompress: Decompress | undefined,
  ) {}

  /** Reads and checks the header; throws a ReplayLogError if it is not a valid log header. */
  static open(input: ByteSource | Uint8Array, options: LogReaderOptions = {}): LogReader {
    const source = input instanceof Uint8Array ? bytesSource(input) : input;
    return new LogReader(source, readHeader(source), options.decompress);
  }

  /** Bytes in the log. */
  get size(): number {
    return this.source.size;
  }

  /**
   * The whole chunks from the first; returns (as the generator's return value, and in
   * `this.report`) the report. Each call starts over at the first chunk.
   */
  *chunks(): Generator<LogChunk, LogReport, undefined> {
    const size = this.source.size;
    let offset = this.header.length;
    let chunks = 0;
    let events = 0;
    let skipped = 0;
    let firstIcount: number | undefined;
    let lastIcount: number | undefined;
    let end: EndEvent | undefined;
    let stop: { status: LogStatus; error: ReplayLogError | undefined };
    while (true) {
      if (offset >= size) {
        stop = end !== undefined
          ? { status: 'complete', error: undefined }
          : { status: 'no-end', error: new ReplayLogError(offset, `the log ends at offset ${offset} without an end event (crashed recording)`) };
        break;
      }
      if (end !== undefined) {
        stop = { status: 'corrupt', error: new ReplayLogError(offset, `${size - offset} bytes of unexpected data after the end of the recording at offset ${offset}`) };
        break;
      }
      const r = readChunk(this.source, offset, {
        major: this.header.major, minor: this.header.minor, prevIcount: lastIcount ?? 0, decompress: this.decompress,
      });
      if (!r.ok) {
        stop = { status: r.damage, error: r.error };
        break;
      }
      const c = r.chunk;
      chunks++;
      events += c.events.length;
      skipped += c.skipped;
      if (c.eventCount > 0) {
        firstIcount ??= c.firstIcount;
        lastIcount = c.lastIcount;
      }
      const last = c.events[c.events.length - 1];
      if (last?.kind === 'end') end = last;
      offset += c.fileLength;
      yield c;
    }
    const report: LogReport = {
      complete: stop.status === 'complete', status: stop.status, chunks, events, skipped, firstIcount, lastIcount, end,
      stoppedAtOffset: offset, fileSize: size, reason: stop.error?.message, error: stop.error,
    };
    this.report = report;
    return report;
  }

  /** The events of the whole chunks, in order; returns the report like `chunks()`. */
  *events(): Generator<ReplayEvent, LogReport, undefined> {
    const it = this.chunks();
    while (true) {
      const n = it.next();
      if (n.done === true) return n.value;
      yield* n.value.events;
    }
  }

  /** Every event at once (for small logs and tests). */
  readAll(): ReadAllResult {
    const events: ReplayEvent[] = [];
    const it = this.chunks();
    while (true) {
      const n = it.next();
      if (n.done === true) return { header: this.header, events, report: n.value };
      for (const e of n.value.events) events.push(e);
    }
  }

  /** Releases the source (closes the file). */
  close(): void {
    this.source.close?.();
  }
}

/** Header, events and report of a log in memory; a bad header throws a ReplayLogError. */
export function readLog(bytes: Uint8Array, options: LogReaderOptions = {}): ReadAllResult {
  return LogReader.open(bytes, options).readAll();
}

/**
 * One line for the user: "complete recording: 12 chunks, 345 events, instructions 0..123456,
 * ended by shutdown (exit code 0)" or "the recording ends at instruction 123456 (crashed
 * recording; replaying its 12 complete chunks): truncated chunk at offset 5678 (...)".
 */
export function describeReport(r: LogReport): string {
  const range = r.firstIcount === undefined ? 'no instructions' : `instructions ${r.firstIcount}..${r.lastIcount}`;
  if (r.complete) {
    return `complete recording: ${r.chunks} chunks, ${r.events} events, ${range}, ended by ${r.end?.reason} (exit code ${r.end?.exitCode})`;
  }
  const what = r.status === 'no-end' || r.status === 'truncated' ? 'crashed recording' : `${r.status} log`;
  const endsAt = r.lastIcount === undefined ? 'before its first event' : `at instruction ${r.lastIcount}`;
  return `the recording ends ${endsAt} (${what}; replaying its ${r.chunks} complete chunks): ${r.reason}`;
}
