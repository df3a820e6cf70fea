import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createVirtMachine } from './virt.js';
import type { Machine, MachineConfig, MachineHost, SliceResult } from './machine-api.js';
import { R } from '../../test/support/cpu/asm.js';
import { makeElf } from '../../test/support/cpu/elf.js';
import { Asm } from '../../test/support/board/asm.js';
import { SBI_EXT_BASE, SBI_EXT_DBCN, SBI_EXT_HSM, SBI_EXT_SRST, SBI_EXT_TIME, SBI_SPEC_VERSION, SBI_IMPL_ID } from './sbi/constants.js';

const MiB = 1024 * 1024;
const KBASE = 0x80400000;

function makeHost(out: number[] = []): MachineHost {
  return {
    console: { write: (b) => out.push(...b) },
    time: { monotonicNs: () => 5, realtimeNs: () => 1_000_000_000 },
    log: () => {},
    trace: { int: false, guestErrors: false, unimp: false, inAsm: false },
  };
}

function sbiMachine(a: Asm, over: Partial<MachineConfig> = {}, out: number[] = []): Machine {
  const cfg: MachineConfig = {
    ramSize: 64 * MiB, smp: 1, bios: { kind: 'default' }, noReboot: false, icount: { shift: 0, align: false, sleep: false }, rtc: { clock: 'vm' },
    kernel: { path: 's.elf', data: makeElf(a.assemble(), KBASE) }, ...over,
  };
  return createVirtMachine(cfg, makeHost(out));
}

function call(a: Asm, eid: number, fid: number, args: number[] = []): Asm {
  args.forEach((v, i) => a.li(R.a0 + i, v));
  return a.li(R.a7, eid).li(R.a6, fid).ecall();
}

function run(m: Machine, slice = 10_000, limit = 3_000_000): SliceResult {
  for (let n = 0; n < limit; n += slice) {
    const r = m.runSlice(slice);
    if (r.kind !== 'running') return r;
  }
  return { kind: 'running' };
}

const SHUTDOWN: SliceResult = { kind: 'shutdown', cause: 'guest-shutdown', exitCode: 0 };

test('SBI base: spec version, impl id, probe, unsupported extension; console calls; SRST shutdown', () => {
  const a = new Asm(KBASE);
  // Boot state: S-mode, a0 = hartid, a1 = fdt address.
  a.addi(R.s4, R.a1, 0);
  call(a, SBI_EXT_BASE, 0).addi(R.s0, R.a1, 0);
  call(a, SBI_EXT_BASE, 1).addi(R.s1, R.a1, 0);
  call(a, SBI_EXT_BASE, 3, [SBI_EXT_TIME]).addi(R.s2, R.a1, 0);
  call(a, SBI_EXT_BASE, 3, [0x12345]).addi(R.s3, R.a1, 0);
  call(a, 0x99999, 0).addi(R.t2, R.a0, 0);
  call(a, SBI_EXT_DBCN, 2, [0x58]); // write_byte 'X'
  call(a, 1, 0, [0x59]); // legacy putchar 'Y'
  call(a, SBI_EXT_SRST, 0, [0, 0]);
  a.label('hang').j('hang');
  const out: number[] = [];
  const m = sbiMachine(a, {}, out);
  assert.deepEqual(run(m), SHUTDOWN);
  const h = m.harts[0]!;
  assert.equal(h.getReg(R.s4) >>> 0, 0x83e00000); // device tree at the end of 64 MiB
  assert.equal(h.getReg(R.s0), SBI_SPEC_VERSION);
  assert.equal(h.getReg(R.s1), SBI_IMPL_ID);
  assert.equal(h.getReg(R.s2), 1);
  assert.equal(h.getReg(R.s3), 0);
  assert.equal(h.getReg(R.t2), -2);
  assert.equal(String.fromCharCode(...out), 'XY');
});

test('SBI set_timer: STIP arrives as a supervisor timer interrupt after WFI (icount warps time)', () => {
  const a = new Asm(KBASE);
  a.la(R.t0, 'handler').csrw(0x105, R.t0); // stvec
  a.li(R.t0, 0x20).csrw(0x104, R.t0); // sie.STIE
  a.li(R.t0, 2).csrs(0x100, R.t0); // sstatus.SIE
  call(a, SBI_EXT_TIME, 0, [1000, 0]);
  a.label('idle').wfi().j('idle');
  a.label('handler').csrr(R.s1, 0x142).csrr(R.s2, 0xc01); // scause, time
  call(a, SBI_EXT_SRST, 0, [0, 0]);
  a.label('hang').j('hang');
  const m = sbiMachine(a);
  assert.deepEqual(run(m), SHUTDOWN);
  const h = m.harts[0]!;
  assert.equal(h.getReg(R.s1) >>> 0, 0x80000005);
  assert.ok(h.getReg(R.s2) >= 1000, `time ${h.getReg(R.s2)}`);
  assert.ok(m.totalSteps < 1000, `steps ${m.totalSteps}`); // the wait was warped, not executed
});

test('SBI HSM: hart 1 is stopped until hart_start, gets a0 = hartid and a1 = opaque, stops again', () => {
  const a = new Asm(KBASE);
  call(a, SBI_EXT_HSM, 2, [1]).addi(R.s0, R.a1, 0); // status of hart 1 before: STOPPED (1)
  a.li(R.a0, 1).la(R.a1, 'hart1').li(R.a2, 0x1234).li(R.a7, SBI_EXT_HSM).li(R.a6, 0).ecall().addi(R.s1, R.a0, 0);
  a.label('wait');
  call(a, SBI_EXT_HSM, 2, [1]).li(R.t0, 1).bne(R.a1, R.t0, 'wait');
  call(a, SBI_EXT_SRST, 0, [0, 0]);
  a.label('hang').j('hang');
  a.label('hart1').addi(R.s2, R.a0, 0).addi(R.s3, R.a1, 0).csrr(R.s4, 0xc01);
  call(a, SBI_EXT_HSM, 1);
  a.label('hang1').j('hang1');
  const m = sbiMachine(a, { smp: 2, quantum: 100 });
  assert.deepEqual(run(m, 1000), SHUTDOWN);
  const [h0, h1] = [m.harts[0]!, m.harts[1]!];
  assert.equal(h0.getReg(R.s0), 1);
  assert.equal(h0.getReg(R.s1), 0);
  assert.equal(h1.getReg(R.s2), 1);
  assert.equal(h1.getReg(R.s3), 0x1234);
  assert.equal(h1.privilege, 1);
});

test('SRST reboot resets the machine, or shuts down with -no-reboot', () => {
  const a = new Asm(KBASE);
  call(a, SBI_EXT_SRST, 0, [1, 0]);
  a.label('hang').j('hang');
  const m = sbiMachine(a, { noReboot: true });
  assert.deepEqual(run(m), { kind: 'shutdown', cause: 'guest-reset', exitCode: 0 });
  const m2 = sbiMachine(a);
  assert.deepEqual(m2.runSlice(50), { kind: 'running' });
  assert.equal(m2.harts[0]!.privilege, 1);
});
