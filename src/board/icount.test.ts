import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createVirtMachine } from './virt.js';
import type { Machine, MachineHost, SliceResult } from './machine-api.js';
import { R } from '../cpu/test-asm.js';
import { makeElf } from '../cpu/test-elf.js';
import { timerProgram } from './asm-for-tests.js';

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
    { ramSize: 16 * MiB, smp: 1, bios: { kind: 'none' }, noReboot: false, icountShift: shift, kernel: { path: 't.elf', data: makeElf(timerProgram(useWfi), 0x80000000) } },
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
