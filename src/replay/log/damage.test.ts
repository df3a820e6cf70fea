/**
 * The reader tells a crash from damage: a recorder killed in the middle of a write leaves a short
 * last chunk (an incomplete log), while a flipped bit or zeroed bytes inside the file, with
 * intact chunks after them, are damage "at offset N".
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import type { Compress, Decompress } from './chunk.js';
import type { ReplayEvent } from './events.js';
import { describeReport, logEnding, readLog, type LogReport } from './log-reader.js';
import { LogWriter } from './log-writer.js';
import { MAX_RESYNC_DISTANCE, findIntactChunk } from './resync.js';
import { bytesSource } from './source.js';
import { MemorySink, sampleHeader } from '../../../test/support/replay/events.js';

const compress: Compress = (raw) => deflateRawSync(raw);
const decompress: Decompress = (data, n) => inflateRawSync(data, { maxOutputLength: Math.max(1, n) });

/** A complete log of `chunks` chunks (console input, compressed when `compressed`); its chunks' offsets. */
function sampleLog(chunks: number, compressed: boolean): { bytes: Uint8Array; offsets: number[]; events: ReplayEvent[] } {
  const sink = new MemorySink();
  const w = new LogWriter(sink, sampleHeader(), compressed ? { compress } : {});
  const events: ReplayEvent[] = [];
  for (let c = 0; c < chunks; c++) {
    for (let i = 0; i < 20; i++) {
      const e: ReplayEvent = { kind: 'console-input', icount: c * 10_000 + i * 100, bytes: new TextEncoder().encode(`chunk ${c} line ${i}\n`) };
      w.append(e);
      events.push(e);
    }
    w.flush();
  }
  const end: ReplayEvent = { kind: 'end', icount: chunks * 10_000, reason: 'shutdown', exitCode: 0 };
  w.append(end);
  events.push(end);
  w.close();
  const offsets: number[] = [];
  let at = sink.writes[0]!.length;
  for (const c of sink.writes.slice(1)) {
    offsets.push(at);
    at += c.length;
  }
  return { bytes: sink.bytes(), offsets, events };
}

function read(bytes: Uint8Array): { report: LogReport; events: ReplayEvent[] } {
  const r = readLog(bytes, { decompress });
  return { report: r.report, events: r.events };
}

for (const compressed of [false, true]) {
  const kind = compressed ? 'compressed' : 'stored';

  test(`${kind} chunks: a bit flipped in a middle chunk is damage at that chunk, not a crash`, () => {
    const { bytes, offsets, events } = sampleLog(6, compressed);
    const n = offsets.length;
    for (let c = 0; c < n; c++) {
      const start = offsets[c]!;
      const endOfChunk = c + 1 < n ? offsets[c + 1]! : bytes.length;
      // a byte of the header, of the payload and of the CRC
      for (const at of [start + 2, start + 13, start + 30, endOfChunk - 2]) {
        const b = bytes.slice();
        b[at]! ^= 0x04;
        const { report, events: got } = read(b);
        const what = `${kind}, chunk ${c}, byte ${at}: ${report.reason ?? ''}`;
        assert.equal(report.status, 'corrupt', what);
        assert.equal(logEnding(report), 'damaged', what);
        assert.equal(report.error?.offset, start, what);
        assert.equal(report.chunks, c, what);
        assert.deepEqual(got, events.slice(0, 20 * c), what);
        assert.match(describeReport(report), new RegExp(`^replay log damaged at offset ${start}: `), what);
        // the last chunk has nothing after it: damaged all the same (its length is whole)
        if (c + 1 < n) assert.equal(report.resyncOffset, offsets[c + 1], what);
        else assert.equal(report.resyncOffset, undefined, what);
      }
    }
  });

  test(`${kind} chunks: zeroed bytes inside the file are damage at the first chunk they touch`, () => {
    const { bytes, offsets } = sampleLog(6, compressed);
    // from the middle of chunk 1 to the middle of chunk 3: chunk 4 is the next intact one
    const from = offsets[1]! + 10;
    const to = offsets[3]! + 10;
    const b = bytes.slice();
    b.fill(0, from, to);
    const { report } = read(b);
    assert.equal(logEnding(report), 'damaged', report.reason);
    assert.equal(report.error?.offset, offsets[1]);
    assert.equal(report.chunks, 1);
    // zeroes over a whole chunk boundary: chunk 2 and 3 are gone; chunk 4 resyncs
    assert.equal(report.resyncOffset, offsets[4]);
    // zeroes over a chunk's length field make it claim 0 bytes: still damage, not a crash
    const z = bytes.slice();
    z.fill(0, offsets[2]! + 4, offsets[2]! + 8);
    assert.equal(logEnding(read(z).report), 'damaged');
  });

  test(`${kind} chunks: a log cut short anywhere in its last chunk is incomplete (a crash), never damaged`, () => {
    const { bytes, offsets, events } = sampleLog(4, compressed);
    const last = offsets[offsets.length - 1]!;
    for (let cut = last + 1; cut < bytes.length; cut++) {
      const { report, events: got } = read(bytes.subarray(0, cut));
      assert.equal(report.status, 'truncated', `cut ${cut}: ${report.reason ?? ''}`);
      assert.equal(logEnding(report), 'incomplete');
      assert.equal(report.error?.offset, last);
      assert.deepEqual(got, events.slice(0, -1));
      assert.match(describeReport(report), /^incomplete log \(crashed recording\): it reaches instruction \d+ in its 4 whole chunks; then truncated chunk at offset \d+/);
    }
    // cut anywhere in a middle chunk (the rest of the file lost): a crash too
    const mid = offsets[1]! + 40;
    assert.equal(logEnding(read(bytes.subarray(0, mid)).report), 'incomplete');
    // cut exactly between two chunks: no end event
    assert.equal(read(bytes.subarray(0, offsets[2]!)).report.status, 'no-end');
  });

  test(`${kind} chunks: a length field damaged to point past the end of the file, with intact chunks after it, is damage`, () => {
    const { bytes, offsets } = sampleLog(5, compressed);
    const b = bytes.slice();
    new DataView(b.buffer).setUint32(offsets[1]! + 4, 1 << 23, true);
    const { report } = read(b);
    assert.equal(report.status, 'corrupt', report.reason);
    assert.equal(report.error?.offset, offsets[1]);
    assert.match(report.reason!, new RegExp(`^truncated chunk at offset ${offsets[1]} \\(.*\\), but an intact chunk follows at offset ${offsets[2]} \\(damage, not a crash\\)$`));
    assert.equal(report.resyncOffset, offsets[2]);
  });
}

test('resync looks no further than the largest chunk after the damaged one, and stays bounded on hostile input', () => {
  const { bytes, offsets } = sampleLog(2, false);
  const chunk = bytes.subarray(offsets[0]!, offsets[1]!);
  // an intact chunk just within reach, and one just beyond it
  for (const gap of [MAX_RESYNC_DISTANCE - 1, MAX_RESYNC_DISTANCE]) {
    const file = new Uint8Array(gap + 1 + chunk.length);
    file.set(chunk, gap + 1);
    const found = findIntactChunk(bytesSource(file), 0);
    if (gap + 1 <= MAX_RESYNC_DISTANCE) assert.deepEqual(found, { offset: gap + 1, length: chunk.length });
    else assert.equal(found, undefined);
  }
  // 8 MiB of "CHNK" claiming 64 KiB each: every candidate fails its CRC, in bounded time
  const hostile = new Uint8Array(8 << 20);
  for (let i = 0; i + 8 <= hostile.length; i += 8) {
    hostile.set([0x43, 0x48, 0x4e, 0x4b], i);
    new DataView(hostile.buffer).setUint32(i + 4, 1 << 16, true);
  }
  const t = performance.now();
  assert.equal(findIntactChunk(bytesSource(hostile), 0), undefined);
  assert.ok(performance.now() - t < 2000, `${Math.round(performance.now() - t)} ms`);
});
