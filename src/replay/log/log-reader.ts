/**
 * Reads a replay log: the header when opened (a bad header throws), then chunk by chunk. A chunk
 * that is truncated, fails its CRC or does not decode stops the reading: everything before it
 * is returned and the report says where and why, so a crashed or damaged recording still
 * replays up to its last good chunk. Nothing but ReplayLogError is ever thrown for bad input.
 *
 * A crash and damage are told apart: a recorder killed in the middle of a write leaves a short
 * last chunk and nothing after it (status `truncated`, an incomplete log); a bad chunk followed
 * by an intact one, or one that fails its CRC or checks, is damage inside the file (`corrupt`).
 */
import type { ChunkDamage, Decompress, LogChunk } from './chunk.js';
import { readChunk } from './chunk.js';
import { findIntactChunk } from './resync.js';
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
 * - truncated: the last chunk is cut short and nothing intact follows (killed or crashed in the
 *   middle of a write);
 * - corrupt: damage inside the file: a chunk fails its CRC or checks, a short chunk is followed
 *   by an intact one, or data follows the end event;
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
  /**
   * Icount of the first and last event read (undefined when there is none); progress
   * checkpoints count, so `lastIcount` is the last instruction count the recording is known to
   * have reached (a replay of an incomplete log runs to it).
   */
  readonly firstIcount: number | undefined;
  readonly lastIcount: number | undefined;
  /** Icount of the last event proper (not a progress checkpoint); undefined when there is none. */
  readonly lastEventIcount: number | undefined;
  /** Progress checkpoints read. */
  readonly progress: number;
  /** The end event, when the recording ended cleanly. */
  readonly end: EndEvent | undefined;
  /** Where reading stopped: the file size when it reached the end. */
  readonly stoppedAtOffset: number;
  readonly fileSize: number;
  /** Why the log is not complete (the error's message), e.g. "truncated chunk at offset 1234 (...)". */
  readonly reason: string | undefined;
  readonly error: ReplayLogError | undefined;
  /** For damage (`corrupt`): the offset of the first intact chunk after the bad one, if any. */
  readonly resyncOffset: number | undefined;
}

/**
 * What a log's end means for its user: `complete` (the end event), `incomplete` (a recording
 * killed or crashed: whole chunks then nothing, or a short last chunk), `damaged` (bad data
 * inside the file), `unsupported` (needs a newer replayvm).
 */
export type LogEnding = 'complete' | 'incomplete' | 'damaged' | 'unsupported';

/** The ending of a report's status. */
export function logEnding(r: LogReport): LogEnding {
  switch (r.status) {
    case 'complete': return 'complete';
    case 'no-end':
    case 'truncated': return 'incomplete';
    case 'corrupt': return 'damaged';
    case 'unsupported': return 'unsupported';
  }
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
    let lastEventIcount: number | undefined;
    let progress = 0;
    let end: EndEvent | undefined;
    let stop: { status: LogStatus; error: ReplayLogError | undefined; resyncOffset?: number };
    while (true) {
      if (offset >= size) {
        stop = end !== undefined
          ? { status: 'complete', error: undefined }
          : { status: 'no-end', error: new ReplayLogError(offset, `the log ends at offset ${offset} without an end event`) };
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
        stop = this.classifyDamage(offset, r.damage, r.error);
        break;
      }
      const c = r.chunk;
      chunks++;
      events += c.events.length;
      skipped += c.skipped;
      progress += c.progress;
      lastEventIcount = c.events.at(-1)?.icount ?? lastEventIcount;
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
      complete: stop.status === 'complete', status: stop.status, chunks, events, skipped, firstIcount, lastIcount,
      lastEventIcount, progress, end, stoppedAtOffset: offset, fileSize: size, reason: stop.error?.message, error: stop.error,
      resyncOffset: stop.resyncOffset,
    };
    this.report = report;
    return report;
  }

  /**
   * A bad chunk at `offset`: a crash tail (`truncated`) only when it is cut short by the end of
   * the file and no intact chunk follows it; anything else is damage (`corrupt`), named with
   * the next intact chunk when there is one.
   */
  private classifyDamage(offset: number, damage: ChunkDamage, error: ReplayLogError): { status: LogStatus; error: ReplayLogError; resyncOffset?: number } {
    if (damage === 'unsupported') return { status: damage, error };
    const next = findIntactChunk(this.source, offset);
    if (next === undefined) return { status: damage, error };
    const why = damage === 'truncated'
      ? `${error.message}, but an intact chunk follows at offset ${next.offset} (damage, not a crash)`
      : `${error.message}; the next intact chunk is at offset ${next.offset}`;
    return { status: 'corrupt', error: new ReplayLogError(error.offset, why), resyncOffset: next.offset };
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
 * One line for the user, by how the log ends:
 * - "complete recording: 12 chunks, 345 events, instructions 0..123456, ended by shutdown (exit code 0)"
 * - "incomplete log (crashed recording): it reaches instruction 123456 (a progress checkpoint)
 *   in its 12 whole chunks; then the log ends at offset 5678 without an end event (...)"
 * - "replay log damaged at offset 5678: CRC mismatch in chunk at offset 5678; ... (its 12 whole
 *   chunks before it reach instruction 123456)"
 * - "unsupported log: event 0 of the chunk at offset 5678: ... (its 12 whole chunks before it ...)"
 */
export function describeReport(r: LogReport): string {
  const range = r.firstIcount === undefined ? 'no instructions' : `instructions ${r.firstIcount}..${r.lastIcount}`;
  const reach = r.lastIcount === undefined
    ? 'no event'
    : `instruction ${r.lastIcount}${r.lastIcount !== r.lastEventIcount ? ' (a progress checkpoint)' : ''}`;
  const chunks = `${r.chunks} whole chunk${r.chunks === 1 ? '' : 's'}`;
  switch (logEnding(r)) {
    case 'complete':
      return `complete recording: ${r.chunks} chunks, ${r.events} events, ${range}, ended by ${r.end?.reason} (exit code ${r.end?.exitCode})`;
    case 'incomplete':
      return `incomplete log (crashed recording): it reaches ${reach} in its ${chunks}; then ${r.reason}`;
    case 'damaged':
      return `replay log damaged at offset ${r.error?.offset ?? r.stoppedAtOffset}: ${r.reason} (its ${chunks} before it reach ${reach})`;
    case 'unsupported':
      return `unsupported log: ${r.reason} (its ${chunks} before it reach ${reach})`;
  }
}
