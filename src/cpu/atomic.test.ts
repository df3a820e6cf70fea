import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as A from '../../test/support/cpu/asm.js';
import { makeMachine, RAM_BASE } from '../../test/support/cpu/machine.js';
import { disassemble } from './disasm.js';

const DATA = RAM_BASE + 0x4000;

test('LR/SC success, failure after an intervening store, failure without reservation', () => {
  const m = makeMachine([
    A.lrW(1, 2), A.addi(1, 1, 1), A.scW(3, 2, 1), // success
    A.scW(4, 2, 1), // no reservation any more
    A.lrW(5, 2), A.sw(0, 2, 0), A.scW(6, 2, 1), // store changed the value: fails
    A.lrW(7, 2), A.scW(8, 10, 1), // different address: fails
  ]);
  m.poke(DATA, 41);
  m.hart.setReg(2, DATA);
  m.hart.setReg(10, DATA + 4);
  assert.equal(m.hart.run(9), 9);
  assert.equal(m.hart.getReg(3), 0);
  assert.equal(m.hart.getReg(4), 1);
  assert.equal(m.hart.getReg(5), 42);
  assert.equal(m.hart.getReg(6), 1);
  assert.equal(m.hart.getReg(8), 1);
  assert.equal(m.peek(DATA), 0);
  assert.equal(m.peek(DATA + 4), 0);
});

test('AMOs return the old value and store the result', () => {
  const ops: [(rd: number, rs1: number, rs2: number) => number, number, number, number][] = [
    [A.amoswapW, 5, -3, -3], [A.amoaddW, 5, -3, 2], [A.amoxorW, 6, 3, 5], [A.amoandW, 6, 3, 2],
    [A.amoorW, 6, 3, 7], [A.amominW, 5, -3, -3], [A.amomaxW, 5, -3, 5], [A.amominuW, 5, -3, 5],
    [A.amomaxuW, 5, -3, -3],
  ];
  for (const [enc, mem, src, result] of ops) {
    const m = makeMachine([enc(1, 2, 3)]);
    m.poke(DATA, mem);
    m.hart.setReg(2, DATA);
    m.hart.setReg(3, src);
    m.hart.run(1);
    assert.equal(m.hart.getReg(1), mem);
    assert.equal(m.peek(DATA) | 0, result, disassemble(enc(1, 2, 3)));
  }
});

test('self-modifying code invalidates the decode cache (same page and with fence.i)', () => {
  // Loop: x1 += 1 at slot P, then store a new instruction (addi x1,x1,100) over it and rerun.
  const P = RAM_BASE + 0x10;
  const m = makeMachine([A.addi(0, 0, 0), A.sw(5, 6, 0), A.fenceI(), A.jal(0, 4), A.addi(1, 1, 1), A.jal(0, -16)]);
  m.hart.setReg(5, A.addi(1, 1, 100) | 0);
  m.hart.setReg(6, P);
  assert.equal(m.hart.run(1), 1);
  // Without executing the store, run the loop body once to fill the cache.
  m.hart.setPc(P);
  m.hart.run(2); // addi x1 += 1, jal back to sw
  assert.equal(m.hart.getReg(1), 1);
  m.hart.run(5); // sw, fence.i, jal, addi (now +100), jal
  assert.equal(m.hart.getReg(1), 101);
  // Store into the page being executed, no fence.i: the next fetch sees the new code.
  const s = makeMachine([A.sw(5, 6, 0), A.addi(1, 0, 1)]);
  s.hart.setReg(5, A.addi(1, 0, 2) | 0);
  s.hart.setReg(6, RAM_BASE + 4);
  s.hart.run(2);
  assert.equal(s.hart.getReg(1), 2);
  // DMA writes (ram.writeBytes) are seen too.
  const d = makeMachine([A.addi(1, 0, 1), A.jal(0, -4)]);
  d.hart.run(2);
  d.load(RAM_BASE, [A.addi(1, 0, 3)]);
  d.hart.run(1);
  assert.equal(d.hart.getReg(1), 3);
});

test('32-bit instruction straddling a page boundary', () => {
  const m = makeMachine();
  m.load(RAM_BASE + 0xffe, [A.addi(1, 0, 11), A.addi(2, 0, 12)]);
  m.hart.setPc(RAM_BASE + 0xffe);
  assert.equal(m.hart.run(2), 2);
  assert.equal(m.hart.getReg(1), 11);
  assert.equal(m.hart.getReg(2), 12);
});

test('disassembler and trace hooks', () => {
  assert.equal(disassemble(A.addi(10, 10, 1)), 'addi a0,a0,1');
  assert.equal(disassemble(A.lw(15, 2, 8)), 'lw a5,8(sp)');
  assert.equal(disassemble(A.sw(15, 2, -4)), 'sw a5,-4(sp)');
  assert.equal(disassemble(A.csrrw(0, 0x305, 5)), 'csrrw zero,mtvec,t0');
  assert.equal(disassemble(A.csrrsi(1, 0x3a0, 3)), 'csrrsi ra,pmpcfg0,3');
  assert.equal(disassemble(A.beq(1, 2, -8), 0x100), 'beq ra,sp,0xf8');
  assert.equal(disassemble(A.jal(1, 16), 0x80000000), 'jal ra,0x80000010');
  assert.equal(disassemble(A.lui(5, 0x12345)), 'lui t0,0x12345');
  assert.equal(disassemble(A.cAddi(2, -16)), 'addi sp,sp,-16 # c');
  assert.equal(disassemble(A.amoswapW(1, 2, 3)), 'amoswap.w ra,gp,(sp)');
  assert.equal(disassemble(A.lrW(1, 2)), 'lr.w ra,(sp)');
  assert.equal(disassemble(A.mret()), 'mret');
  assert.equal(disassemble(A.sfenceVma(1, 2)), 'sfence.vma ra,sp');
  assert.equal(disassemble(0xffffffff), '.insn 0xffffffff # illegal');
  const lines: string[] = [];
  const traps: number[] = [];
  const m = makeMachine([A.addi(1, 0, 1), A.cLi(8, 2), A.ecall()], {
    trace: {
      instruction: (_h, pc, _insn, text) => lines.push(`${(pc - RAM_BASE).toString(16)} ${text}`),
      trap: (_h, cause, epc, tval, from, to) => traps.push(cause, epc, tval, from, to),
    },
  });
  m.hart.csrWrite(0x305, RAM_BASE + 0x800);
  m.hart.run(3);
  assert.deepEqual(lines, ['0 addi ra,zero,1', '4 addi s0,zero,2 # c', '6 ecall']);
  assert.deepEqual(traps, [11, RAM_BASE + 6, 0, 3, 3]);
});
