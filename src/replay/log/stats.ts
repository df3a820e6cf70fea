/**
 * Totals over a log: per event kind (count, encoded bytes, guest data bytes), icount range,
 * chunk count and sizes, completeness. Streams chunk by chunk.
 */
import type { LogChunk } from './chunk.js';
import type { ReplayEventKind } from './events.js';
import { payloadBytesOf } from './events.js';
import type { LogReader, LogReport } from './log-reader.js';

export interface KindStats {
  count: number;
  /** Bytes of the events' encoding in the uncompressed payloads. */
  encodedBytes: number;
  /** Guest data bytes carried (console bytes, block data, entropy, frames). */
  payloadBytes: number;
}

export interface LogStats {
  readonly fileSize: number;
  readonly headerBytes: number;
  readonly chunks: number;
  readonly compressedChunks: number;
  /** Payload bytes as stored in the file, and after decompression. */
  readonly storedPayloadBytes: number;
  readonly uncompressedPayloadBytes: number;
  /** Bytes of chunk framing (magic, lengths, CRC...). */
  readonly framingBytes: number;
  readonly events: number;
  readonly perKind: Partial<Record<ReplayEventKind, KindStats>>;
  readonly firstIcount: number | undefined;
  readonly lastIcount: number | undefined;
  readonly report: LogReport;
}

/** Accumulates chunks as they are read. */
export class StatsAccumulator {
  chunks = 0;
  compressedChunks = 0;
  stored = 0;
  uncompressed = 0;
  framing = 0;
  events = 0;
  readonly perKind: Partial<Record<ReplayEventKind, KindStats>> = {};

  add(c: LogChunk): void {
    this.chunks++;
    if (c.compressed) this.compressedChunks++;
    this.stored += c.storedLength;
    this.uncompressed += c.uncompressedLength;
    this.framing += c.fileLength - c.storedLength;
    c.events.forEach((e, i) => {
      const k = (this.perKind[e.kind] ??= { count: 0, encodedBytes: 0, payloadBytes: 0 });
      k.count++;
      k.encodedBytes += c.eventSizes[i] ?? 0;
      k.payloadBytes += payloadBytesOf(e);
      this.events++;
    });
  }

  finish(reader: LogReader, report: LogReport): LogStats {
    return {
      fileSize: reader.size, headerBytes: reader.header.length, chunks: this.chunks,
      compressedChunks: this.compressedChunks, storedPayloadBytes: this.stored,
      uncompressedPayloadBytes: this.uncompressed, framingBytes: this.framing, events: this.events,
      perKind: this.perKind, firstIcount: report.firstIcount, lastIcount: report.lastIcount, report,
    };
  }
}

/** Reads every chunk of `reader` and totals it. */
export function computeLogStats(reader: LogReader): LogStats {
  const acc = new StatsAccumulator();
  const it = reader.chunks();
  while (true) {
    const n = it.next();
    if (n.done === true) return acc.finish(reader, n.value);
    acc.add(n.value);
  }
}
