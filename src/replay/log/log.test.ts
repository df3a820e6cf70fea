import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import type { Compress, Decompress } from './chunk.js';
import { crc32 as crc32Of } from './crc32.js';
import { LogCursor } from './cursor.js';
import { frameChunk, readChunk } from './chunk.js';
import { encodeEvents } from './event-codec.js';
import { ReplayLogError } from './errors.js';
import type { ReplayEvent } from './events.js';
import { FORMAT_MAJOR, FORMAT_MINOR } from './format.js';
import { encodeHeader } from './header.js';
import { describeReport, LogReader, readLog } from './log-reader.js';
import { LogWriter } from './log-writer.js';
import type { LogWriterOptions } from './log-writer.js';
import { bytesSource } from './source.js';
import { computeLogStats } from './stats.js';
import { concatBytes } from '../../net/bytes.js';
import { MemorySink, sampleEvents, sampleHeader } from '../../../test/support/replay/events.js';

const compress: Compress = (raw) => deflateRawSync(raw);
const decompress: Decompress = (data, n) => inflateRawSync(data, { maxOutputLength: Math.max(1, n) });

function record(events: readonly ReplayEvent[], options: LogWriterOptions = {}): { sink: MemorySink; writer: LogWriter } {
  const sink = new MemorySink();
  const writer = new LogWriter(sink, sampleHeader(), options);
  for (const e of events) writer.append(e);
  writer.close();
  return { sink, writer };
}

function headerFails(bytes: Uint8Array, message: string | RegExp, offset?: number): void {
  assert.throws(() => LogReader.open(bytes, { decompress }), (e: unknown) => {
    assert.ok(e instanceof ReplayLogError, `not a ReplayLogError: ${String(e)}`);
    if (typeof message === 'string') assert.equal(e.message, message);
    else assert.match(e.message, message);
    if (offset !== undefined) assert.equal(e.offset, offset);
    return true;
  });
}

/** Consoles events with `n` bytes each, every 1000 instructions. */
function consoleEvents(count: number, n = 8, seed = 0): ReplayEvent[] {
  return Array.from({ length: count }, (_, i) => ({
    kind: 'console-input' as const, icount: 1000 * i, bytes: Uint8Array.from({ length: n }, (_, j) => (i * 7 + j + seed) & 0xff),
  }));
}

test('write and read back every event kind, with and without compression', () => {
  for (const withCompression of [false, true]) {
    const events = sampleEvents();
    const { sink, writer } = record(events, withCompression ? { compress } : {});
    const r = readLog(sink.bytes(), { decompress });
    assert.deepEqual(r.events, events);
    assert.deepEqual(r.header.body, sampleHeader());
    assert.equal(r.header.major, FORMAT_MAJOR);
    assert.equal(r.header.minor, FORMAT_MINOR);
    assert.equal(r.report.complete, true);
    assert.equal(r.report.status, 'complete');
    assert.equal(r.report.reason, undefined);
    assert.deepEqual(r.report.end, events[events.length - 1]);
    assert.equal(r.report.firstIcount, 0);
    assert.equal(r.report.lastIcount, 2 ** 53 - 1);
    assert.equal(writer.stats.events, events.length);
    assert.equal(writer.stats.bytes, sink.length);
    assert.equal(writer.stats.compressedChunks, withCompression ? 1 : 0);
    assert.equal(sink.closed, true);
    assert.match(describeReport(r.report), /^complete recording: 1 chunks, 19 events, instructions 0\.\.9007199254740991, ended by shutdown \(exit code 0\)$/);
  }
});

test('the header is written and synced before any chunk', () => {
  const sink = new MemorySink();
  const w = new LogWriter(sink, sampleHeader(), { compress });
  assert.equal(sink.writes.length, 1);
  assert.equal(sink.syncs, 1);
  const reader = LogReader.open(sink.bytes());
  assert.equal(reader.header.length, sink.length);
  const r = reader.readAll();
  assert.deepEqual(r.events, []);
  assert.equal(r.report.status, 'no-end');
  w.close();
});

test('chunks are cut by size; each chunk is one write; size cuts are not synced', () => {
  const events = consoleEvents(200);
  const sink = new MemorySink();
  const w = new LogWriter(sink, sampleHeader(), { chunkBytes: 100 });
  for (const e of events) w.append(e);
  assert.equal(sink.syncs, 1, 'only the header was synced');
  w.close();
  assert.equal(sink.syncs, 2, 'close syncs');
  const chunks = [...LogReader.open(sink.bytes()).chunks()];
  assert.equal(chunks.length, sink.writes.length - 1);
  // events of 11-12 bytes: each chunk reaches 100 bytes with its 9th event
  for (const c of chunks.slice(0, -1)) {
    assert.ok(c.uncompressedLength >= 100 && c.uncompressedLength < 112, `chunk of ${c.uncompressedLength}`);
    assert.equal(c.compressed, false);
  }
  sink.writes.slice(1).forEach((bytes, i) => {
    const r = readChunk(bytesSource(bytes), 0, { major: FORMAT_MAJOR, minor: 0, prevIcount: 0, decompress });
    assert.ok(r.ok);
    assert.equal(r.chunk.fileLength, bytes.length);
    assert.equal(r.chunk.firstIcount, chunks[i]!.firstIcount);
  });
  assert.deepEqual(chunks.flatMap((c) => c.events), events);
  assert.equal(w.stats.chunks, chunks.length);
});

test('chunks are cut by time: flushIfDue cuts and syncs once per interval', () => {
  const sink = new MemorySink();
  const w = new LogWriter(sink, sampleHeader(), { flushIntervalMs: 200 });
  assert.equal(w.flushIfDue(1000), false, 'nothing pending');
  w.append({ kind: 'virtio-doorbell', icount: 5, slot: 1 });
  assert.equal(w.flushIfDue(1100), false, 'not due yet');
  assert.equal(w.flushIfDue(1199), false);
  assert.equal(sink.writes.length, 1);
  assert.equal(w.flushIfDue(1200), true);
  assert.equal(sink.writes.length, 2);
  assert.equal(sink.syncedLength, sink.length);
  w.append({ kind: 'virtio-doorbell', icount: 6, slot: 1 });
  w.append({ kind: 'virtio-doorbell', icount: 6, slot: 2 });
  assert.equal(w.flushIfDue(1300), false);
  assert.equal(w.flushIfDue(1400), true);
  assert.equal(sink.writes.length, 3);
  // a size cut between two due times is written now and synced at the next due time
  const big = new LogWriter(new MemorySink(), sampleHeader(), { chunkBytes: 10, flushIntervalMs: 200 });
  const bigSink = (big as unknown as { sink: MemorySink }).sink;
  big.append({ kind: 'console-input', icount: 1, bytes: new Uint8Array(20) });
  assert.equal(bigSink.writes.length, 2);
  assert.notEqual(bigSink.syncedLength, bigSink.length);
  assert.equal(big.flushIfDue(0), true);
  assert.equal(bigSink.syncedLength, bigSink.length);
  const r = readLog(sink.bytes());
  assert.deepEqual(r.events.map((e) => e.icount), [5, 6, 6]);
  assert.equal(r.report.chunks, 2);
});

test('compression is used only when it makes a chunk smaller', () => {
  // compressible: repeated text
  const text = consoleEvents(500, 8).map((e, i) => ({ ...e, bytes: new TextEncoder().encode('hello\n') , icount: i }));
  const a = record(text, { compress });
  const sa = computeLogStats(LogReader.open(a.sink.bytes(), { decompress }));
  assert.equal(sa.compressedChunks, sa.chunks);
  assert.ok(sa.storedPayloadBytes * 4 < sa.uncompressedPayloadBytes, `${sa.storedPayloadBytes} vs ${sa.uncompressedPayloadBytes}`);
  // incompressible: random bytes
  let x = 12345;
  const rnd = Uint8Array.from({ length: 30000 }, () => ((x = (Math.imul(x, 1103515245) + 12345) >>> 0) >>> 24));
  const b = record([{ kind: 'entropy', icount: 0, slot: 1, request: 0, bytes: rnd }], { compress });
  const sb = computeLogStats(LogReader.open(b.sink.bytes(), { decompress }));
  assert.equal(sb.compressedChunks, 0);
  assert.equal(sb.storedPayloadBytes, sb.uncompressedPayloadBytes);
  // a compressed log needs a decompressor: without one the reader stops, saying why
  const r = readLog(a.sink.bytes());
  assert.equal(r.report.status, 'unsupported');
  assert.match(r.report.reason!, /is compressed but no decompressor was given/);
});

test('the writer refuses events after end, going back in time, too large; end is synced at once', () => {
  const sink = new MemorySink();
  const w = new LogWriter(sink, sampleHeader());
  w.append({ kind: 'timer', icount: 100, id: 1, shift: 3 });
  w.flush();
  assert.throws(() => w.append({ kind: 'timer', icount: 99, id: 1, shift: 3 }), /icount 99 is before the previous event's 100/);
  w.append({ kind: 'timer', icount: 100, id: 1, shift: 4 });
  assert.throws(() => w.append({ kind: 'timer', icount: 99, id: 1, shift: 3 }), /icount 99 is before the previous event's 100/);
  assert.throws(() => w.append({ kind: 'console-input', icount: 200, bytes: new Uint8Array(8 << 20) }), /exceeds the maximum of 8388608/);
  w.append({ kind: 'end', icount: 150, reason: 'quit', exitCode: 0 });
  assert.equal(w.ended, true);
  assert.equal(sink.syncedLength, sink.length, 'the end chunk is synced');
  assert.throws(() => w.append({ kind: 'timer', icount: 200, id: 1, shift: 3 }), /timer event after the end event/);
  w.close();
  w.close();
  assert.throws(() => w.append({ kind: 'timer', icount: 200, id: 1, shift: 3 }), /after close/);
  const r = readLog(sink.bytes());
  assert.equal(r.report.status, 'complete');
  assert.deepEqual(r.events.map((e) => e.kind), ['timer', 'timer', 'end']);
  assert.throws(() => new LogWriter(new MemorySink(), sampleHeader(), { chunkBytes: 0 }), /chunkBytes must be/);
  assert.throws(() => new LogWriter(new MemorySink(), { ...sampleHeader(), machine: [] as unknown as object }), /machine must be a JSON object/);
  assert.throws(() => new LogWriter(new MemorySink(), { ...sampleHeader(), images: [{ role: 'k', path: 'p', sha256: 'x', size: 1 }] }), /images\[0\]\.sha256/);
});

test('a failing sink stops the writer for good', () => {
  const sink = new MemorySink();
  const w = new LogWriter(sink, sampleHeader());
  sink.write = () => {
    throw new Error('No space left on device');
  };
  w.append({ kind: 'timer', icount: 1, id: 1, shift: 3 });
  assert.throws(() => w.flush(), /No space left on device/);
  assert.throws(() => w.append({ kind: 'timer', icount: 2, id: 1, shift: 3 }), /can no longer be written: No space left on device/);
  w.close();
  assert.equal(sink.closed, true);
});

test('a recording cut at every byte offset reads back exactly its complete chunks', () => {
  const events = [...sampleEvents().slice(0, -2), ...consoleEvents(40, 5).map((e) => ({ ...e, icount: e.icount + 10_000 }))];
  events.sort((a, b) => a.icount - b.icount);
  const sink = new MemorySink();
  const w = new LogWriter(sink, sampleHeader(), { chunkBytes: 120, compress });
  for (const e of events) w.append(e);
  w.flush(); // the end alone: a chunk too small to compress
  w.append({ kind: 'end', icount: 100_000, reason: 'signal', exitCode: 9 });
  w.close();
  const full = sink.bytes();
  const headerLength = sink.writes[0]!.length;
  // chunk boundaries and the events each chunk holds
  const bounds: number[] = [headerLength];
  for (const c of sink.writes.slice(1)) bounds.push(bounds[bounds.length - 1]! + c.length);
  const all = readLog(full, { decompress });
  assert.equal(all.report.status, 'complete');
  const chunks = [...LogReader.open(full, { decompress }).chunks()];
  assert.ok(chunks.length >= 6, `${chunks.length} chunks`);
  assert.ok(chunks.some((c) => c.compressed) && chunks.some((c) => !c.compressed));
  for (let cut = 0; cut <= full.length; cut++) {
    const bytes = full.subarray(0, cut);
    if (cut < headerLength) {
      headerFails(bytes, cut === 0 ? 'not a replayvm log (empty file, offset 0)' : /^truncated header: .*the file ends at offset \d+/, cut);
      continue;
    }
    const r = readLog(bytes, { decompress });
    const whole = bounds.filter((b) => b <= cut).length - 1;
    assert.equal(r.report.chunks, whole, `cut ${cut}`);
    assert.deepEqual(r.events, chunks.slice(0, whole).flatMap((c) => c.events), `cut ${cut}`);
    assert.equal(r.report.stoppedAtOffset, bounds[whole]);
    if (cut === full.length) {
      assert.equal(r.report.status, 'complete');
    } else if (bounds.includes(cut)) {
      assert.equal(r.report.status, 'no-end');
      assert.equal(r.report.reason, `the log ends at offset ${cut} without an end event`);
    } else {
      assert.equal(r.report.status, 'truncated', `cut ${cut}: ${r.report.reason}`);
      assert.match(r.report.reason!, new RegExp(`^truncated chunk at offset ${bounds[whole]} `));
      assert.ok(r.report.error instanceof ReplayLogError);
      assert.equal(r.report.error.offset, bounds[whole]);
    }
    if (whole > 0 && cut < full.length) {
      assert.match(describeReport(r.report), new RegExp(`^incomplete log \\(crashed recording\\): it reaches instruction ${chunks[whole - 1]!.lastIcount} in its ${whole} whole chunks?; then `));
    }
  }
});

test('header errors say exactly what is wrong', () => {
  const good = encodeHeader(sampleHeader());
  headerFails(new TextEncoder().encode('#!/bin/sh\necho hello\n'), 'not a replayvm log (bad magic at offset 0)', 0);
  headerFails(new Uint8Array([0x52, 0x56, 0x4d]), 'truncated header: the file ends at offset 3 (the fixed header is 16 bytes)', 3);
  headerFails(encodeHeader(sampleHeader(), 3, 0), 'log version 3.0 at offset 8 is newer than this replayvm (2.x)', 8);
  // 1.x digests covered the x0 sink: refused by version, not misreported as a divergence
  headerFails(encodeHeader(sampleHeader(), 1, 1), 'log version 1.1 at offset 8 is older than this replayvm reads (2.x)', 8);
  headerFails(encodeHeader(sampleHeader(), 0, 9), 'log version 0.9 at offset 8 is older than this replayvm reads (2.x)', 8);
  const flipped = good.slice();
  flipped[40]! ^= 1;
  headerFails(flipped, `header CRC mismatch at offset ${good.length - 4}`, good.length - 4);
  const huge = good.slice();
  new DataView(huge.buffer).setUint32(12, 0xfffffff0, true);
  headerFails(huge, 'header length 4294967280 at offset 12 exceeds the maximum of 1048576', 12);
  const long = good.slice();
  new DataView(long.buffer).setUint32(12, 5000, true);
  headerFails(long, `truncated header: the header is 5020 bytes (length at offset 12) but the file ends at offset ${good.length}`);
  // a body that passes the CRC but is not what we expect
  const raw = (json: string): Uint8Array => {
    const body = new TextEncoder().encode(json);
    const b = new Uint8Array(16 + body.length + 4);
    b.set(good.subarray(0, 12));
    const dv = new DataView(b.buffer);
    dv.setUint32(12, body.length, true);
    b.set(body, 16);
    dv.setUint32(16 + body.length, crc32Of(b.subarray(0, 16 + body.length)), true);
    return b;
  };
  headerFails(raw('{"replayvm":'), /^header body at offset 16 is not valid UTF-8 JSON \(/);
  headerFails(raw('[]'), 'header body at offset 16: the body is not a JSON object');
  headerFails(raw('{"replayvm":"1","created":"x","machine":{}}'), "header body at offset 16: field 'images' must be an array");
  // newer minor versions are read; unknown extra fields are kept
  const r = LogReader.open(raw('{"replayvm":"1","created":"x","machine":{},"images":[],"future":1}'));
  assert.equal(r.header.body.future, 1);
});


function log(chunks: Uint8Array[], major = FORMAT_MAJOR, minor = 0): Uint8Array {
  return concatBytes([encodeHeader(sampleHeader(), major, minor), ...chunks]);
}

test('a newer minor version: known events read, an unknown kind stops with a clear error', () => {
  const first = frameChunk(encodeEvents([{ kind: 'timer', icount: 10, id: 1, shift: 3 }]), 1, 10).bytes;
  const second = frameChunk(new Uint8Array([0x0e, 0x00, 0x01]), 1, 20).bytes;
  const bytes = log([first, second], FORMAT_MAJOR, FORMAT_MINOR + 1);
  const r = readLog(bytes);
  assert.deepEqual(r.events, [{ kind: 'timer', icount: 10, id: 1, shift: 3 }]);
  assert.equal(r.report.status, 'unsupported');
  const at = encodeHeader(sampleHeader()).length + first.length;
  assert.equal(r.report.reason, `event 0 of the chunk at offset ${at}: unknown event kind 0x0e: the log's format ${FORMAT_MAJOR}.${FORMAT_MINOR + 1} is newer than this replayvm's ${FORMAT_MAJOR}.${FORMAT_MINOR} at offset ${at + 25}`);
  // unknown chunk flags
  const flagged = frameChunk(encodeEvents([{ kind: 'timer', icount: 10, id: 1, shift: 3 }]), 1, 10).bytes;
  flagged[12] = 0x80;
  new DataView(flagged.buffer).setUint32(flagged.length - 4, crc32Of(flagged.subarray(0, flagged.length - 4)), true);
  const f = readLog(log([flagged], FORMAT_MAJOR, FORMAT_MINOR + 1));
  assert.equal(f.report.status, 'unsupported');
  assert.match(f.report.reason!, new RegExp(`has unknown flags 0x80 \\(log format ${FORMAT_MAJOR}\\.${FORMAT_MINOR + 1}, this replayvm reads ${FORMAT_MAJOR}\\.${FORMAT_MINOR}\\)`));
  assert.equal(readLog(log([flagged], FORMAT_MAJOR, FORMAT_MINOR)).report.status, 'corrupt');
});

test('chunk corruption: CRC, magic, lengths, icount order, data after the end', () => {
  const c1 = frameChunk(encodeEvents([{ kind: 'timer', icount: 10, id: 1, shift: 3 }]), 1, 10).bytes;
  const c2 = frameChunk(encodeEvents([{ kind: 'timer', icount: 20, id: 1, shift: 3 }]), 1, 20).bytes;
  const end = frameChunk(encodeEvents([{ kind: 'end', icount: 30, reason: 'quit', exitCode: 0 }]), 1, 30).bytes;
  const h = encodeHeader(sampleHeader()).length;
  const check = (bytes: Uint8Array, status: string, reason: string | RegExp, events: number): void => {
    const r = readLog(bytes, { decompress });
    assert.equal(r.report.status, status, r.report.reason);
    if (typeof reason === 'string') assert.equal(r.report.reason, reason);
    else assert.match(r.report.reason!, reason);
    assert.equal(r.events.length, events);
  };
  assert.equal(readLog(log([c1, c2, end])).report.status, 'complete');
  const bad = c2.slice();
  bad[27]! ^= 0x10;
  check(log([c1, bad, end]), 'corrupt', `CRC mismatch in chunk at offset ${h + c1.length}; the next intact chunk is at offset ${h + c1.length + c2.length}`, 1);
  check(log([c1, new Uint8Array([1, 2, 3, 4, 5, 6]), end]), 'corrupt', `bad chunk magic at offset ${h + c1.length}; the next intact chunk is at offset ${h + c1.length + 6}`, 1);
  const huge = c2.slice();
  new DataView(huge.buffer).setUint32(4, 0xffffffff, true);
  check(log([c1, huge]), 'corrupt', `chunk at offset ${h + c1.length}: payload length 4294967295 exceeds the maximum of 16777216`, 1);
  const long = c2.slice();
  new DataView(long.buffer).setUint32(4, 10 << 20, true);
  check(log([c1, long]), 'truncated', new RegExp(`^truncated chunk at offset ${h + c1.length} \\(it is 10485789 bytes, the file has \\d+ left\\)$`), 1);
  check(log([c2, c1]), 'corrupt', `chunk at offset ${h + c2.length} starts at icount 10, before the previous event's 20 (icounts may not decrease)`, 1);
  check(log([c1, end, c2]), 'corrupt', `${c2.length} bytes of unexpected data after the end of the recording at offset ${h + c1.length + end.length}`, 2);
  // an end event that is not the last of its chunk
  const mid = frameChunk(encodeEvents([{ kind: 'end', icount: 30, reason: 'quit', exitCode: 0 }, { kind: 'timer', icount: 30, id: 1, shift: 3 }]), 2, 30).bytes;
  check(log([c1, mid]), 'corrupt', /event 1 of the chunk at offset \d+: an event follows the end event/, 1);
  // compressed chunks whose declared size lies
  const raw = encodeEvents(Array.from({ length: 50 }, (_, i) => ({ kind: 'timer' as const, icount: 100 + i, id: 1, shift: 3 })));
  const packed = frameChunk(raw, 50, 100, compress).bytes;
  const lie = (uncompressed: number): Uint8Array => {
    const b = packed.slice();
    new DataView(b.buffer).setUint32(8, uncompressed, true);
    new DataView(b.buffer).setUint32(b.length - 4, crc32Of(b.subarray(0, b.length - 4)), true);
    return b;
  };
  check(log([c1, lie(raw.length - 1)]), 'corrupt', /: cannot decompress its payload \(/, 1);
  check(log([c1, lie(raw.length + 1)]), 'corrupt', new RegExp(`payload inflates to ${raw.length} bytes, not the declared ${raw.length + 1}`), 1);
  check(log([c1, lie(64 << 20)]), 'corrupt', /uncompressed length 67108864 is impossible for \d+ compressed bytes/, 1);
  check(log([c1, lie(0xffffffff)]), 'corrupt', /uncompressed length 4294967295 exceeds the maximum of 67108864/, 1);
});

test('garbage fails fast: 100 MB of junk, and a valid header followed by junk', () => {
  const junk = new Uint8Array(100 << 20);
  for (let i = 0; i < junk.length; i += 4096) junk[i] = i & 0xff;
  junk[0] = 0x7f;
  let t = performance.now();
  headerFails(junk, 'not a replayvm log (bad magic at offset 0)');
  assert.ok(performance.now() - t < 1000);
  const h = encodeHeader(sampleHeader());
  junk.set(h);
  t = performance.now();
  const r = readLog(junk);
  assert.ok(performance.now() - t < 1000);
  assert.equal(r.report.status, 'corrupt');
  assert.equal(r.report.reason, `bad chunk magic at offset ${h.length}`);
});

test('the cursor peeks and consumes across chunks, then reports', () => {
  const events = consoleEvents(50);
  const { sink } = record(events, { chunkBytes: 64 });
  const c = new LogCursor(LogReader.open(sink.bytes()));
  const seen: ReplayEvent[] = [];
  while (c.peek() !== undefined) {
    const p = c.peek();
    const n = c.next();
    assert.equal(p, n);
    seen.push(n!);
  }
  assert.equal(c.next(), undefined);
  assert.deepEqual(seen, events);
  assert.equal(c.report?.status, 'no-end');
  assert.ok((c.report?.chunks ?? 0) > 5);
});
