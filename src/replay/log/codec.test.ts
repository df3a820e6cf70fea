import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as zlib from 'node:zlib';
import { crc32, crc32Update } from './crc32.js';
import { decodeEvents, encodeEvent, encodeEvents } from './event-codec.js';
import type { PayloadContext } from './event-codec.js';
import { ReplayLogError } from './errors.js';
import type { ReplayEvent } from './events.js';
import { EVENT_KINDS } from './events.js';
import { sampleEvents } from '../../../test/support/replay/events.js';
import { ByteReader, ByteWriter, FormatFault, varintSize } from './varint.js';

const CTX: PayloadContext = { chunkOffset: 100, payloadFileOffset: 125, major: 1, minor: 0, readerMajor: 1, readerMinor: 0 };

function decodeAll(events: ReplayEvent[]): ReplayEvent[] {
  const bytes = encodeEvents(events);
  return decodeEvents(bytes, events.length, events[0]!.icount, CTX).events;
}

test('crc32 matches the IEEE check value and zlib', () => {
  assert.equal(crc32(new TextEncoder().encode('123456789')), 0xcbf43926);
  assert.equal(crc32(new Uint8Array(0)), 0);
  const data = Uint8Array.from({ length: 10007 }, (_, i) => (i * 7919) & 0xff);
  const zcrc = (zlib as unknown as { crc32?: (d: Uint8Array) => number }).crc32;
  for (const [a, b] of [[0, 10007], [1, 10007], [3, 8], [5, 5], [2, 9999]] as const) {
    const want = zcrc ? zcrc(data.subarray(a, b)) : crc32(data.slice(a, b));
    assert.equal(crc32(data, a, b), want);
  }
  assert.equal(crc32Update(crc32(data, 0, 333), data, 333, 10007), crc32(data));
});

test('varints: sizes, bounds, overlong and unterminated forms', () => {
  const w = new ByteWriter(4);
  const values = [0, 1, 127, 128, 16383, 16384, 2 ** 32 - 1, 2 ** 32, 2 ** 49, Number.MAX_SAFE_INTEGER];
  for (const v of values) w.varint(v);
  w.svarint(-1);
  w.svarint(2 ** 51);
  w.svarint(-(2 ** 51));
  const r = new ByteReader(w.toBytes());
  for (const v of values) assert.equal(r.varint(), v);
  assert.equal(r.svarint(), -1);
  assert.equal(r.svarint(), 2 ** 51);
  assert.equal(r.svarint(), -(2 ** 51));
  assert.equal(r.remaining, 0);
  assert.deepEqual(values.map(varintSize), [1, 1, 1, 2, 2, 3, 5, 5, 8, 8]);
  assert.throws(() => w.varint(-1), RangeError);
  assert.throws(() => w.varint(1.5), RangeError);
  assert.throws(() => w.varint(2 ** 53), RangeError);
  const bad = (bytes: number[], msg: RegExp): void =>
    assert.throws(() => new ByteReader(new Uint8Array(bytes)).varint(), (e: unknown) => e instanceof FormatFault && msg.test(e.message));
  bad([0x80, 0x00], /overlong/);
  bad([0x80, 0x80], /runs past the end/);
  bad([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01], /longer than 8 bytes/);
  bad([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f], /exceeds 2\^53/);
  bad([], /runs past the end/);
});

test('every event kind round-trips exactly', () => {
  // The shared sample (used for the dump tool's expected output) plus the kinds added after it.
  const sample = sampleEvents();
  const events = [...sample.slice(0, -1), { kind: 'clock-warp', icount: sample.at(-2)!.icount, ns: 1_250_000 } as const, sample.at(-1)!];
  const kinds = new Set(events.map((e) => e.kind));
  assert.deepEqual([...kinds].sort(), [...EVENT_KINDS].sort());
  assert.deepEqual(decodeAll(events), events);
  // decoded byte arrays are plain Uint8Arrays (not views of the payload)
  const back = decodeAll(events)[0] as { bytes: Uint8Array };
  assert.equal(back.bytes.buffer.byteLength, back.bytes.length);
  // NaN, infinities and -0 survive as float64
  for (const value of [NaN, Infinity, -Infinity, -0, 5e-324]) {
    const [e] = decodeAll([{ kind: 'clock-read', icount: 1, clock: 'host', value }]);
    assert.ok(Object.is((e as { value: number }).value, value));
  }
  // uppercase hashes are accepted and read back lowercase
  const [d] = decodeAll([{ kind: 'digest', icount: 0, harts: [], devicesHash: 'ABCDEF0123456789', ramHash: '0000000000000000', ramPages: 0 }]);
  assert.equal((d as { devicesHash: string }).devicesHash, 'abcdef0123456789');
});

test('typical event sizes', () => {
  const size = (e: ReplayEvent, prev: number): number => {
    const w = new ByteWriter();
    encodeEvent(w, e, prev);
    return w.length;
  };
  assert.equal(size({ kind: 'console-input', icount: 1_000_100, bytes: new Uint8Array([97]) }, 1_000_000), 4);
  assert.equal(size({ kind: 'virtio-doorbell', icount: 5, slot: 1 }, 5), 3);
  const digest: ReplayEvent = { kind: 'digest', icount: 2_000_000, harts: [{ pc: 0x80001234, regsHash: '0123456789abcdef' }], devicesHash: '0123456789abcdef', ramHash: '0123456789abcdef', ramPages: 32768 };
  assert.equal(size(digest, 1_000_000), 1 + 3 + 1 + 12 + 1 + 16 + 3);
  const block: ReplayEvent = { kind: 'block-complete', icount: 1_050_000, slot: 2, request: 300, data: new Uint8Array(4096) };
  assert.equal(size(block, 1_000_000), 1 + 3 + 1 + 2 + 1 + 2 + 4096);
});

test('encoding rejects malformed events and appends nothing', () => {
  const w = new ByteWriter();
  encodeEvent(w, { kind: 'timer', icount: 10, id: 1, shift: 3 }, 0);
  const len = w.length;
  const rejects = (e: unknown, msg: RegExp, prev = 0): void => {
    assert.throws(() => encodeEvent(w, e as ReplayEvent, prev), (x: unknown) => x instanceof RangeError && msg.test(x.message));
    assert.equal(w.length, len);
  };
  rejects({ kind: 'timer', icount: 5, id: 1, shift: 3 }, /icount 5 is before the previous event's 10/, 10);
  rejects({ kind: 'timer', icount: -1, id: 1, shift: 3 }, /icount must be an integer/);
  rejects({ kind: 'timer', icount: 2 ** 53, id: 1, shift: 3 }, /icount must be an integer/);
  rejects({ kind: 'bogus', icount: 1 }, /unknown event kind "bogus"/);
  rejects({ kind: 'virtio-doorbell', icount: 1, slot: -2 }, /virtio-doorbell\.slot must be an integer/);
  rejects({ kind: 'console-input', icount: 1, bytes: [1, 2] }, /console-input\.bytes must be a Uint8Array/);
  rejects({ kind: 'clock-read', icount: 1, clock: 'virtual', value: 1 }, /clock-read\.clock must be one of host, realtime/);
  rejects({ kind: 'digest', icount: 1, harts: [{ pc: -4, regsHash: '0123456789abcdef' }], devicesHash: '0123456789abcdef', ramHash: '0123456789abcdef', ramPages: 1 }, /harts\[0\]\.pc must be an unsigned 32-bit/);
  rejects({ kind: 'digest', icount: 1, harts: [], devicesHash: 'xyz', ramHash: '0123456789abcdef', ramPages: 1 }, /devicesHash must be 16 hex digits/);
  rejects({ kind: 'end', icount: 1, reason: 'boom', exitCode: 0 }, /end\.reason must be one of/);
  rejects({ kind: 'end', icount: 1, reason: 'quit', exitCode: 0.5 }, /end\.exitCode must be an integer/);
  rejects({ kind: 'request', icount: 1, what: 'shutdown', cause: 7 }, /request\.cause must be a string/);
});

function decodeFails(bytes: number[], count: number, msg: RegExp, ctx: PayloadContext = CTX): ReplayLogError {
  let err: unknown;
  try {
    decodeEvents(new Uint8Array(bytes), count, 0, ctx);
  } catch (e) {
    err = e;
  }
  assert.ok(err instanceof ReplayLogError, `expected a ReplayLogError, got ${String(err)}`);
  assert.match(err.message, msg);
  return err;
}

test('decoding errors name the event, the byte and the offset', () => {
  let e = decodeFails([0x02, 0x00, 0x01, 0x02, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x01, 0x02, 0x01, 0x01], 3,
    /^event 2 of the chunk at offset 100: icount 9007199254740991 \+ 1 exceeds 2\^53 - 1 at offset 139$/);
  e = decodeFails([0x02, 0x00, 0x01, 0x0e, 0x00], 2, /^event 1 of the chunk at offset 100: unknown event kind 0x0e \(not defined in format 1\.0\) at offset 128$/);
  assert.equal(e.offset, 128);
  assert.equal(e.unsupported, false);
  e = decodeFails([0x0e, 0x00], 1, /the log's format 1\.3 is newer than this replayvm's 1\.0/, { ...CTX, minor: 3 });
  assert.equal(e.unsupported, true);
  e = decodeFails([0x01, 0x00, 0x05, 0x61], 1, /console bytes length 5 exceeds the 1 bytes left at offset 127/);
  e = decodeFails([0x02, 0x05, 0x01], 1, /first event of a chunk has icount delta 5/);
  e = decodeFails([0x02, 0x00, 0x01], 2, /the payload ends after 1 of 2 events/);
  e = decodeFails([0x02, 0x00, 0x01, 0x00], 1, /1 bytes of unexpected data after the chunk's 1 events/);
  e = decodeFails([0x0c, 0x00, 0x00, 0x00, 0x02, 0x00, 0x01], 2, /event 1 .*an event follows the end event/);
  e = decodeFails([0x06, 0x00, 0x07, 0, 0, 0, 0, 0, 0, 0, 0], 1, /unknown clock code 7/);
  e = decodeFails([0x09, 0x00, 0x02, 0xc3, 0x28], 1, /monitor command is not valid UTF-8/);
  e = decodeFails([0x0b, 0x00, 0xff, 0xff, 0x03], 1, /digest hart count 65535 exceeds the data left/);
  e = decodeFails([0x03, 0x00, 0x01, 0x01, 0x04], 1, /unknown block-complete flags 0x4/);
  e = decodeFails([0x02, 0x00, 0x01], 1 << 30, /the payload ends after 1 of 1073741824 events/);
  // compressed chunks: the offset is the chunk's, the message names the payload byte
  e = decodeFails([0x02, 0x00, 0x01, 0x0e, 0x00], 2, /^event 1 of the compressed chunk at offset 100: unknown event kind 0x0e .* at uncompressed payload byte 3$/, { ...CTX, payloadFileOffset: undefined });
  assert.equal(e.offset, 100);
});

test('optional events (codes 0x80..0xff) are skipped and counted', () => {
  const d = decodeEvents(new Uint8Array([0x02, 0x00, 0x01, 0x90, 0x05, 0x03, 1, 2, 3, 0x02, 0x01, 0x04]), 3, 40, CTX);
  assert.deepEqual(d.events, [{ kind: 'virtio-doorbell', icount: 40, slot: 1 }, { kind: 'virtio-doorbell', icount: 46, slot: 4 }]);
  assert.equal(d.skipped, 1);
  assert.deepEqual(d.sizes, [3, 3]);
  decodeFails([0x02, 0x00, 0x01, 0x90, 0x05, 0x09, 1], 2, /optional event 0x90 length 9 exceeds/);
});
