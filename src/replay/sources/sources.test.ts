import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EVENT_KINDS, type ReplayEvent } from '../log/events.js';
import { KIND_CODES } from '../log/format.js';
import { ByteReader, ByteWriter } from '../log/varint.js';
import { sampleEvents } from '../../../test/support/replay/events.js';
import { describeEvent, sourceOf, sourceOfCode } from './index.js';

test('every event kind has one source, under its own kind code from format.ts', () => {
  for (const kind of EVENT_KINDS) {
    const source = sourceOf({ kind, icount: 0 } as ReplayEvent);
    assert.ok(source !== undefined, `no source for ${kind}`);
    assert.equal(source.kind, kind);
    assert.equal(source.code, KIND_CODES[kind], `${kind}'s code`);
    assert.equal(sourceOfCode(source.code), source, `code 0x${source.code.toString(16)} leads back to ${kind}`);
  }
  assert.equal(sourceOf({ kind: 'toString', icount: 0 } as unknown as ReplayEvent), undefined, 'an inherited property is not a kind');
  assert.equal(sourceOfCode(0x00), undefined);
  assert.equal(sourceOfCode(0x7f), undefined);
});

test('each source decodes what it encodes, using exactly the bytes it wrote, and describes it by its own words', () => {
  const seen = new Set<string>();
  // The shared samples have no clock-warp (the dump tests count them as they are): add one here.
  const events: ReplayEvent[] = [...sampleEvents(), { kind: 'clock-warp', icount: 2 ** 40, ns: 123_456_789 }];
  for (const e of events) {
    const source = sourceOf(e)!;
    const w = new ByteWriter();
    source.encode(w, e);
    const bytes = w.toBytes();
    const r = new ByteReader(bytes);
    assert.deepEqual(source.decode(r, e.icount), e, `${e.kind} round trip`);
    assert.equal(r.remaining, 0, `${e.kind} decode reads every byte its encode wrote`);
    const text = describeEvent(e);
    assert.match(text, new RegExp(`at instruction ${e.icount}$`), `${e.kind}: ${text}`);
    seen.add(e.kind);
  }
  assert.deepEqual([...seen].sort(), [...EVENT_KINDS].sort(), 'the samples cover every kind');
});
