import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import type { Decompress } from './chunk.js';
import { frameChunk } from './chunk.js';
import { crc32 } from './crc32.js';
import { ReplayLogError } from './errors.js';
import type { ReplayEvent } from './events.js';
import { encodeHeader } from './header.js';
import { LogReader } from './log-reader.js';
import { LogWriter } from './log-writer.js';
import { MemorySink, sampleEvents, sampleHeader } from '../../../test/support/replay/events.js';

const decompress: Decompress = (data, n) => inflateRawSync(data, { maxOutputLength: Math.max(1, n) });

/** xorshift32: reproducible. */
function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 0x1_0000_0000;
  };
}

interface Base {
  bytes: Uint8Array;
  headerLength: number;
  /** [offset, length] of each chunk. */
  chunks: [number, number][];
  /** Uncompressed payloads, event counts and first icounts of the chunks. */
  raws: { raw: Uint8Array; count: number; first: number }[];
}

function baseLog(): Base {
  const events: ReplayEvent[] = sampleEvents().slice(0, -2);
  for (let i = 0; i < 60; i++) {
    events.push({ kind: 'console-input', icount: 10_000 + i * 97, bytes: new TextEncoder().encode(`key ${i}`) });
    if (i % 10 === 0) events.push({ kind: 'digest', icount: 10_000 + i * 97, harts: [{ pc: 0x80000000 + i * 4, regsHash: '0123456789abcdef' }], devicesHash: 'fedcba9876543210', ramHash: '0011223344556677', ramPages: 100 + i });
  }
  events.sort((a, b) => a.icount - b.icount);
  const sink = new MemorySink();
  const w = new LogWriter(sink, sampleHeader(), { chunkBytes: 300, compress: (raw) => deflateRawSync(raw) });
  for (const e of events) w.append(e);
  w.flush();
  w.append({ kind: 'end', icount: 20_000, reason: 'shutdown', exitCode: 0 });
  w.close();
  const bytes = sink.bytes();
  const headerLength = sink.writes[0]!.length;
  const chunks: [number, number][] = [];
  let o = headerLength;
  for (const c of sink.writes.slice(1)) {
    chunks.push([o, c.length]);
    o += c.length;
  }
  const raws = [...LogReader.open(bytes, { decompress }).chunks()].map((c, i) => {
    // re-encode from the reader's view: decompress the stored payload
    const [off, len] = chunks[i]!;
    const payload = bytes.subarray(off + 25, off + len - 4);
    return { raw: c.compressed ? new Uint8Array(decompress(payload, c.uncompressedLength)) : payload.slice(), count: c.eventCount, first: c.firstIcount };
  });
  return { bytes, headerLength, chunks, raws };
}

function splice(a: Uint8Array, at: number, remove: number, insert: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length - remove + insert.length);
  out.set(a.subarray(0, at));
  out.set(insert, at);
  out.set(a.subarray(at + remove), at + insert.length);
  return out;
}

function mutate(base: Base, r: () => number): { bytes: Uint8Array; how: string } {
  const int = (n: number): number => Math.floor(r() * n);
  const garbage = (n: number): Uint8Array => Uint8Array.from({ length: n }, () => int(256));
  let b = base.bytes.slice();
  const kind = int(11);
  switch (kind) {
    case 0: { // bit flips
      const n = 1 + int(8);
      for (let i = 0; i < n; i++) b[int(b.length)]! ^= 1 << int(8);
      return { bytes: b, how: `${n} bit flips` };
    }
    case 1: { // insertion
      const at = int(b.length + 1);
      return { bytes: splice(b, at, 0, garbage(1 + int(16))), how: `insertion at ${at}` };
    }
    case 2: { // deletion
      const at = int(b.length);
      return { bytes: splice(b, at, Math.min(1 + int(16), b.length - at), new Uint8Array(0)), how: `deletion at ${at}` };
    }
    case 3: { // truncation, maybe plus garbage
      const at = int(b.length + 1);
      b = b.subarray(0, at);
      return r() < 0.5 ? { bytes: b, how: `truncation at ${at}` } : { bytes: splice(b, at, 0, garbage(int(200))), how: `truncation at ${at} + garbage` };
    }
    case 4: { // a range overwritten with garbage
      const at = int(b.length);
      const g = garbage(Math.min(b.length - at, 1 + int(64)));
      b.set(g, at);
      return { bytes: b, how: `garbage at ${at}` };
    }
    case 5: { // huge or random length fields in a chunk header (CRC left stale)
      const [off] = base.chunks[int(base.chunks.length)]!;
      const field = [4, 8, 21][int(3)]!;
      const value = [0xffffffff, 0x7fffffff, 16 << 20, (16 << 20) + 1, 64 << 20, int(0x1_0000_0000), int(1000)][int(7)]!;
      new DataView(b.buffer).setUint32(off + field, value >>> 0, true);
      return { bytes: b, how: `chunk@${off} field ${field} = ${value}` };
    }
    case 6: // header length field
      new DataView(b.buffer).setUint32(12, [0xffffffff, 1 << 20, (1 << 20) + 1, int(5000)][int(4)]!, true);
      return { bytes: b, how: 'header length' };
    case 7: case 8: case 9: { // structure-aware: a chunk's payload or fields mutated, CRC recomputed
      const ci = int(base.chunks.length);
      const [off, len] = base.chunks[ci]!;
      const { raw, count, first } = base.raws[ci]!;
      let payload: Uint8Array = raw.slice();
      let evCount = count;
      let firstIcount = first;
      const what = int(6);
      if (what === 0) for (let i = 0, n = 1 + int(6); i < n && payload.length > 0; i++) payload[int(payload.length)]! ^= 1 << int(8);
      else if (what === 1) payload = splice(payload, int(payload.length + 1), 0, garbage(1 + int(12)));
      else if (what === 2) {
        const at = int(payload.length);
        payload = splice(payload, at, Math.min(1 + int(8), payload.length - at), new Uint8Array(0));
      }
      else if (what === 3) payload.fill(0xff, int(payload.length), payload.length);
      else if (what === 4) evCount = [0, count - 1, count + 1, 0xffffffff, int(1 << 20)][int(5)]!;
      else firstIcount = [0, first + 1, 2 ** 53 - 1, first - 1 < 0 ? 0 : first - 1][int(4)]!;
      const framed = frameChunk(payload, evCount >>> 0, firstIcount, r() < 0.5 ? (x) => deflateRawSync(x) : undefined).bytes;
      return { bytes: splice(b, off, len, framed), how: `chunk ${ci} payload mutation ${what}` };
    }
    default: { // the header body mutated, CRC recomputed
      const h = base.headerLength;
      const body = b.slice(16, h - 4);
      for (let i = 0, n = 1 + int(4); i < n; i++) body[int(body.length)] = int(256);
      const head = new Uint8Array(16 + body.length + 4);
      head.set(b.subarray(0, 16));
      head.set(body, 16);
      new DataView(head.buffer).setUint32(16 + body.length, crc32(head.subarray(0, 16 + body.length)), true);
      return { bytes: splice(b, 0, h, head), how: 'header body' };
    }
  }
}

test('fuzz: thousands of mutated logs fail cleanly, fast, with ReplayLogError only', (t) => {
  const base = baseLog();
  assert.ok(base.chunks.length >= 5, `${base.chunks.length} chunks`);
  assert.ok(base.raws.some((x, i) => x.raw.length !== base.chunks[i]![1] - 29), 'some chunks are compressed');
  const seed = Number(process.env['FUZZ_SEED'] ?? 20240501);
  const iterations = Number(process.env['FUZZ_ITERATIONS'] ?? 6000);
  const r = rng(seed);
  const outcomes = new Map<string, number>();
  const bump = (k: string): void => void outcomes.set(k, (outcomes.get(k) ?? 0) + 1);
  const t0 = performance.now();
  let worst = 0;
  for (let i = 0; i < iterations; i++) {
    const { bytes, how } = mutate(base, r);
    const t = performance.now();
    try {
      const reader = LogReader.open(bytes, { decompress });
      let prev = -1;
      let n = 0;
      const it = reader.events();
      let step = it.next();
      for (; step.done !== true; step = it.next()) {
        assert.ok(step.value.icount >= prev, `icounts decrease (${how})`);
        prev = step.value.icount;
        n++;
      }
      const report = step.value;
      assert.equal(report.events, n);
      if (report.complete) assert.equal(report.end?.kind, 'end');
      else {
        assert.ok(report.error instanceof ReplayLogError);
        assert.ok(!report.reason!.includes('\n') && /offset \d+/.test(report.reason!), report.reason);
      }
      bump(report.status);
    } catch (e) {
      if (!(e instanceof ReplayLogError)) {
        assert.fail(`iteration ${i} (seed ${seed}, ${how}): ${e instanceof Error ? e.stack : String(e)}`);
      }
      assert.ok(!e.message.includes('\n') && /offset \d+/.test(e.message), e.message);
      bump('header error');
    }
    worst = Math.max(worst, performance.now() - t);
  }
  const total = performance.now() - t0;
  t.diagnostic(`${iterations} logs in ${total.toFixed(0)} ms (slowest ${worst.toFixed(1)} ms): ${JSON.stringify(Object.fromEntries(outcomes))}`);
  assert.ok(total < 10_000, `fuzz took ${total} ms`);
  assert.ok(worst < 1000, `slowest log took ${worst} ms`);
  for (const k of ['complete', 'corrupt', 'truncated', 'header error']) assert.ok((outcomes.get(k) ?? 0) > 0, `no '${k}' outcome: ${JSON.stringify([...outcomes])}`);
});

test('fuzz: random bytes behind a valid header, and random whole files', () => {
  const r = rng(7);
  const header = encodeHeader(sampleHeader());
  for (let i = 0; i < 2000; i++) {
    const n = Math.floor(r() * 300);
    const tail = Uint8Array.from({ length: n }, () => Math.floor(r() * 256));
    if (n >= 4 && r() < 0.5) tail.set([0x43, 0x48, 0x4e, 0x4b]);
    const bytes = new Uint8Array(r() < 0.9 ? header.length + n : n);
    if (bytes.length > n) bytes.set(header);
    bytes.set(tail, bytes.length - n);
    try {
      const res = LogReader.open(bytes, { decompress }).readAll();
      assert.equal(res.report.complete, false);
    } catch (e) {
      if (!(e instanceof ReplayLogError)) throw e;
    }
  }
});
