/**
 * The replay log: a versioned, chunked, CRC-checked binary format (docs/replay-log.md).
 * Core code: no Node imports; file I/O and zlib are in src/host/node/replay/log-file.ts.
 * Internal to src/replay: code outside it imports src/replay/index.ts.
 */
export { ReplayLogError } from './errors.js';
export type {
  BlockCompleteEvent, ClockReadEvent, ClockWarpEvent, ConsoleInputEvent, DigestEvent, EndEvent, EntropyEvent, EventOf, HartDigest,
  InterruptEvent, MonitorEvent, NetReceiveEvent, ReplayEvent, ReplayEventKind, RequestEvent, TimerEvent,
  VirtioDoorbellEvent,
} from './events.js';
export { EVENT_KINDS, payloadBytesOf } from './events.js';
export { FORMAT_MAJOR, FORMAT_MINOR, PROGRESS_CODE } from './format.js';
export type { LogHeader, LogHeaderBody, LogHeaderInit, LogImage } from './header.js';
export { encodeHeader, readHeader } from './header.js';
export type { Compress, Decompress, LogChunk, ChunkDamage } from './chunk.js';
export { frameChunk } from './chunk.js';
export { decodeEvents, encodeEvent, encodeEvents, encodeProgress } from './event-codec.js';
export type { ByteSource } from './source.js';
export { bytesSource } from './source.js';
export type { LogSink, LogWriterOptions, LogWriterStats } from './log-writer.js';
export { LogWriter } from './log-writer.js';
export type { LogEnding, LogReaderOptions, LogReport, LogStatus, ReadAllResult } from './log-reader.js';
export { LogReader, describeReport, logEnding, readLog } from './log-reader.js';
export type { ResyncPoint } from './resync.js';
export { findIntactChunk } from './resync.js';
export { LogCursor } from './cursor.js';
export type { KindStats, LogStats } from './stats.js';
export { StatsAccumulator, computeLogStats } from './stats.js';
export { crc32, crc32Update } from './crc32.js';
