import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SifiveTest } from './sifive-test.js';

test('finisher commands', () => {
  const got: [string, number][] = [];
  const dev = new SifiveTest((k, c) => got.push([k, c]));
  dev.write(0, 4, 0x5555);
  dev.write(0, 4, (3 << 16) | 0x3333);
  dev.write(0, 4, 0x7777);
  dev.write(0, 4, 0x12345555); // QEMU ignores the code for PASS
  dev.write(0, 2, 0x3333); // 16-bit writes are accepted; fail with code 0
  dev.write(0, 4, 0x1234); // unknown: ignored
  dev.write(4, 4, 0x5555); // other offsets: ignored
  assert.deepEqual(got, [['pass', 0], ['fail', 3], ['reset', 0], ['pass', 0], ['fail', 0]]);
  assert.equal(dev.read(0, 4), 0);
});
