import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as A from '../../test/support/cpu/asm.js';
import { makeMachine, RAM_BASE, type TestMachine } from '../../test/support/cpu/machine.js';
import { PRIV_M, PRIV_S, PRIV_U } from './hart-api.js';

const MTVEC = 0x305;
const MCAUSE = 0x342;
const MTVAL = 0x343;
const HANDLER = RAM_BASE + 0x800;
const ROOT = RAM_BASE + 0x10000; // level-1 table
/** A level-0 table per distinct va >>> 26 used by the tests. */
const l0 = (va: number): number => RAM_BASE + 0x20000 + ((va >>> 26) & 0xf) * 0x1000;
const V = 1, R = 2, W = 4, X = 8, U = 16, AB = 64, DB = 128;

const pte = (pa: number, flags: number): number => ((Math.floor(pa / 4096) << 10) | flags) >>> 0;

/** Maps va -> pa (4 KiB) through ROOT/L0; sets satp. */
function map(m: TestMachine, va: number, pa: number, flags: number): void {
  m.poke(ROOT + (va >>> 22) * 4, pte(l0(va), V));
  m.poke(l0(va) + ((va >>> 12) & 0x3ff) * 4, pte(pa, flags));
  m.hart.csrWrite(0x180, (0x80000000 | (ROOT >>> 12)) | 0);
}

function setup(code: number[], mode: 0 | 1 | 3): TestMachine {
  const m = makeMachine();
  m.load(RAM_BASE + 0x3000, code);
  // code page at va 0x40000000
  map(m, 0x40000000, RAM_BASE + 0x3000, V | R | X | (mode === PRIV_U ? U : 0) | AB);
  m.hart.csrWrite(MTVEC, HANDLER);
  m.hart.setPc(0x40000000);
  m.hart.setPrivilege(mode);
  return m;
}

test('Sv32 walk translates and sets A and D bits in memory', () => {
  const m = setup([A.lw(1, 2, 4), A.sw(3, 2, 8), A.lw(4, 2, 8)], PRIV_S);
  map(m, 0x50000000, RAM_BASE + 0x5000, V | R | W);
  m.poke(RAM_BASE + 0x5004, 0x1234);
  m.hart.setReg(2, 0x50000000);
  m.hart.setReg(3, 77);
  assert.equal(m.hart.run(1), 1);
  assert.equal(m.hart.getReg(1), 0x1234);
  const leaf = l0(0x50000000) + ((0x50000000 >>> 12) & 0x3ff) * 4;
  assert.equal(m.peek(leaf) & (AB | DB), AB, 'load sets A only');
  m.hart.run(2);
  assert.equal(m.peek(leaf) & (AB | DB), AB | DB, 'store sets D');
  assert.equal(m.peek(RAM_BASE + 0x5008), 77);
  assert.equal(m.hart.getReg(4), 77);
  assert.equal(m.hart.privilege, PRIV_S);
});

test('page faults: invalid, permission, U page from S, W without R, fetch', () => {
  const cases: [number[], number, number, number][] = [
    // [code, flags of data page, expected cause, expected tval]
    [[A.lw(1, 2, 0)], 0, 13, 0x50000000],
    [[A.sw(1, 2, 4)], V | R, 15, 0x50000004],
    [[A.lw(1, 2, 0)], V | R | U, 13, 0x50000000],
    [[A.lw(1, 2, 0)], V | W, 13, 0x50000000],
    [[A.lw(1, 2, 0)], V | X, 13, 0x50000000],
    [[A.amoaddW(1, 2, 0)], V | R, 15, 0x50000000],
    [[A.jalr(0, 2, 0)], V | R, 12, 0x50000000],
  ];
  for (const [code, flags, cause, tval] of cases) {
    const m = setup(code, PRIV_S);
    map(m, 0x50000000, RAM_BASE + 0x5000, flags);
    m.hart.setReg(2, 0x50000000);
    const steps = code[0] === A.jalr(0, 2, 0) ? 2 : 1;
    assert.equal(m.hart.run(steps), steps);
    assert.equal(m.hart.csrRead(MCAUSE), cause, `flags ${flags} code ${code[0]!.toString(16)}`);
    assert.equal(m.hart.csrRead(MTVAL) >>> 0, tval);
    assert.equal(m.hart.privilege, PRIV_M);
  }
});

test('SUM and MXR', () => {
  const m = setup([A.lw(1, 2, 0), A.lw(3, 4, 0)], PRIV_S);
  map(m, 0x50000000, RAM_BASE + 0x5000, V | R | U);
  map(m, 0x60000000, RAM_BASE + 0x6000, V | X);
  m.poke(RAM_BASE + 0x5000, 5);
  m.poke(RAM_BASE + 0x6000, 6);
  m.hart.setReg(2, 0x50000000);
  m.hart.setReg(4, 0x60000000);
  m.hart.csrWrite(0x100, (1 << 18) | (1 << 19));
  assert.equal(m.hart.run(2), 2);
  assert.equal(m.hart.getReg(1), 5);
  assert.equal(m.hart.getReg(3), 6);
  assert.equal(m.hart.privilege, PRIV_S);
  // Clearing SUM must take effect for cached translations.
  m.hart.csrWrite(0x100, 0);
  m.hart.setPc(0x40000000);
  m.hart.run(1);
  assert.equal(m.hart.csrRead(MCAUSE), 13);
});

test('U mode cannot access S pages; MPRV applies MPP translation to M loads', () => {
  const m = setup([A.lw(1, 2, 0)], PRIV_U);
  map(m, 0x50000000, RAM_BASE + 0x5000, V | R);
  m.hart.setReg(2, 0x50000000);
  m.hart.run(1);
  assert.equal(m.hart.csrRead(MCAUSE), 13);
  const p = makeMachine([A.lw(1, 2, 0)]);
  map(p, 0x50000000, RAM_BASE + 0x5000, V | R | AB);
  p.poke(RAM_BASE + 0x5000, 99);
  p.hart.setReg(2, 0x50000000);
  p.hart.csrWrite(0x300, (1 << 17) | (1 << 11)); // MPRV, MPP=S
  p.hart.run(1);
  assert.equal(p.hart.getReg(1), 99);
  assert.equal(p.hart.privilege, PRIV_M);
});

test('superpages and misaligned superpages', () => {
  const m = setup([A.lw(1, 2, 0x7fc)], PRIV_S);
  m.poke(ROOT + (0x50000000 >>> 22) * 4, pte(RAM_BASE, V | R)); // 4 MiB at RAM_BASE
  m.poke(RAM_BASE + 0x3007fc - 0x300000 + 0x300000, 0);
  m.poke(RAM_BASE + 0x1234 * 0 + 0x7fc, 0xabc);
  m.hart.setReg(2, 0x50000000);
  m.hart.run(1);
  assert.equal(m.hart.getReg(1), 0xabc);
  const b = setup([A.lw(1, 2, 0)], PRIV_S);
  b.poke(ROOT + (0x50000000 >>> 22) * 4, pte(RAM_BASE + 0x1000, V | R));
  b.hart.setReg(2, 0x50000000);
  b.hart.run(1);
  assert.equal(b.hart.csrRead(MCAUSE), 13);
});

test('sfence.vma and satp writes flush the TLB', () => {
  const m = setup([A.lw(1, 2, 0), A.sfenceVma(), A.lw(3, 2, 0)], PRIV_S);
  map(m, 0x50000000, RAM_BASE + 0x5000, V | R);
  m.poke(RAM_BASE + 0x5000, 1);
  m.poke(RAM_BASE + 0x6000, 2);
  m.hart.setReg(2, 0x50000000);
  m.hart.run(1);
  map(m, 0x50000000, RAM_BASE + 0x6000, V | R); // same satp value: no flush
  m.hart.run(2);
  assert.equal(m.hart.getReg(1), 1);
  assert.equal(m.hart.getReg(3), 2);
});

test('PTE outside RAM gives an access fault', () => {
  const m = makeMachine([A.lw(1, 2, 0)]);
  m.hart.csrWrite(MTVEC, HANDLER);
  m.hart.csrWrite(0x180, (0x80000000 | (0x20000000 >>> 12)) | 0);
  m.hart.csrWrite(0x300, (1 << 17) | (1 << 11));
  m.hart.setReg(2, 0x1000);
  m.hart.run(1);
  assert.equal(m.hart.csrRead(MCAUSE), 5);
});

test('PMP: no rules deny S/U, TOR, NA4/NAPOT, lock applies to M', () => {
  const none = makeMachine([A.addi(1, 0, 1)], {}, false);
  none.hart.csrWrite(MTVEC, HANDLER);
  none.hart.setPrivilege(PRIV_U);
  none.hart.run(1);
  assert.equal(none.hart.csrRead(MCAUSE), 1, 'fetch access fault');
  assert.equal(none.hart.privilege, PRIV_M);
  // ...and mret towards S/U with no PMP rule faults at the mret (QEMU 7.2).
  const mr = makeMachine([A.mret()], {}, false);
  mr.hart.csrWrite(MTVEC, HANDLER);
  mr.hart.csrWrite(0x341, RAM_BASE + 0x100);
  mr.hart.csrWrite(0x300, 1 << 11);
  mr.hart.run(1);
  assert.equal(mr.hart.csrRead(MCAUSE), 1);
  assert.equal(mr.hart.csrRead(0x341) >>> 0, RAM_BASE);

  // TOR [RAM_BASE, RAM_BASE+0x4000) RX, NAPOT 4 KiB at +0x5000 R, NA4 at +0x6000 RW.
  const m = makeMachine([A.lw(1, 2, 0), A.lw(3, 4, 0), A.sw(3, 4, 0), A.sw(3, 5, 0), A.sw(3, 5, 4)], {}, false);
  m.hart.csrWrite(MTVEC, HANDLER);
  m.hart.csrWrite(0x3b0, RAM_BASE >>> 2);
  m.hart.csrWrite(0x3b1, (RAM_BASE + 0x4000) >>> 2);
  m.hart.csrWrite(0x3b2, ((RAM_BASE + 0x5000) >>> 2) | 0x1ff);
  m.hart.csrWrite(0x3b3, (RAM_BASE + 0x6000) >>> 2);
  m.hart.csrWrite(0x3a0, (0x13 << 24) | (0x19 << 16) | (0x0d << 8));
  m.hart.setReg(2, RAM_BASE + 0x3000);
  m.hart.setReg(4, RAM_BASE + 0x5000);
  m.hart.setReg(5, RAM_BASE + 0x6000);
  m.hart.setPrivilege(PRIV_U);
  const causes: number[] = [];
  for (let i = 0; i < 5; i++) {
    m.hart.setPrivilege(PRIV_U);
    m.hart.setPc(RAM_BASE + 4 * i);
    m.hart.csrWrite(MCAUSE, -1);
    m.hart.run(1);
    causes.push(m.hart.csrRead(MCAUSE));
  }
  assert.deepEqual(causes, [-1, -1, 7, -1, 7]);
  assert.equal(m.hart.csrRead(0x3a0) >>> 0, ((0x13 << 24) | (0x19 << 16) | (0x0d << 8)) >>> 0);

  // Locked entry: denies M too and cannot be changed.
  const l = makeMachine([A.sw(0, 2, 0)], {}, false);
  l.hart.csrWrite(MTVEC, HANDLER);
  l.hart.csrWrite(0x3b0, ((RAM_BASE + 0x5000) >>> 2) | 0x1ff);
  l.hart.csrWrite(0x3a0, 0x80 | 0x18 | 1); // L, NAPOT, R
  l.hart.csrWrite(0x3a0, 0x1f);
  l.hart.csrWrite(0x3b0, 0);
  assert.equal(l.hart.csrRead(0x3a0), 0x99);
  l.hart.setReg(2, RAM_BASE + 0x5010);
  l.hart.run(1);
  assert.equal(l.hart.csrRead(MCAUSE), 7);
  assert.equal(l.hart.privilege, PRIV_M);
});
