/**
 * Writes a replay log through an injected sink. The header is written and synced at once; then
 * events accumulate in memory and are cut into a chunk (one `sink.write` call) when
 *   - the pending payload reaches `chunkBytes` (default 64 KiB),
 *   - `flushIfDue(nowMs)` finds `flushIntervalMs` (default 200 ms) passed since the last cut,
 *   - the `end` event is appended (the chunk is then synced at once), or at `flush()`/`close()`.
 * `sink.sync()` (fdatasync on the host) runs after the header, after the end chunk, at most once
 * per interval from `flushIfDue`/`checkpoint`, and at `close()`. So a recorder killed at any
 * moment leaves a file whose whole chunks are readable (write() reaches the page cache before the
 * kill) and loses at most the last interval's events; after an OS crash, at most the events since
 * the last sync. `checkpoint(icount, nowMs)`, called more often (every 50 ms on the host), also
 * writes a progress checkpoint, so that a killed recording replays to within that of its kill.
 */
import type { Compress } from './chunk.js';
import { frameChunk } from './chunk.js';
import { encodeEvent, encodeProgress } from './event-codec.js';
import type { ReplayEvent } from './events.js';
import { MAX_CHUNK_THRESHOLD, MAX_EVENT_BYTES } from './format.js';
import type { LogHeaderInit } from './header.js';
import { encodeHeader } from './header.js';
import { ByteWriter } from './varint.js';

/** Where the framed bytes go. */
export interface LogSink {
  /** Writes all of `bytes` at the end of the log (one call per chunk). */
  write(bytes: Uint8Array): void;
  /** Makes what was written durable (fdatasync). */
  sync(): void;
  /** Releases the sink; called once by `LogWriter.close()`. */
  close?(): void;
}

export interface LogWriterOptions {
  /** deflate-raw; chunks are stored compressed only when that makes them smaller. */
  readonly compress?: Compress;
  /** Cut a chunk when its payload reaches this many bytes (default 64 KiB, at most 4 MiB). */
  readonly chunkBytes?: number;
  /** `flushIfDue` cuts pending events and syncs this long after the previous cut (default 200). */
  readonly flushIntervalMs?: number;
}

export interface LogWriterStats {
  readonly chunks: number;
  readonly compressedChunks: number;
  readonly events: number;
  /** Progress checkpoints written (not counted in `events`). */
  readonly progress: number;
  /** Bytes written to the sink (header included). */
  readonly bytes: number;
  /** Uncompressed payload bytes of the chunks written. */
  readonly payloadBytes: number;
}

export class LogWriter {
  private readonly pending = new ByteWriter(64 * 1024);
  private pendingCount = 0;
  private pendingFirstIcount = 0;
  private lastIcount = 0;
  private lastFlushMs: number | undefined;
  private lastSyncMs: number | undefined;
  private unsynced = false;
  private endSeen = false;
  private closed = false;
  private failure: Error | undefined;
  private readonly chunkBytes: number;
  private readonly flushIntervalMs: number;
  private readonly compress: Compress | undefined;
  private counts = { chunks: 0, compressedChunks: 0, events: 0, progress: 0, bytes: 0, payloadBytes: 0 };

  /** Writes and syncs the header; throws a RangeError if the header is not encodable. */
  constructor(private readonly sink: LogSink, header: LogHeaderInit, options: LogWriterOptions = {}) {
    this.chunkBytes = options.chunkBytes ?? 64 * 1024;
    if (!Number.isInteger(this.chunkBytes) || this.chunkBytes < 1 || this.chunkBytes > MAX_CHUNK_THRESHOLD) {
      throw new RangeError(`chunkBytes must be an integer in [1, ${MAX_CHUNK_THRESHOLD}], got ${this.chunkBytes}`);
    }
    this.flushIntervalMs = options.flushIntervalMs ?? 200;
    this.compress = options.compress;
    const bytes = encodeHeader(header);
    this.guard(() => {
      sink.write(bytes);
      sink.sync();
    });
    this.counts.bytes += bytes.length;
  }

  /** Counters of what was written so far. */
  get stats(): LogWriterStats {
    return { ...this.counts };
  }

  /** True once the `end` event was appended (no more events are accepted). */
  get ended(): boolean {
    return this.endSeen;
  }

  /** Icount of the last event appended (0 before any). */
  get icount(): number {
    return this.lastIcount;
  }

  private guard(fn: () => void): void {
    if (this.failure !== undefined) throw new Error(`the replay log can no longer be written: ${this.failure.message}`);
    try {
      fn();
    } catch (e) {
      this.failure = e instanceof Error ? e : new Error(String(e));
      throw e;
    }
  }

  private check(what: string): void {
    if (this.closed) throw new Error(`replay log: ${what} after close`);
    if (this.failure !== undefined) throw new Error(`the replay log can no longer be written: ${this.failure.message}`);
  }

  /**
   * Appends `event`. Throws a RangeError (and records nothing) if the event is malformed, goes
   * back in time, or follows the end event. Appending `end` writes and syncs the last chunk.
   */
  append(event: ReplayEvent): void {
    this.check('append');
    if (this.endSeen) throw new RangeError(`replay log: ${event.kind} event after the end event`);
    const mark = this.pending.length;
    const base = this.pendingCount === 0 ? event.icount : this.lastIcount;
    if (this.pendingCount === 0 && event.icount < this.lastIcount) {
      throw new RangeError(`${event.kind} event: icount ${event.icount} is before the previous event's ${this.lastIcount} (icounts may not decrease)`);
    }
    encodeEvent(this.pending, event, base);
    const size = this.pending.length - mark;
    if (size > MAX_EVENT_BYTES) {
      this.pending.truncate(mark);
      throw new RangeError(`${event.kind} event: its encoding of ${size} bytes exceeds the maximum of ${MAX_EVENT_BYTES}`);
    }
    if (this.pendingCount === 0) this.pendingFirstIcount = event.icount;
    this.pendingCount++;
    this.lastIcount = event.icount;
    this.counts.events++;
    if (event.kind === 'end') {
      this.endSeen = true;
      this.flush();
      this.syncNow();
    } else if (this.pending.length >= this.chunkBytes) {
      this.flush();
    }
  }

  /**
   * Call regularly from the main loop with the host's monotonic time: when `flushIntervalMs`
   * passed since the last time this cut (or since the first call), cuts the pending events into
   * a chunk and syncs what was written. Returns true if it wrote or synced.
   */
  flushIfDue(nowMs: number): boolean {
    this.check('flushIfDue');
    if (this.lastFlushMs !== undefined && nowMs - this.lastFlushMs < this.flushIntervalMs) return false;
    if (this.pendingCount === 0 && !this.unsynced) {
      this.lastFlushMs = nowMs;
      return false;
    }
    this.lastFlushMs = nowMs;
    this.lastSyncMs = nowMs;
    this.flush();
    this.syncNow();
    return true;
  }

  /**
   * Records that the machine reached instruction `icount` (read under the locks, after the
   * events recorded before it were appended) and writes it with the pending events as one chunk
   * at once (one write call, no sync), so that a recorder killed after this replays up to
   * `icount`. Syncs when `flushIntervalMs` passed since the last sync, as `flushIfDue` does.
   * Writes nothing when nothing ran and nothing is pending. Returns true if it wrote.
   * Throws a RangeError (nothing written) when `icount` is before the last event's.
   */
  checkpoint(icount: number, nowMs: number): boolean {
    this.check('checkpoint');
    if (this.endSeen) throw new RangeError('replay log: progress checkpoint after the end event');
    const ran = icount > this.lastIcount || this.counts.events + this.counts.progress === 0;
    if (ran) {
      encodeProgress(this.pending, icount, this.pendingCount === 0 ? icount : this.lastIcount);
      if (this.pendingCount === 0) this.pendingFirstIcount = icount;
      this.pendingCount++;
      this.lastIcount = icount;
      this.counts.progress++;
    } else if (icount < this.lastIcount) {
      throw new RangeError(`progress checkpoint: icount ${icount} is before the previous event's ${this.lastIcount} (icounts may not decrease)`);
    }
    const wrote = this.pendingCount > 0;
    this.flush();
    if (this.lastSyncMs === undefined || nowMs - this.lastSyncMs >= this.flushIntervalMs) {
      this.lastSyncMs = nowMs;
      this.syncNow();
    }
    return wrote;
  }

  /** Writes the pending events as one chunk now (without syncing). */
  flush(): void {
    this.check('flush');
    if (this.pendingCount === 0) return;
    const raw = this.pending.written();
    const framed = frameChunk(raw, this.pendingCount, this.pendingFirstIcount, this.compress);
    this.guard(() => this.sink.write(framed.bytes));
    this.unsynced = true;
    this.counts.chunks++;
    if (framed.compressed) this.counts.compressedChunks++;
    this.counts.bytes += framed.bytes.length;
    this.counts.payloadBytes += raw.length;
    this.pending.truncate(0);
    this.pendingCount = 0;
  }

  private syncNow(): void {
    if (!this.unsynced) return;
    this.guard(() => this.sink.sync());
    this.unsynced = false;
  }

  /**
   * Writes the pending events, syncs and closes the sink. A log closed without an `end` event
   * reads back as a crashed recording (status 'no-end'). Calling it again does nothing.
   */
  close(): void {
    if (this.closed) return;
    try {
      if (this.failure === undefined) {
        this.flush();
        this.syncNow();
      }
    } finally {
      this.closed = true;
      this.sink.close?.();
    }
  }
}
