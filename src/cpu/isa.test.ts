import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as A from '../../test/support/cpu/asm.js';
import { makeMachine, RAM_BASE, MMIO_BASE, type TestMachine } from '../../test/support/cpu/machine.js';

/** Runs the instructions with the given initial registers; returns the machine. */
function exec(insns: number[], regs: Record<number, number> = {}, steps = insns.length): TestMachine {
  const m = makeMachine(insns);
  for (const [r, v] of Object.entries(regs)) m.hart.setReg(Number(r), v);
  assert.equal(m.hart.run(steps), steps);
  return m;
}
const reg = (m: TestMachine, r: number): number => m.hart.getReg(r) >>> 0;

test('RV32I arithmetic and logic', () => {
  const m = exec([
    A.addi(1, 0, -1), A.addi(2, 0, 0x7ff), A.add(3, 1, 2), A.sub(4, 0, 2), A.lui(5, 0x12345),
    A.auipc(6, 1), A.slti(7, 1, 0), A.sltiu(8, 1, 0), A.sltiu(9, 0, -1), A.xori(10, 2, -1),
    A.ori(11, 0, 0x0f0), A.andi(12, 1, 0x0ff), A.slt(13, 1, 2), A.sltu(14, 1, 2), A.xor(15, 1, 2),
    A.or(16, 2, 11), A.and(17, 1, 11), A.addi(0, 0, 5),
  ]);
  assert.equal(reg(m, 1), 0xffffffff);
  assert.equal(reg(m, 3), 0x7fe);
  assert.equal(m.hart.getReg(4), -0x7ff);
  assert.equal(reg(m, 5), 0x12345000);
  assert.equal(reg(m, 6), RAM_BASE + 20 + 0x1000);
  assert.equal(reg(m, 7), 1);
  assert.equal(reg(m, 8), 0);
  assert.equal(reg(m, 9), 1);
  assert.equal(reg(m, 10), 0xfffff800);
  assert.equal(reg(m, 11), 0xf0);
  assert.equal(reg(m, 12), 0xff);
  assert.equal(reg(m, 13), 1);
  assert.equal(reg(m, 14), 0);
  assert.equal(reg(m, 15), 0xfffff800);
  assert.equal(reg(m, 16), 0x7ff);
  assert.equal(reg(m, 17), 0xf0);
  assert.equal(m.hart.getReg(0), 0);
});

test('shifts', () => {
  const m = exec([
    A.slli(3, 1, 31), A.srli(4, 1, 4), A.srai(5, 1, 4), A.sll(6, 1, 2), A.srl(7, 1, 2), A.sra(8, 1, 2),
  ], { 1: 0x80000011 | 0, 2: 33 });
  assert.equal(reg(m, 3), 0x80000000);
  assert.equal(reg(m, 4), 0x08000001);
  assert.equal(reg(m, 5), 0xf8000001);
  assert.equal(reg(m, 6), 0x00000022);
  assert.equal(reg(m, 7), 0x40000008);
  assert.equal(reg(m, 8), 0xc0000008);
});

test('M extension incl. division edge cases', () => {
  const MIN = -2147483648;
  const m = exec([
    A.mul(3, 1, 2), A.mulh(4, 1, 2), A.mulhsu(5, 1, 2), A.mulhu(6, 1, 2),
    A.div(7, 1, 0), A.divu(8, 1, 0), A.rem(9, 1, 0), A.remu(10, 1, 0),
    A.div(11, 20, 21), A.rem(12, 20, 21), A.div(13, 22, 23), A.rem(14, 22, 23), A.divu(15, 22, 23), A.remu(16, 22, 23),
  ], { 1: -7, 2: 3, 20: MIN, 21: -1, 22: -7, 23: 2 });
  assert.equal(m.hart.getReg(3), -21);
  assert.equal(m.hart.getReg(4), -1);
  assert.equal(m.hart.getReg(5), -1);
  assert.equal(reg(m, 6), 2);
  assert.equal(m.hart.getReg(7), -1);
  assert.equal(reg(m, 8), 0xffffffff);
  assert.equal(m.hart.getReg(9), -7);
  assert.equal(m.hart.getReg(10), -7);
  assert.equal(m.hart.getReg(11), MIN);
  assert.equal(m.hart.getReg(12), 0);
  assert.equal(m.hart.getReg(13), -3);
  assert.equal(m.hart.getReg(14), -1);
  assert.equal(reg(m, 15), 0x7ffffffc);
  assert.equal(reg(m, 16), 1);
  const big = exec([A.mulh(3, 1, 1), A.mulhu(4, 1, 1), A.mulhsu(5, 2, 1), A.mulh(6, 2, 2)],
    { 1: 0xffffffff | 0, 2: MIN });
  assert.equal(m.hart.getReg(0), 0);
  assert.equal(big.hart.getReg(3), 0);
  assert.equal(reg(big, 4), 0xfffffffe);
  assert.equal(reg(big, 5), 0x80000000);
  assert.equal(reg(big, 6), 0x40000000);
});

test('loads and stores with sign extension, misaligned access, MMIO', () => {
  const m = exec([
    A.sw(2, 1, 0), A.lb(3, 1, 0), A.lbu(4, 1, 0), A.lh(5, 1, 2), A.lhu(6, 1, 2), A.lw(7, 1, 0),
    A.sb(0, 1, 1), A.sh(2, 1, 4), A.lw(8, 1, 0), A.lw(9, 1, 1), A.sw(2, 10, 4), A.lw(11, 10, 4), A.lbu(12, 10, 5),
  ], { 1: RAM_BASE + 0x1000, 2: 0x8001ff80 | 0, 10: MMIO_BASE });
  assert.equal(reg(m, 3), 0xffffff80);
  assert.equal(reg(m, 4), 0x80);
  assert.equal(reg(m, 5), 0xffff8001);
  assert.equal(reg(m, 6), 0x8001);
  assert.equal(reg(m, 7), 0x8001ff80);
  assert.equal(reg(m, 8), 0x80010080);
  assert.equal(reg(m, 9), 0x80800100, 'misaligned load is performed, not trapped');
  assert.equal(reg(m, 11), 0x8001ff80);
  assert.equal(reg(m, 12), 0xff);
  assert.deepEqual(m.dev.log, ['w4@4=2147614592', 'r4@4', 'r1@5']);
});

test('branches and jumps', () => {
  // Each taken branch skips the following addi (which would set x31 = 1).
  const prog = [
    A.beq(1, 1, 8), A.addi(31, 0, 1), A.bne(1, 2, 8), A.addi(31, 0, 1), A.blt(2, 1, 8), A.addi(31, 0, 1),
    A.bge(1, 2, 8), A.addi(31, 0, 1), A.bltu(1, 2, 8), A.addi(31, 0, 1), A.bgeu(2, 1, 8), A.addi(31, 0, 1),
    A.beq(1, 2, 8), A.addi(30, 0, 7), A.jal(5, 8), A.addi(31, 0, 1), A.jalr(6, 5, 16), A.addi(31, 0, 1),
    A.addi(31, 0, 1), A.addi(29, 0, 9),
  ];
  const m = exec(prog, { 1: 5, 2: -3 }, 11);
  assert.equal(reg(m, 31), 0);
  assert.equal(reg(m, 30), 7);
  assert.equal(reg(m, 5), RAM_BASE + 60);
  assert.equal(reg(m, 6), RAM_BASE + 68);
  assert.equal(reg(m, 29), 9);
  assert.equal(m.hart.getPc() >>> 0, RAM_BASE + 80);
});

test('compressed instructions', () => {
  const m = exec([
    A.cLi(8, -5), A.cAddi(8, 3), A.cLui(9, 1), A.cMv(10, 8), A.cAdd(10, 9), A.cAddi16sp(-64), A.cAddi4spn(11, 16),
    A.cSw(8, 11, 4), A.cLw(12, 11, 4), A.cSwsp(9, 8), A.cLwsp(13, 8), A.cSrli(9, 4), A.cSrai(12, 1), A.cAndi(10, 0x1f),
    A.cSub(13, 8), A.cXor(14, 8), A.cOr(15, 8), A.cAnd(14, 8), A.cSlli(15, 2),
  ], { 2: RAM_BASE + 0x2000 });
  assert.equal(m.hart.getReg(8), -2);
  assert.equal(reg(m, 9), 0x100);
  assert.equal(reg(m, 10), (0x1000 - 2) & 0x1f);
  assert.equal(reg(m, 2), RAM_BASE + 0x2000 - 64);
  assert.equal(reg(m, 11), RAM_BASE + 0x2000 - 64 + 16);
  assert.equal(m.hart.getReg(12), -1);
  assert.equal(m.peek(RAM_BASE + 0x2000 - 64 + 8), 0x1000);
  assert.equal(reg(m, 13), 0x1002);
  assert.equal(m.hart.getReg(14), -2 & -2);
  assert.equal(m.hart.getReg(15), -8);
});

test('compressed control flow', () => {
  const m = exec([
    A.cJ(4), A.cLi(8, 1), A.cBeqz(9, 4), A.cLi(8, 2), A.cBnez(10, 4), A.cLi(8, 3), A.cJal(4), A.cLi(8, 4),
    A.cJr(1),
  ], { 9: 0, 10: 1 }, 5);
  assert.equal(reg(m, 8), 0);
  assert.equal(reg(m, 1), RAM_BASE + 14);
  assert.equal(m.hart.getPc() >>> 0, RAM_BASE + 14);
  const j = exec([A.cJalr(5), A.cLi(8, 1), A.cLi(8, 2)], { 5: RAM_BASE + 4 }, 2);
  assert.equal(reg(j, 1), RAM_BASE + 2);
  assert.equal(reg(j, 8), 2);
});

test('illegal compressed and 32-bit encodings trap with the instruction bits in mtval', () => {
  for (const bad of [0x0000, 0x2000 /* c.fld */, 0x6002 /* c.flwsp */, 0x9c01 | 0 /* c.subw */, 0xffffffff, 0x02001013 /* slli bit25 */]) {
    const m = makeMachine([bad]);
    m.hart.csrWrite(0x305, RAM_BASE + 0x100);
    assert.equal(m.hart.run(1), 1);
    assert.equal(m.hart.csrRead(0x342), 2, `cause for ${bad.toString(16)}`);
    assert.equal(m.hart.csrRead(0x343) >>> 0, bad >>> 0);
    assert.equal(m.hart.getPc() >>> 0, RAM_BASE + 0x100);
  }
});
