import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MuxDecoder, muxHelpText } from './mux.js';

const bytes = (...b: number[]): Uint8Array => Uint8Array.from(b);

test('plain bytes pass through as one input event', () => {
  assert.deepEqual(new MuxDecoder().feed(bytes(0x61, 0x62, 0x0d)), [{ kind: 'input', bytes: bytes(0x61, 0x62, 0x0d) }]);
});

test('Ctrl-A commands split the input; Ctrl-A Ctrl-A is a literal Ctrl-A', () => {
  const d = new MuxDecoder();
  assert.deepEqual(d.feed(bytes(0x61, 0x01, 0x68, 0x62, 0x01, 0x01, 0x63, 0x01, 0x78)), [
    { kind: 'input', bytes: bytes(0x61) },
    { kind: 'help' },
    { kind: 'input', bytes: bytes(0x62, 0x01, 0x63) },
    { kind: 'quit' },
  ]);
});

test('the escape state survives between chunks; unknown keys are dropped', () => {
  const d = new MuxDecoder();
  assert.deepEqual(d.feed(bytes(0x01)), []);
  assert.deepEqual(d.feed(bytes(0x63)), [{ kind: 'monitor' }]);
  assert.deepEqual(d.feed(bytes(0x01, 0x7a, 0x41)), [{ kind: 'input', bytes: bytes(0x41) }]);
  assert.deepEqual(d.feed(bytes(0x01, 0x3f, 0x01, 0x62, 0x01, 0x74, 0x01, 0x73)),
    [{ kind: 'help' }, { kind: 'break' }, { kind: 'timestamps' }, { kind: 'save' }]);
});

test('the help text matches QEMU line for line', () => {
  const lines = muxHelpText().split('\n\r');
  assert.equal(lines[0], '');
  assert.equal(lines[1], 'C-a h    print this help');
  assert.equal(lines[7], 'C-a C-a  sends C-a');
});
