import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StateArena } from '../../memory/state-arena.js';
import { GoldfishRtc } from './goldfish-rtc.js';

function make(arena = new StateArena(4096)) {
  const clock = { ns: 5 * 2 ** 32 + 1000, realtimeNs() { return this.ns; } };
  const irq = { level: false, set(l: boolean) { this.level = l; } };
  const rtc = new GoldfishRtc(arena, clock, irq);
  return { arena, clock, irq, rtc };
}

test('TIME_LOW read latches TIME_HIGH', () => {
  const { rtc, clock } = make();
  assert.equal(rtc.read(0x00, 4), 1000);
  clock.ns = 9 * 2 ** 32;
  assert.equal(rtc.read(0x04, 4), 5); // latched by the earlier low read
  assert.equal(rtc.read(0x00, 4), 0);
  assert.equal(rtc.read(0x04, 4), 9);
});

test('writing TIME sets an offset', () => {
  const { rtc, clock } = make();
  rtc.write(0x04, 4, 100);
  rtc.write(0x00, 4, 50);
  assert.equal(rtc.read(0x00, 4), 50);
  assert.equal(rtc.read(0x04, 4), 100);
  clock.ns += 10;
  assert.equal(rtc.read(0x00, 4), 60);
  assert.equal(rtc.count(), 100n * 2n ** 32n + 60n);
});

test('alarm: running, fires on update, interrupt gated by IRQ_ENABLED, cleared by CLEAR_INTERRUPT', () => {
  const { rtc, clock, irq } = make();
  assert.equal(rtc.nextAlarmNs(), Infinity);
  rtc.write(0x10, 4, 1);
  rtc.write(0x0c, 4, 5);
  rtc.write(0x08, 4, 3000);
  assert.equal(rtc.read(0x18, 4), 1);
  assert.equal(rtc.read(0x08, 4), 3000);
  assert.equal(rtc.nextAlarmNs(), 5 * 2 ** 32 + 3000);
  clock.ns += 1999;
  rtc.update();
  assert.equal(irq.level, false);
  clock.ns += 1;
  rtc.update();
  assert.equal(irq.level, true);
  assert.equal(rtc.read(0x18, 4), 0);
  assert.equal(rtc.nextAlarmNs(), Infinity);
  rtc.write(0x10, 4, 0);
  assert.equal(irq.level, false);
  rtc.write(0x10, 4, 1);
  assert.equal(irq.level, true);
  rtc.write(0x1c, 4, 1);
  assert.equal(irq.level, false);
});

test('an alarm in the past fires at once; CLEAR_ALARM stops a running one', () => {
  const { rtc, irq } = make();
  rtc.write(0x10, 4, 1);
  rtc.write(0x0c, 4, 0);
  rtc.write(0x08, 4, 1);
  assert.equal(irq.level, true);
  rtc.write(0x1c, 4, 1);
  rtc.write(0x0c, 4, 6);
  rtc.write(0x08, 4, 0);
  assert.equal(rtc.read(0x18, 4), 1);
  rtc.write(0x14, 4, 1);
  assert.equal(rtc.read(0x18, 4), 0);
  assert.equal(rtc.nextAlarmNs(), Infinity);
});

test('state lives in the arena', () => {
  const a = make();
  a.rtc.write(0x04, 4, 77);
  a.rtc.write(0x10, 4, 1);
  a.rtc.write(0x0c, 4, 99);
  a.rtc.write(0x08, 4, 0);
  const b = make();
  b.arena.u32.set(a.arena.u32.subarray(0, a.arena.usedWords));
  assert.equal(b.rtc.read(0x00, 4), a.rtc.read(0x00, 4));
  assert.equal(b.rtc.read(0x04, 4), 77);
  assert.equal(b.rtc.read(0x10, 4), 1);
  assert.equal(b.rtc.read(0x18, 4), 1);
  assert.equal(b.rtc.nextAlarmNs(), a.rtc.nextAlarmNs());
});
