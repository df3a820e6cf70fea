import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as A from '../../test/support/cpu/asm.js';
import { makeMachine, RAM_BASE, MMIO_BASE } from '../../test/support/cpu/machine.js';
import { PRIV_M, PRIV_S, PRIV_U } from './hart-api.js';
import { MIP_MEIP, MIP_MSIP, MIP_MTIP, MIP_SSIP, MIP_STIP } from './interrupts.js';

const MSTATUS = 0x300;
const MTVEC = 0x305;
const MEPC = 0x341;
const MCAUSE = 0x342;
const MTVAL = 0x343;
const HANDLER = RAM_BASE + 0x800;

test('CSR read/write/set/clear semantics', () => {
  const m = makeMachine([
    A.csrrw(1, 0x340, 2), A.csrrs(3, 0x340, 4), A.csrrc(5, 0x340, 6), A.csrrs(7, 0x340, 0),
    A.csrrwi(8, 0x340, 31), A.csrrsi(9, 0x340, 0), A.csrrci(10, 0x340, 1), A.csrrs(11, 0x340, 0),
    A.csrrs(12, 0x301, 0), A.csrrs(13, 0xf14, 0),
  ]);
  m.hart.csrWrite(0x340, 0x11);
  m.hart.setReg(2, 0xf0);
  m.hart.setReg(4, 0x0f);
  m.hart.setReg(6, 0x3c);
  assert.equal(m.hart.run(10), 10);
  assert.equal(m.hart.getReg(1), 0x11);
  assert.equal(m.hart.getReg(3), 0xf0);
  assert.equal(m.hart.getReg(5), 0xff);
  assert.equal(m.hart.getReg(7), 0xc3);
  assert.equal(m.hart.getReg(8), 0xc3);
  assert.equal(m.hart.getReg(9), 31);
  assert.equal(m.hart.getReg(10), 31);
  assert.equal(m.hart.getReg(11), 30);
  assert.equal(m.hart.getReg(12) >>> 0, 0x40141105);
  assert.equal(m.hart.getReg(13), 0);
});

test('unknown CSR and writes to read-only CSRs are illegal instructions (and traced)', () => {
  const unimp: string[] = [];
  const m = makeMachine([A.csrrs(1, 0x7c0, 0)], { trace: { unimplemented: (_h, _pc, what) => unimp.push(what) } });
  m.hart.csrWrite(MTVEC, HANDLER);
  m.hart.run(1);
  assert.equal(m.hart.csrRead(MCAUSE), 2);
  assert.equal(m.hart.csrRead(MTVAL) >>> 0, A.csrrs(1, 0x7c0, 0));
  assert.deepEqual(unimp, ['csr 0x7c0']);
  const r = makeMachine([A.csrrw(0, 0xf14, 1)]);
  r.hart.csrWrite(MTVEC, HANDLER);
  r.hart.run(1);
  assert.equal(r.hart.csrRead(MCAUSE), 2);
  // S-mode may not touch M CSRs.
  const s = makeMachine([A.csrrs(1, MSTATUS, 0), A.csrrs(1, 0x100, 0)]);
  s.hart.csrWrite(MTVEC, HANDLER);
  s.hart.setPrivilege(PRIV_S);
  s.hart.run(1);
  assert.equal(s.hart.csrRead(MCAUSE), 2);
  assert.equal(s.hart.privilege, PRIV_M);
});

test('ecall from each mode, mepc/MPP and mret', () => {
  for (const [mode, cause] of [[PRIV_U, 8], [PRIV_S, 9], [PRIV_M, 11]] as const) {
    const m = makeMachine([A.addi(1, 0, 1), A.ecall()]);
    m.load(HANDLER, [A.csrrs(5, MEPC, 0), A.addi(5, 5, 4), A.csrrw(0, MEPC, 5), A.mret()]);
    m.hart.csrWrite(MTVEC, HANDLER);
    m.hart.csrWrite(MSTATUS, 0x8); // MIE
    m.hart.setPrivilege(mode);
    assert.equal(m.hart.run(2), 2);
    assert.equal(m.hart.getPc() >>> 0, HANDLER);
    assert.equal(m.hart.csrRead(MCAUSE), cause);
    assert.equal(m.hart.csrRead(MEPC) >>> 0, RAM_BASE + 4);
    assert.equal(m.hart.csrRead(MTVAL), 0);
    const ms = m.hart.csrRead(MSTATUS);
    assert.equal((ms >> 11) & 3, mode);
    assert.equal(ms & 0x88, 0x80, 'MPIE=old MIE, MIE=0');
    assert.equal(m.hart.privilege, PRIV_M);
    assert.equal(m.hart.run(4), 4);
    assert.equal(m.hart.getPc() >>> 0, RAM_BASE + 8);
    assert.equal(m.hart.privilege, mode);
    assert.equal(m.hart.csrRead(MSTATUS) & 0x1888, 0x88);
  }
});

test('delegation to S, sret, direct and vectored tvec', () => {
  const m = makeMachine([A.ecall(), A.addi(1, 0, 1)]);
  m.load(HANDLER, [A.csrrs(5, 0x141, 0), A.addi(5, 5, 4), A.csrrw(0, 0x141, 5), A.sret()]);
  m.hart.csrWrite(0x302, 1 << 8);
  m.hart.csrWrite(0x105, HANDLER + 1); // vectored: exceptions still go to base
  m.hart.csrWrite(MTVEC, RAM_BASE + 0x400);
  m.hart.csrWrite(0x100, 0x2); // SIE
  m.hart.setPrivilege(PRIV_U);
  m.hart.run(1);
  assert.equal(m.hart.privilege, PRIV_S);
  assert.equal(m.hart.getPc() >>> 0, HANDLER);
  assert.equal(m.hart.csrRead(0x142), 8);
  assert.equal(m.hart.csrRead(0x141) >>> 0, RAM_BASE);
  const ss = m.hart.csrRead(0x100);
  assert.equal(ss & 0x122, 0x20, 'SPP=U, SPIE=1, SIE=0');
  assert.equal(m.hart.run(5), 5);
  assert.equal(m.hart.privilege, PRIV_U);
  assert.equal(m.hart.getReg(1), 1);
  assert.equal(m.hart.csrRead(0x100) & 0x122, 0x22);
  // An ecall from S is not delegated by medeleg bit 8.
  const s = makeMachine([A.ecall()]);
  s.hart.csrWrite(0x302, 1 << 8);
  s.hart.csrWrite(MTVEC, HANDLER);
  s.hart.setPrivilege(PRIV_S);
  s.hart.run(1);
  assert.equal(s.hart.privilege, PRIV_M);
  assert.equal(s.hart.csrRead(MCAUSE), 9);
});

test('interrupts: priority, enables, vectored mtvec, delegation', () => {
  const m = makeMachine([A.addi(1, 1, 1), A.addi(1, 1, 1), A.addi(1, 1, 1)]);
  m.load(HANDLER, new Array<number>(16).fill(A.addi(0, 0, 0)));
  m.load(RAM_BASE + 0x400, new Array<number>(16).fill(A.addi(0, 0, 0)));
  m.hart.csrWrite(MTVEC, HANDLER + 1);
  m.hart.csrWrite(0x304, MIP_MTIP | MIP_MEIP | MIP_MSIP);
  m.hart.setInterruptPending(MIP_MTIP | MIP_MEIP | MIP_MSIP, true);
  // M-mode with MIE=0: not taken.
  assert.equal(m.hart.run(1), 1);
  assert.equal(m.hart.getPc() >>> 0, RAM_BASE + 4);
  m.hart.csrWrite(MSTATUS, 0x8);
  assert.equal(m.hart.run(1), 1);
  // The interrupt was taken before the step; the step ran the handler's first instruction.
  assert.equal(m.hart.csrRead(MCAUSE) >>> 0, 0x8000000b);
  assert.equal(m.hart.csrRead(MEPC) >>> 0, RAM_BASE + 4);
  assert.equal(m.hart.getPc() >>> 0, HANDLER + 4 * 11 + 4);
  m.hart.setInterruptPending(MIP_MEIP, false);
  m.hart.csrWrite(MSTATUS, 0x8);
  m.hart.setPc(RAM_BASE);
  m.hart.run(1);
  assert.equal(m.hart.csrRead(MCAUSE) >>> 0, 0x80000003, 'MSI before MTI');
  m.hart.setInterruptPending(MIP_MSIP, false);
  m.hart.setPrivilege(PRIV_U); // U-mode: M interrupts taken regardless of MIE
  m.hart.csrWrite(MSTATUS, 0);
  m.hart.run(1);
  assert.equal(m.hart.csrRead(MCAUSE) >>> 0, 0x80000007);
  assert.equal(m.hart.privilege, PRIV_M);
  assert.equal(m.hart.getPc() >>> 0, HANDLER + 32);

  // Delegated STI: not taken in M, taken in S with SIE, in U always; goes to stvec.
  const s = makeMachine([A.addi(1, 1, 1), A.addi(1, 1, 1)]);
  s.load(HANDLER, new Array<number>(16).fill(A.addi(0, 0, 0)));
  s.hart.csrWrite(0x303, MIP_STIP | MIP_SSIP);
  s.hart.csrWrite(0x304, MIP_STIP | MIP_SSIP);
  s.hart.csrWrite(0x105, HANDLER);
  s.hart.csrWrite(MSTATUS, 0xa);
  s.hart.csrWrite(0x344, MIP_STIP | MIP_SSIP);
  s.hart.run(1);
  assert.equal(s.hart.getPc() >>> 0, RAM_BASE + 4, 'not taken in M');
  s.hart.setPrivilege(PRIV_S);
  s.hart.run(1);
  assert.equal(s.hart.csrRead(0x142) >>> 0, 0x80000001, 'SSI before STI');
  assert.equal(s.hart.privilege, PRIV_S);
  assert.equal(s.hart.getPc() >>> 0, HANDLER + 4);
  // sip: S may clear SSIP; STIP is read-only from S.
  s.hart.csrWrite(0x144, 0);
  assert.equal(s.hart.csrRead(0x344), MIP_STIP);
});

test('WFI sleeps, run returns 0 while waiting, wakes on pending & enabled even with MIE=0', () => {
  const m = makeMachine([A.wfi(), A.addi(1, 0, 7)]);
  m.hart.csrWrite(0x304, MIP_MTIP);
  assert.equal(m.hart.run(10), 1);
  assert.equal(m.hart.waitingForInterrupt, true);
  assert.equal(m.hart.run(10), 0);
  m.hart.setInterruptPending(MIP_MSIP, true); // not enabled in mie
  assert.equal(m.hart.run(10), 0);
  m.hart.setInterruptPending(MIP_MTIP, true);
  assert.equal(m.hart.run(1), 1);
  assert.equal(m.hart.waitingForInterrupt, false);
  assert.equal(m.hart.getReg(1), 7);
  // TW traps WFI in S; WFI in U is always illegal.
  const s = makeMachine([A.wfi()]);
  s.hart.csrWrite(MTVEC, HANDLER);
  s.hart.csrWrite(MSTATUS, 1 << 21);
  s.hart.setPrivilege(PRIV_S);
  s.hart.run(1);
  assert.equal(s.hart.csrRead(MCAUSE), 2);
  assert.equal(s.hart.csrRead(MTVAL) >>> 0, A.wfi());
  const u = makeMachine([A.wfi()]);
  u.hart.csrWrite(MTVEC, HANDLER);
  u.hart.setPrivilege(PRIV_U);
  u.hart.run(1);
  assert.equal(u.hart.csrRead(MCAUSE), 2);
});

test('TSR traps sret, TVM traps satp and sfence.vma in S', () => {
  for (const [insn, bit] of [[A.sret(), 22], [A.csrrw(0, 0x180, 0), 20], [A.sfenceVma(), 20]] as const) {
    const m = makeMachine([insn]);
    m.hart.csrWrite(MTVEC, HANDLER);
    m.hart.csrWrite(MSTATUS, 1 << bit);
    m.hart.setPrivilege(PRIV_S);
    m.hart.run(1);
    assert.equal(m.hart.csrRead(MCAUSE), 2, `insn ${insn.toString(16)}`);
  }
  const ok = makeMachine([A.sfenceVma(), A.csrrw(0, 0x180, 0)]);
  ok.hart.setPrivilege(PRIV_S);
  ok.hart.run(2);
  assert.equal(ok.hart.privilege, PRIV_S);
  const mr = makeMachine([A.mret()]);
  mr.hart.csrWrite(MTVEC, HANDLER);
  mr.hart.setPrivilege(PRIV_S);
  mr.hart.run(1);
  assert.equal(mr.hart.csrRead(MCAUSE), 2);
});

test('counters: exact steps, minstret excludes trapping steps, counteren gating, time', () => {
  const m = makeMachine([A.addi(1, 0, 1), A.ecall(), A.csrrs(2, 0xb02, 0), A.csrrs(3, 0xb00, 0), A.csrrs(4, 0xc01, 0)]);
  m.load(HANDLER, [A.csrrs(2, 0xb02, 0), A.csrrs(3, 0xb00, 0), A.csrrs(4, 0xc01, 0)]);
  m.hart.csrWrite(MTVEC, HANDLER);
  m.now.mtime = 12345;
  assert.equal(m.hart.run(5), 5);
  assert.equal(m.hart.getReg(2), 1, 'addi retired; ecall trapped');
  assert.equal(m.hart.getReg(3), 3);
  assert.equal(m.hart.getReg(4), 12345);
  assert.equal(m.hart.csrRead(0xb00), 5);
  assert.equal(m.hart.csrRead(0xb02), 4);
  m.hart.csrWrite(0xb00, -1);
  m.hart.csrWrite(0xb80, 0);
  m.hart.setPc(RAM_BASE);
  m.hart.run(1);
  assert.equal(m.hart.csrRead(0xb00), 0);
  assert.equal(m.hart.csrRead(0xb80), 1);

  const u = makeMachine([A.csrrs(1, 0xc00, 0), A.csrrs(1, 0xc01, 0)]);
  u.hart.csrWrite(MTVEC, HANDLER);
  u.hart.csrWrite(0x306, 1);
  u.hart.setPrivilege(PRIV_U);
  u.hart.run(1);
  assert.equal(u.hart.csrRead(MCAUSE), 2, 'U needs scounteren too');
  const u2 = makeMachine([A.csrrs(1, 0xc00, 0), A.csrrs(2, 0xc01, 0)]);
  u2.hart.csrWrite(MTVEC, HANDLER);
  u2.hart.csrWrite(0x306, 1);
  u2.hart.csrWrite(0x106, 3);
  u2.hart.setPrivilege(PRIV_U);
  u2.hart.run(2);
  assert.equal(u2.hart.csrRead(MCAUSE), 2, 'time not enabled in mcounteren');
  assert.equal(u2.hart.getReg(1), 0);
  assert.equal(u2.hart.csrRead(MEPC) >>> 0, RAM_BASE + 4);
});

test('run(n) stops exactly; requestExit from an MMIO callback stops at the step boundary', () => {
  const prog = [A.addi(1, 1, 1), A.addi(1, 1, 1), A.sw(0, 10, 0), A.addi(1, 1, 1), A.jal(0, -16)];
  const m = makeMachine(prog);
  m.hart.setReg(10, MMIO_BASE);
  let seen = -1;
  m.dev.onAccess = () => { seen = m.hart.runSteps; m.hart.requestExit(); };
  assert.equal(m.hart.run(100), 3);
  assert.equal(seen, 2);
  assert.equal(m.hart.getReg(1), 2);
  m.dev.onAccess = undefined;
  assert.equal(m.hart.run(7), 7);
  assert.equal(m.hart.getReg(1), 2 + 4);
  m.hart.requestExit(); // outside run: does not affect the next run
  assert.equal(m.hart.run(3), 3);
});

test('firmware hook sees the trapping pc and can skip the trap', () => {
  const seen: number[] = [];
  const m = makeMachine([A.addi(17, 0, 5), A.ecall(), A.addi(1, 0, 9)], {
    firmware: {
      handleTrap(h, cause, tval) {
        seen.push(cause, tval, h.getPc() >>> 0);
        if (cause !== 9) return false;
        h.setReg(10, 42);
        h.setPc(h.getPc() + 4);
        return true;
      },
    },
  });
  m.hart.setPrivilege(PRIV_S);
  assert.equal(m.hart.run(3), 3);
  assert.deepEqual(seen, [9, 0, RAM_BASE + 4]);
  assert.equal(m.hart.getReg(10), 42);
  assert.equal(m.hart.getReg(1), 9);
  assert.equal(m.hart.privilege, PRIV_S);
  assert.equal(m.hart.csrRead(0xb02), 2, 'the ecall step does not retire');
});

test('misaligned atomics trap; misaligned scalar stores do not', () => {
  const m = makeMachine([A.amoaddW(1, 2, 3)]);
  m.hart.csrWrite(MTVEC, HANDLER);
  m.hart.setReg(2, RAM_BASE + 0x1002);
  m.hart.run(1);
  assert.equal(m.hart.csrRead(MCAUSE), 6);
  assert.equal(m.hart.csrRead(MTVAL) >>> 0, RAM_BASE + 0x1002);
  const l = makeMachine([A.lrW(1, 2)]);
  l.hart.csrWrite(MTVEC, HANDLER);
  l.hart.setReg(2, RAM_BASE + 0x1001);
  l.hart.run(1);
  assert.equal(l.hart.csrRead(MCAUSE), 4);
  const s = makeMachine([A.sw(3, 2, 0)]);
  s.hart.setReg(2, RAM_BASE + 0x1001);
  s.hart.setReg(3, 0x11223344);
  s.hart.run(1);
  assert.equal(s.peek(RAM_BASE + 0x1000), 0x22334400);
  assert.equal(s.peek(RAM_BASE + 0x1004), 0x11);
});

test('ebreak and access faults on unmapped physical addresses', () => {
  const m = makeMachine([A.ebreak(), A.lw(1, 2, 0), A.sw(1, 2, 0), A.jalr(0, 2, 0)]);
  m.hart.csrWrite(MTVEC, HANDLER);
  m.load(HANDLER, [A.csrrs(5, MEPC, 0), A.addi(5, 5, 4), A.csrrw(0, MEPC, 5), A.mret()]);
  m.hart.setReg(2, 0x20000000);
  const causes: number[] = [];
  for (let i = 0; i < 3; i++) {
    m.hart.run(1);
    causes.push(m.hart.csrRead(MCAUSE), m.hart.csrRead(MTVAL));
    m.hart.run(4);
  }
  m.hart.run(2);
  causes.push(m.hart.csrRead(MCAUSE), m.hart.csrRead(MTVAL));
  assert.deepEqual(causes, [3, 0, 5, 0x20000000, 7, 0x20000000, 1, 0x20000000]);
});

test('fetch from the MMIO boot ROM', () => {
  const m = makeMachine();
  const code = [A.addi(1, 0, 3), A.cAddi(1, 2), A.jal(0, 0)];
  const bytes = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
  let o = 0;
  for (const w of code) {
    const n = (w & 3) === 3 ? 4 : 2;
    for (let i = 0; i < n; i++) bytes[o++] = (w >>> (8 * i)) & 0xff;
  }
  m.rom.bytes.set(bytes);
  m.hart.reset(0x1000);
  assert.equal(m.hart.run(3), 3);
  assert.equal(m.hart.getReg(1), 5);
  assert.equal(m.hart.getPc(), 0x1006);
});
