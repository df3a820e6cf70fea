import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VirtioMmioEmptyTransport } from './empty-transport.js';

test('empty virtio-mmio slot answers like QEMU 7.2 (legacy version 1, device 0)', () => {
  const t = new VirtioMmioEmptyTransport();
  assert.equal(t.read(0x000, 4), 0x74726976);
  assert.equal(t.read(0x004, 4), 1);
  assert.equal(t.read(0x008, 4), 0);
  assert.equal(t.read(0x00c, 4), 0x554d4551);
  assert.equal(t.read(0x034, 4), 0);
  assert.equal(t.read(0x070, 4), 0);
  assert.equal(t.read(0x000, 1), 0x76);
  t.write(0x070, 4, 0xff);
  assert.equal(t.read(0x070, 4), 0);
});
