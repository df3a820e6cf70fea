import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatJson, JsonParseError, JsonStreamSplitter, parseJson, type SplitItem } from '../../src/monitor/json.js';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const texts = (items: SplitItem[]): string[] => items.map((i) => (i.kind === 'text' ? i.text : i.kind));

test('splitter joins an object split across packets and splits merged ones', () => {
  const s = new JsonStreamSplitter();
  assert.deepEqual(texts(s.push(enc('{"execute": "qu'))), []);
  assert.deepEqual(texts(s.push(enc('ery-status"}{"a":1}\n[1,'))), ['{"execute": "query-status"}', '{"a":1}']);
  assert.deepEqual(texts(s.push(enc('2] "x" 12 true}'))), ['[1,2]', '"x"', '12', 'true', '}']);
});

test('splitter ignores braces and escaped quotes inside strings, and multi-byte splits', () => {
  const s = new JsonStreamSplitter();
  assert.deepEqual(texts(s.push(enc('{"a": "}{\\"]", "b": "\\\\"}'))), ['{"a": "}{\\"]", "b": "\\\\"}']);
  const bytes = enc('{"é": "€"}');
  assert.deepEqual(texts(s.push(bytes.subarray(0, 3))), []);
  assert.deepEqual(texts(s.push(bytes.subarray(3))), ['{"é": "€"}']);
});

test('splitter reports oversized messages once and then ignores input', () => {
  const s = new JsonStreamSplitter({ maxMessageBytes: 16 });
  assert.deepEqual(texts(s.push(enc('{"a":1}'))), ['{"a":1}']);
  assert.deepEqual(s.push(enc('{"aaaaaaaaaaaaaaaaaaaaaaa": 1}')), [{ kind: 'oversized', limit: 16 }]);
  assert.deepEqual(s.push(enc('{}')), []);
});

test('parser gives QEMU-like errors and round-trips escapes', () => {
  assert.throws(() => parseJson('{"execute" "x"}'), new JsonParseError('missing : in object pair'));
  assert.throws(() => parseJson('{"execute": foo}'), new JsonParseError("invalid keyword 'foo'"));
  assert.throws(() => parseJson('}'), new JsonParseError('expecting value'));
  const v = parseJson('{"s": "a\\"b\\\\c\\n\\u00e9", "n": [1, -2.5e1, null, false]}');
  assert.equal(formatJson(v), '{"s": "a\\"b\\\\c\\n\\u00e9", "n": [1, -25, null, false]}');
});
