import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createVirtMachine } from './virt.js';
import type { Machine, MachineHost, SliceResult } from './machine-api.js';
import { R } from '../../test/support/cpu/asm.js';
import { makeElf } from '../../test/support/cpu/elf.js';
import { Asm, timerProgram } from '../../test/support/board/asm.js';
import { FakeHostTime } from '../../test/support/main-loop/fake-host-time.js';
import type { IcountConfig } from '../main-loop/icount.js';

const MiB = 1024 * 1024;

function makeHost(): MachineHost {
  return {
    console: { write: () => {} },
    time: { monotonicNs: () => 42, realtimeNs: () => 1_000_000_000 },
    log: () => {},
    trace: { int: false, guestErrors: false, unimp: false, inAsm: false },
  };
}

function machine(useWfi: boolean, shift = 2): Machine {
  return createVirtMachine(
    { ramSize: 16 * MiB, smp: 1, bios: { kind: 'none' }, noReboot: false, icount: { shift, align: false, sleep: false }, rtc: { clock: 'vm' }, kernel: { path: 't.elf', data: makeElf(timerProgram(useWfi), 0x80000000) } },
    makeHost(),
  );
}

function run(m: Machine, slice: number): SliceResult {
  for (let n = 0; n < 1_000_000; n += slice) {
    const r = m.runSlice(slice);
    if (r.kind !== 'running') return r;
  }
  return { kind: 'running' };
}

const PASS: SliceResult = { kind: 'shutdown', cause: 'finisher-pass', exitCode: 0 };

for (const useWfi of [true, false]) {
  test(`icount: same totalSteps and stateHash whatever the slice size (${useWfi ? 'WFI' : 'busy loop'})`, () => {
    const a = machine(useWfi);
    const b = machine(useWfi);
    assert.deepEqual(run(a, 10_000), PASS);
    assert.deepEqual(run(b, 7), PASS);
    assert.equal(a.totalSteps, b.totalSteps);
    assert.equal(a.stateHash(), b.stateHash());
    if (!useWfi) {
      // 5 deadlines of 50 ticks = 5000 ns each; with shift 2 (4 ns/step) 1250 steps apart.
      assert.ok(a.totalSteps >= 5 * 1250 && a.totalSteps < 5 * 1250 + 200, `steps ${a.totalSteps}`);
    } else {
      assert.ok(a.totalSteps < 200, `steps ${a.totalSteps}`);
    }
  });
}

test('stateHash: equal for identical machines, differs after one RAM byte or one register', () => {
  const a = machine(false);
  const b = machine(false);
  a.runSlice(3000);
  b.runSlice(3000);
  const h = a.stateHash();
  assert.match(h, /^[0-9a-f]{16}$/);
  assert.equal(h, b.stateHash());
  b.ram.u8[12345]! ^= 1;
  assert.notEqual(b.stateHash(), h);
  b.ram.u8[12345]! ^= 1;
  assert.equal(b.stateHash(), h);
  b.harts[0]!.setReg(R.s3, 7);
  assert.notEqual(b.stateHash(), h);
});

test('host-time mode: idle result tells when the next timer fires', () => {
  let now = 1000;
  const host: MachineHost = { ...makeHost(), time: { monotonicNs: () => now, realtimeNs: () => 0 } };
  const m = createVirtMachine(
    { ramSize: 16 * MiB, smp: 1, bios: { kind: 'none' }, noReboot: false, kernel: { path: 't.elf', data: makeElf(timerProgram(true), 0x80000000) } },
    host,
  );
  const r = m.runSlice(10_000);
  assert.deepEqual(r, { kind: 'idle', wakeAtHostNs: 1000 + 5000 });
  now = 1000 + 5000;
  // The interrupt is taken, the handler re-arms 50 ticks later and the hart waits again.
  assert.deepEqual(m.runSlice(10_000), { kind: 'idle', wakeAtHostNs: 1000 + 10_000 });
  assert.equal(m.harts[0]!.getReg(R.s0), 1);
});

// ---- sleep=on / sleep=off / align / VM pause, with host time under the test's control ----

function timedMachine(time: FakeHostTime, icount: IcountConfig | undefined, useWfi = true, count = 5): Machine {
  return createVirtMachine(
    {
      ramSize: 16 * MiB, smp: 1, bios: { kind: 'none' }, noReboot: false, rtc: { clock: 'vm' },
      ...(icount !== undefined ? { icount } : {}),
      kernel: { path: 't.elf', data: makeElf(timerProgram(useWfi, count), 0x80000000) },
    },
    { ...makeHost(), time },
  );
}

test('icount sleep=off: idle jumps the virtual clock to the deadline; no host time passes', () => {
  const time = new FakeHostTime();
  const m = timedMachine(time, { shift: 2, align: false, sleep: false });
  assert.deepEqual(run(m, 10_000), PASS);
  // 5 deadlines 50 mtime ticks (5000 ns) apart: the clock reached the last one by warping.
  assert.ok(m.clocks.now('virtual') >= 5 * 5000, `virtual ${m.clocks.now('virtual')}`);
  assert.equal(time.monotonicNs(), new FakeHostTime().monotonicNs());
});

test('icount sleep=on: idle waits for the deadline in host time and the virtual clock follows it', () => {
  const time = new FakeHostTime();
  const m = timedMachine(time, { shift: 2, align: false, sleep: true });
  let idles = 0;
  let result: SliceResult = { kind: 'running' };
  for (let i = 0; i < 1000 && result.kind !== 'shutdown'; i++) {
    result = m.runSlice(10_000);
    if (result.kind === 'idle') {
      idles++;
      const wait = result.wakeAtHostNs - time.monotonicNs();
      assert.ok(wait > 0 && wait <= 5000, `idle wait ${wait} ns`);
      const before = m.clocks.now('virtual');
      time.advance(wait);
      // While idle, virtual time follows host time (QEMU's icount_warp_rt).
      assert.equal(m.clocks.now('virtual') - before, 0, 'the warp is applied when the vCPU wakes');
    }
  }
  assert.deepEqual(result, PASS);
  assert.equal(idles, 5);
  assert.ok(m.clocks.now('virtual') >= 5 * 5000);
});

test('icount align=on: a guest ahead of host time by more than 3 ms is made to wait', () => {
  const time = new FakeHostTime();
  // shift 10: 1024 ns per instruction; 10,000 instructions are 10 ms of virtual time at host time 0.
  const m = timedMachine(time, { shift: 10, align: true, sleep: true }, false, 1000);
  const r = m.runSlice(10_000);
  assert.equal(r.kind, 'idle');
  if (r.kind === 'idle') assert.ok(r.wakeAtHostNs - time.monotonicNs() > 3_000_000, `align wait ${r.wakeAtHostNs - time.monotonicNs()}`);
  assert.ok(m.clocks.alignAheadNs() > 3_000_000);
});

test('without icount the virtual clock follows host time and stands still while the VM is paused', () => {
  const time = new FakeHostTime();
  const m = timedMachine(time, undefined);
  time.advance(1000);
  assert.equal(m.clocks.now('virtual'), 1000);
  m.clocks.pause();
  time.advance(1_000_000);
  assert.equal(m.clocks.now('virtual'), 1000);
  assert.equal(m.clocks.now('realtime'), time.monotonicNs());
  m.clocks.resume();
  time.advance(500);
  assert.equal(m.clocks.now('virtual'), 1500);
  // The CLINT's mtime reads the virtual clock (10 MHz: one tick per 100 ns).
  assert.equal(m.harts[0]!.csrRead(0xc01), 15);
});

test('-rtc clock=host|rt|vm: the goldfish RTC counts the chosen clock from its start date', () => {
  // The guest reads TIME_LOW then TIME_HIGH in a loop; a0/a1 hold the last 64-bit value.
  const a = new Asm(0x80000000);
  a.li(R.t0, 0x101000).label('loop').lw(R.a0, R.t0, 0).lw(R.a1, R.t0, 4).j('loop');
  const program = makeElf(a.assemble(), 0x80000000);
  for (const clock of ['host', 'rt', 'vm'] as const) {
    const time = new FakeHostTime();
    const m = createVirtMachine(
      { ramSize: 16 * MiB, smp: 1, bios: { kind: 'none' }, noReboot: false, rtc: { clock, startNs: 5e15 },
        kernel: { path: 't.elf', data: program } },
      { ...makeHost(), time },
    );
    const hart = m.harts[0]!;
    const read = (): number => {
      m.runSlice(60);
      return (hart.getReg(R.a0) >>> 0) + (hart.getReg(R.a1) >>> 0) * 2 ** 32;
    };
    assert.equal(read(), 5e15, clock);
    m.clocks.pause();
    time.advance(7000);
    // Paused VM: the vm clock stands still, host and rt clocks run on.
    assert.equal(read(), clock === 'vm' ? 5e15 : 5e15 + 7000, clock);
  }
});
