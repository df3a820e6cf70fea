import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Clocks } from './clocks.js';
import { RtcClockError, createRtcReference, rtcNowNs } from './rtc-clock.js';
import { FakeHostTime } from '../../test/support/main-loop/fake-host-time.js';
import { icountConfig } from './icount.js';

const DATE_MS = Date.UTC(2006, 5, 17, 16, 1, 21);

test('base=utc,clock=host reads host wall time, following host changes', () => {
  const h = new FakeHostTime();
  const clocks = new Clocks(h, undefined, () => 0);
  const rtc = createRtcReference({ base: { kind: 'utc' }, clock: 'host' }, clocks);
  assert.equal(rtcNowNs(rtc, clocks), h.wall);
  h.wall += 3_600_000_000_000;
  assert.equal(rtcNowNs(rtc, clocks), h.wall);
});

test('base=DATE,clock=host: the date, advancing with host wall time', () => {
  const h = new FakeHostTime();
  const clocks = new Clocks(h, undefined, () => 0);
  const rtc = createRtcReference({ base: { kind: 'date', epochMs: DATE_MS }, clock: 'host' }, clocks);
  assert.equal(rtcNowNs(rtc, clocks), DATE_MS * 1e6);
  h.advance(2e9);
  assert.equal(rtcNowNs(rtc, clocks), DATE_MS * 1e6 + 2e9);
});

test('clock=vm stops with the VM and, with icount, depends only on instructions', () => {
  const h = new FakeHostTime();
  let steps = 0;
  const clocks = new Clocks(h, icountConfig(4), () => steps);
  const rtc = createRtcReference({ base: { kind: 'date', epochMs: DATE_MS }, clock: 'vm' }, clocks);
  h.advance(5e9);
  assert.equal(rtcNowNs(rtc, clocks), DATE_MS * 1e6);
  steps = 1000;
  assert.equal(rtcNowNs(rtc, clocks), DATE_MS * 1e6 + 16_000);
});

test('clock=rt runs while the VM is stopped', () => {
  const h = new FakeHostTime();
  const clocks = new Clocks(h, undefined, () => 0);
  const rtc = createRtcReference({ base: { kind: 'date', epochMs: DATE_MS }, clock: 'rt' }, clocks);
  const vm = createRtcReference({ base: { kind: 'date', epochMs: DATE_MS }, clock: 'vm' }, clocks);
  clocks.pause();
  h.advance(1000);
  assert.equal(rtcNowNs(rtc, clocks), DATE_MS * 1e6 + 1000);
  assert.equal(rtcNowNs(vm, clocks), DATE_MS * 1e6);
});

test('base=localtime adds the injected zone offset at the current instant', () => {
  const h = new FakeHostTime();
  const clocks = new Clocks(h, undefined, () => 0);
  const rtc = createRtcReference({ base: { kind: 'localtime' }, clock: 'host' }, clocks);
  const seen: number[] = [];
  const plusTwoHours = (utcNs: number): number => {
    seen.push(utcNs);
    return 7200e9;
  };
  assert.equal(rtcNowNs(rtc, clocks, plusTwoHours), h.wall + 7200e9);
  assert.deepEqual(seen, [h.wall]);
  assert.throws(() => rtcNowNs(rtc, clocks), RtcClockError);
});
