import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StateArena } from '../../memory/state-arena.js';
import { MIP_MEIP, MIP_SEIP } from '../../cpu/index.js';
import { Plic, VIRT_PLIC_NUM_SOURCES } from './plic.js';

class Pins {
  mip = 0;
  setInterruptPending(mask: number, level: boolean): void {
    this.mip = level ? this.mip | mask : this.mip & ~mask;
  }
}

const ENABLE = (ctx: number) => 0x2000 + 0x80 * ctx;
const THRESHOLD = (ctx: number) => 0x200000 + 0x1000 * ctx;
const CLAIM = (ctx: number) => 0x200004 + 0x1000 * ctx;

function make(arena = new StateArena(8192)) {
  const harts = [new Pins(), new Pins()];
  const plic = new Plic(arena, harts, VIRT_PLIC_NUM_SOURCES);
  return { arena, harts, plic };
}

test('virt PLIC has 96 sources; source 0 and out-of-range sources have no line', () => {
  const { plic } = make();
  assert.equal(VIRT_PLIC_NUM_SOURCES, 96);
  assert.throws(() => plic.irqLine(0), RangeError);
  assert.throws(() => plic.irqLine(96), RangeError);
  plic.irqLine(95);
});

test('priority, enable, threshold gate the M and S context outputs', () => {
  const { plic, harts } = make();
  plic.irqLine(10).set(true);
  assert.equal(plic.read(0x1000, 4), 1 << 10); // pending
  assert.equal(harts[0]!.mip, 0); // priority 0 never interrupts
  plic.write(4 * 10, 4, 0xff);
  assert.equal(plic.read(4 * 10, 4), 7); // 3 priority bits
  assert.equal(harts[0]!.mip, 0); // not enabled
  plic.write(ENABLE(1), 4, 1 << 10); // hart 0 S-mode
  assert.equal(harts[0]!.mip, MIP_SEIP);
  plic.write(ENABLE(2), 4, 1 << 10); // hart 1 M-mode
  assert.equal(harts[1]!.mip, MIP_MEIP);
  plic.write(THRESHOLD(1), 4, 7);
  assert.equal(plic.read(THRESHOLD(1), 4), 7);
  assert.equal(harts[0]!.mip, 0); // priority must exceed the threshold
  plic.write(THRESHOLD(1), 4, 8); // out of range: ignored
  assert.equal(plic.read(THRESHOLD(1), 4), 7);
  plic.write(THRESHOLD(1), 4, 6);
  assert.equal(harts[0]!.mip, MIP_SEIP);
  plic.write(ENABLE(0), 4, 0xffffffff);
  assert.equal(plic.read(ENABLE(0), 4), 0xfffffffe); // source 0 cannot be enabled
  plic.write(ENABLE(0) + 8, 4, 0xffffffff);
  assert.equal(plic.read(ENABLE(0) + 8, 4), 0xffffffff); // sources 64..95
});

test('claim picks the highest priority (lowest id on ties), complete re-arms a level line', () => {
  const { plic, harts } = make();
  for (const s of [3, 5, 40]) plic.write(4 * s, 4, 2);
  plic.write(4 * 40, 4, 5);
  plic.write(ENABLE(0), 4, (1 << 3) | (1 << 5));
  plic.write(ENABLE(0) + 4, 4, 1 << 8); // source 40
  plic.irqLine(5).set(true);
  plic.irqLine(3).set(true);
  plic.irqLine(40).set(true);
  assert.equal(harts[0]!.mip, MIP_MEIP);
  assert.equal(plic.read(CLAIM(0), 4), 40);
  assert.equal(plic.read(0x1004, 4), 0); // pending cleared by the claim
  assert.equal(plic.read(CLAIM(0), 4), 3);
  assert.equal(plic.read(CLAIM(0), 4), 5);
  assert.equal(harts[0]!.mip, 0);
  assert.equal(plic.read(CLAIM(0), 4), 0); // nothing left
  plic.irqLine(3).set(false);
  plic.write(CLAIM(0), 4, 3); // complete: line low, stays quiet
  assert.equal(harts[0]!.mip, 0);
  plic.write(CLAIM(0), 4, 40); // complete: line still high, pending again
  assert.equal(harts[0]!.mip, MIP_MEIP);
  assert.equal(plic.read(0x1004, 4), 1 << 8);
  assert.equal(plic.read(CLAIM(0), 4), 40);
});

test('a line dropping clears pending; pending is read-only', () => {
  const { plic, harts } = make();
  plic.write(4 * 7, 4, 1);
  plic.write(ENABLE(0), 4, 1 << 7);
  plic.irqLine(7).set(true);
  assert.equal(harts[0]!.mip, MIP_MEIP);
  plic.irqLine(7).set(false);
  assert.equal(harts[0]!.mip, 0);
  plic.write(0x1000, 4, 0xffffffff);
  assert.equal(plic.read(0x1000, 4), 0);
});

test('state lives in the arena', () => {
  const a = make();
  a.plic.write(4 * 10, 4, 3);
  a.plic.write(ENABLE(3), 4, 1 << 10);
  a.plic.irqLine(10).set(true);
  const b = make();
  b.arena.u32.set(a.arena.u32.subarray(0, a.arena.usedWords));
  assert.equal(b.plic.read(4 * 10, 4), 3);
  assert.equal(b.plic.read(ENABLE(3), 4), 1 << 10);
  assert.equal(b.plic.read(CLAIM(3), 4), 10);
  assert.equal(a.plic.read(0x1000, 4), 1 << 10); // a is untouched
  assert.ok(a.arena.field('plic', 'enable'));
});
