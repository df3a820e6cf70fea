import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StateArena } from '../../memory/state-arena.js';
import { MIP_MSIP, MIP_MTIP } from '../../cpu/index.js';
import { Clint } from './clint.js';

class Pins {
  mip = 0;
  setInterruptPending(mask: number, level: boolean): void {
    this.mip = level ? this.mip | mask : this.mip & ~mask;
  }
}

function make(n = 2, arena = new StateArena(4096)) {
  const harts = Array.from({ length: n }, () => new Pins());
  const clock = { now: 0, mtime() { return this.now; } };
  const clint = new Clint(arena, harts, clock);
  return { arena, harts, clock, clint };
}

test('msip registers drive MSIP per hart', () => {
  const { clint, harts } = make();
  clint.write(4, 4, 1);
  assert.equal(harts[1]!.mip, MIP_MSIP);
  assert.equal(harts[0]!.mip, 0);
  assert.equal(clint.read(4, 4), 1);
  clint.write(4, 4, 0);
  assert.equal(harts[1]!.mip, 0);
  clint.setMsip(0, true);
  assert.equal(clint.read(0, 4), 1);
  assert.equal(harts[0]!.mip, MIP_MSIP);
});

test('mtimecmp resets to 0, unarmed (no MTIP until written, as QEMU 7.2)', () => {
  const { clint, harts, clock } = make();
  clock.now = 100;
  clint.update();
  assert.equal(harts[0]!.mip, 0);
  assert.equal(clint.read(0x4000, 4), 0);
  assert.equal(clint.nextDeadline(), Infinity);
});

test('mtimecmp halves, MTIP = mtime >= mtimecmp, update and nextDeadline', () => {
  const { clint, harts, clock } = make();
  clock.now = 1000;
  clint.write(0x4004, 4, 0); // hart 0 high half
  clint.write(0x4000, 4, 500); // low half: already due
  assert.equal(harts[0]!.mip, MIP_MTIP);
  clint.write(0x4000, 4, 2000);
  assert.equal(harts[0]!.mip, 0);
  clint.setMtimecmp(1, 1500);
  assert.equal(clint.getMtimecmp(1), 1500);
  assert.equal(clint.read(0x4008, 4), 1500);
  assert.equal(clint.nextDeadline(), 1500);
  clock.now = 1600;
  clint.update();
  assert.equal(harts[1]!.mip, MIP_MTIP);
  assert.equal(harts[0]!.mip, 0);
  assert.equal(clint.nextDeadline(), 2000);
  clint.setMtimecmp(0, 2 ** 40 + 5);
  assert.equal(clint.read(0x4004, 4), 256);
  assert.equal(clint.read(0x4000, 4), 5);
  clint.write(0x4004, 4, 0xffffffff);
  clint.write(0x4000, 4, 0xffffffff);
  assert.equal(harts[0]!.mip, 0);
});

test('mtime reads the time source and can be written (offset)', () => {
  const { clint, clock, harts } = make(1);
  clock.now = 2 ** 33 + 7;
  assert.equal(clint.read(0xbff8, 4), 7);
  assert.equal(clint.read(0xbffc, 4), 2);
  clint.setMtimecmp(0, 2 ** 34);
  assert.equal(harts[0]!.mip, 0);
  clint.write(0xbffc, 4, 4); // jump mtime forward to 4*2^32+7: timer due
  assert.equal(clint.mtime(), 2 ** 34 + 7);
  assert.equal(harts[0]!.mip, MIP_MTIP);
  clint.write(0xbffc, 4, 0);
  clint.write(0xbff8, 4, 0);
  assert.equal(clint.mtime(), 0);
  assert.equal(harts[0]!.mip, 0);
  assert.equal(clint.nextDeadline(), 2 ** 34 - (-(2 ** 33 + 7)));
});

test('state lives in the arena', () => {
  const a = make();
  a.clock.now = 10;
  a.clint.setMtimecmp(1, 12345);
  a.clint.setMsip(0, true);
  const b = make();
  b.arena.u32.set(a.arena.u32.subarray(0, a.arena.usedWords));
  assert.equal(b.clint.getMtimecmp(1), 12345);
  assert.equal(b.clint.read(0, 4), 1);
  assert.equal(b.clint.nextDeadline(), 12345);
  assert.deepEqual(a.arena.field('clint', 'mtimecmp')?.words, 4);
});
