/**
 * Progress checkpoints (format 1.1, optional event 0x80): the writer writes one with the pending
 * events as a chunk at each `checkpoint` call; the reader folds them into `lastIcount`, so the
 * replay of a killed recording runs up to the last one; a 1.0 reader skips them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeEvents } from './event-codec.js';
import { PROGRESS_CODE } from './format.js';
import { LogCursor } from './cursor.js';
import { describeReport, LogReader, readLog } from './log-reader.js';
import { LogWriter } from './log-writer.js';
import { MemorySink, sampleHeader } from '../../../test/support/replay/events.js';

test('checkpoint writes a progress event and the pending events as one chunk at once; syncs only once per interval', () => {
  const sink = new MemorySink();
  const w = new LogWriter(sink, sampleHeader(), { flushIntervalMs: 200 });
  const syncsAfterHeader = sink.syncs;
  assert.equal(w.checkpoint(0, 0), true, 'the first checkpoint writes even at instruction 0');
  assert.equal(sink.writes.length, 2);
  w.append({ kind: 'timer', icount: 500, id: 1, shift: 3 });
  assert.equal(w.checkpoint(1_000, 50), true);
  assert.equal(sink.writes.length, 3, 'one write per checkpoint');
  assert.equal(w.checkpoint(1_000, 100), false, 'nothing ran, nothing pending: nothing written');
  assert.equal(sink.writes.length, 3);
  assert.equal(w.checkpoint(2_000, 150), true);
  assert.equal(w.checkpoint(3_000, 210), true);
  // synced at the first checkpoint (0 ms) and at 210 ms, not at 50 or 150
  assert.equal(sink.syncs - syncsAfterHeader, 2);
  assert.equal(w.stats.progress, 4);
  assert.equal(w.stats.events, 1);
  assert.throws(() => w.checkpoint(2_999, 300), /progress checkpoint: icount 2999 is before the previous event's 3000/);
  // an event at the checkpoint's count is fine (icounts do not decrease)
  w.append({ kind: 'timer', icount: 3_000, id: 1, shift: 4 });
  w.append({ kind: 'end', icount: 4_000, reason: 'shutdown', exitCode: 0 });
  assert.throws(() => w.checkpoint(5_000, 400), /after the end event/);
  w.close();
  const r = readLog(sink.bytes());
  assert.equal(r.report.status, 'complete');
  assert.deepEqual(r.events.map((e) => e.kind), ['timer', 'timer', 'end'], 'checkpoints are not events');
  assert.equal(r.report.progress, 4);
  assert.equal(r.report.skipped, 0);
});

test('a recording killed after a checkpoint reads back to the checkpoint\'s count, past its last event', () => {
  const sink = new MemorySink();
  const w = new LogWriter(sink, sampleHeader());
  w.append({ kind: 'console-input', icount: 100, bytes: new Uint8Array([0x61]) });
  w.checkpoint(5_000, 0);
  w.checkpoint(9_000, 60);
  // killed here: no close, no end
  const r = readLog(sink.bytes());
  assert.equal(r.report.status, 'no-end');
  assert.equal(r.report.lastIcount, 9_000);
  assert.equal(r.report.lastEventIcount, 100);
  assert.equal(r.report.progress, 2);
  assert.equal(r.events.length, 1);
  assert.match(describeReport(r.report), /^incomplete log \(crashed recording\): it reaches instruction 9000 \(a progress checkpoint\) in its 2 whole chunks; then the log ends at offset \d+ without an end event$/);
  // the cursor hands out the events only; its report carries the count to run to
  const c = new LogCursor(LogReader.open(sink.bytes()));
  assert.equal(c.next()?.kind, 'console-input');
  assert.equal(c.next(), undefined);
  assert.equal(c.report?.lastIcount, 9_000);
});

test('a progress checkpoint is an optional event with an empty body: 0x80, delta, length 0 (a 1.0 reader skips it)', () => {
  const sink = new MemorySink();
  const w = new LogWriter(sink, sampleHeader());
  w.append({ kind: 'timer', icount: 10, id: 1, shift: 3 });
  w.checkpoint(130, 0);
  const chunk = sink.writes[1]!;
  const payload = chunk.subarray(25, chunk.length - 4);
  assert.deepEqual([...payload.subarray(payload.length - 3)], [PROGRESS_CODE, 120, 0]);
  // read as format 1.0 by this decoder: the same (0x80 is in the optional range in every 1.x)
  const ctx = { chunkOffset: 0, payloadFileOffset: 25, major: 1, minor: 0, readerMajor: 1, readerMinor: 0 };
  const d = decodeEvents(payload, 2, 10, ctx);
  assert.equal(d.events.length, 1);
  assert.equal(d.progress, 1);
  assert.equal(d.lastIcount, 130);
  // a later minor may give the checkpoint a body: it is skipped, not an error
  const longer = new Uint8Array([...payload.subarray(0, payload.length - 1), 2, 0xaa, 0xbb]);
  assert.equal(decodeEvents(longer, 2, 10, ctx).progress, 1);
});
