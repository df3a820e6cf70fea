import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeStreamFrame, MAX_STREAM_FRAME, StreamDeframer, StreamFramingError } from './stream-framing.js';
import { concatBytes } from './bytes.js';

function frames(...lens: number[]): Uint8Array[] {
  return lens.map((n, k) => Uint8Array.from({ length: n }, (_, i) => (i * 7 + k) & 0xff));
}

test('a frame is its 4-byte big-endian length and its bytes', () => {
  assert.deepEqual([...encodeStreamFrame(Uint8Array.of(0xaa, 0xbb))], [0, 0, 0, 2, 0xaa, 0xbb]);
  assert.deepEqual([...encodeStreamFrame(new Uint8Array(0x1234)).subarray(0, 4)], [0, 0, 0x12, 0x34]);
});

test('several frames in one chunk, and zero-length frames', () => {
  const got: Uint8Array[] = [];
  const d = new StreamDeframer((f) => got.push(f));
  const fs = frames(60, 0, 1514, 1);
  d.push(concatBytes(fs.map(encodeStreamFrame)));
  assert.deepEqual(got, fs);
  assert.equal(d.midFrame, false);
});

test('frames split at every possible byte boundary', () => {
  const fs = frames(3, 70, 0, 5);
  const stream = concatBytes(fs.map(encodeStreamFrame));
  for (let cut = 0; cut <= stream.length; cut++) {
    const got: Uint8Array[] = [];
    const d = new StreamDeframer((f) => got.push(f));
    d.push(stream.subarray(0, cut));
    d.push(stream.subarray(cut));
    assert.deepEqual(got, fs, `cut at ${cut}`);
  }
  // And one byte at a time.
  const got: Uint8Array[] = [];
  const d = new StreamDeframer((f) => got.push(f));
  for (const b of stream) d.push(Uint8Array.of(b));
  assert.deepEqual(got, fs);
});

test('an absurd length is an error, and stays one until reset', () => {
  const got: Uint8Array[] = [];
  const d = new StreamDeframer((f) => got.push(f));
  d.push(encodeStreamFrame(new Uint8Array(MAX_STREAM_FRAME))); // the largest allowed
  assert.equal(got.length, 1);
  assert.throws(() => d.push(Uint8Array.of(0, 1, 0x10, 1)), StreamFramingError);
  assert.throws(() => d.push(encodeStreamFrame(Uint8Array.of(1))), StreamFramingError);
  d.reset();
  d.push(encodeStreamFrame(Uint8Array.of(1)));
  assert.equal(got.length, 2);
  assert.throws(() => new StreamDeframer(() => {}).push(Uint8Array.of(0xff, 0xff, 0xff, 0xff)), /exceeds/);
});
