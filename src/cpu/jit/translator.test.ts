/**
 * The translator against the interpreter (the reference), on random programs: the same
 * program runs on two harts, one per engine, in random slices (1 step up to 1000), with
 * machine-timer-style interrupts raised and lowered between slices; after every slice the
 * step count, pc, registers, CSRs, RAM and MMIO accesses must be equal. The programs mix
 * 16- and 32-bit instructions across a page boundary, ALU/M ops, loads and stores to RAM and
 * MMIO (aligned or not), stores into the code itself (self-modifying code), branches and jumps,
 * traps (illegal, ecall, ebreak, faults) in the middle of blocks, CSR reads of mcycle/minstret
 * (exact counting), fence.i and wfi.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as A from '../../../test/support/cpu/asm.js';
import { makeMachine, MMIO_BASE, RAM_BASE, type TestMachine } from '../../../test/support/cpu/machine.js';
import { TranslationCache } from './cache.js';

const CODE = RAM_BASE + 0x1000 - 0x80; // the program crosses a page end
const DATA = RAM_BASE + 0x8000;
const HANDLER = RAM_BASE + 0x3000;
const MIP_MSIP = 1 << 3;

/** A small deterministic PRNG (xorshift32). */
function rng(seed: number): () => number {
  let s = seed | 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return s >>> 0;
  };
}

/** Registers random code may write (x3, x8, x9 hold MMIO, data and code bases). */
const FREE = [1, 5, 6, 7, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 28, 29, 30, 31];
const ALU = [A.add, A.sub, A.sll, A.slt, A.sltu, A.xor, A.srl, A.sra, A.or, A.and, A.mul, A.mulh, A.mulhsu, A.mulhu, A.div, A.divu, A.rem, A.remu];
const ALUI = [A.addi, A.slti, A.sltiu, A.xori, A.ori, A.andi];
const LOADS = [A.lb, A.lh, A.lw, A.lbu, A.lhu];
const STORES = [A.sb, A.sh, A.sw];
const BRANCHES = [A.beq, A.bne, A.blt, A.bge, A.bltu, A.bgeu];

/** One random program (instruction words, 16-bit ones < 0x10000 with low bits != 3). */
function program(r: () => number, length: number): number[] {
  const pick = <T>(xs: readonly T[]): T => xs[r() % xs.length]!;
  const reg = (): number => pick(FREE);
  const any = (): number => r() % 32;
  // Kinds first (sizes known), then encode with in-program branch targets.
  const kinds: number[] = [];
  for (let i = 0; i < length; i++) kinds.push(r() % 100);
  const sizes = kinds.map((k) => (k < 15 ? 2 : 4));
  const offs: number[] = [];
  let o = 0;
  for (const s of sizes) { offs.push(o); o += s; }
  const target = (i: number): number => offs[Math.max(0, Math.min(length - 1, i + (r() % 24) - 12))]! - offs[i]!;
  const out: number[] = [];
  for (let i = 0; i < length; i++) {
    const k = kinds[i]!;
    if (k < 15) {
      const c = [A.cAddi(reg(), (r() % 63) - 31 || 1), A.cLi(reg(), (r() % 63) - 31), A.cMv(reg(), 1 + (r() % 31)), A.cAdd(reg(), 1 + (r() % 31)),
        A.cSlli(reg(), 1 + (r() % 31)), A.cSub(10 + (r() % 6), 8 + (r() % 8)), A.cLw(10 + (r() % 6), 8, (r() % 16) * 4), A.cSw(10 + (r() % 6), 8, (r() % 16) * 4)];
      out.push(pick(c) & 0xffff);
    } else if (k < 40) out.push(pick(ALU)(reg(), any(), any()));
    else if (k < 52) out.push(pick(ALUI)(reg(), any(), (r() % 4096) - 2048));
    else if (k < 56) out.push((k & 1 ? A.slli : k & 2 ? A.srli : A.srai)(reg(), any(), r() % 32));
    else if (k < 58) out.push(k & 1 ? A.lui(reg(), r() & 0xfffff) : A.auipc(reg(), r() & 0xfffff));
    else if (k < 66) out.push(pick(LOADS)(reg(), 8, (r() % 64) - 8)); // data, sometimes misaligned
    else if (k < 72) out.push(pick(STORES)(any(), 8, (r() % 64) - 8));
    else if (k < 74) out.push(pick(LOADS)(reg(), 3, r() % 16)); // MMIO
    else if (k < 75) out.push(pick(STORES)(any(), 3, r() % 16));
    else if (k < 77) out.push(A.sw(any(), 9, Math.min(2044, ((offs[i]! + sizes[i]! + 3) & ~3) + (r() % 3) * 4))); // self-modifying code, just ahead
    else if (k < 78) out.push(pick(LOADS)(reg(), any(), r() % 16)); // likely an access fault
    else if (k < 88) out.push(pick(BRANCHES)(any(), any(), target(i)));
    else if (k < 90) out.push(A.jal(k & 1 ? 0 : reg(), target(i)));
    else if (k < 91) out.push(A.jalr(reg(), 9, offs[r() % length]!)); // x9 = CODE
    else if (k < 93) out.push(A.csrrs(reg(), pick([0xb00, 0xb02, 0x340, 0x300, 0x344]), 0));
    else if (k < 94) out.push(A.csrrw(0, 0x340, any()));
    else if (k < 95) out.push(pick([A.ecall(), A.ebreak(), 0xffffffff, A.fenceI(), A.fence()]));
    else if (k < 96) out.push(r() % 8 === 0 ? A.wfi() : A.fence());
    else out.push(A.addi(reg(), reg(), 1));
  }
  return out;
}

function setUp(insns: readonly number[], engine: 'interpreter' | 'translator'): TestMachine {
  const m = makeMachine([], { engine });
  m.load(CODE, insns);
  // After the program: back to its start. The trap handler re-enables interrupts and restarts.
  const end = CODE + A.assemble(insns).length;
  m.load(end, [A.jal(0, CODE - end)]);
  m.load(HANDLER, [A.csrrsi(0, 0x300, 8), A.jal(0, CODE - (HANDLER + 4))]);
  const h = m.hart;
  h.setPc(CODE);
  h.setReg(3, MMIO_BASE);
  h.setReg(8, DATA);
  h.setReg(9, CODE);
  h.csrWrite(0x305, HANDLER); // mtvec
  h.csrWrite(0x304, MIP_MSIP); // mie.MSIE
  h.csrWrite(0x300, 8); // mstatus.MIE
  return m;
}

function state(m: TestMachine): string {
  const h = m.hart;
  const regs: number[] = [h.getPc()];
  for (let i = 1; i < 32; i++) regs.push(h.getReg(i));
  for (const c of [0x300, 0x341, 0x342, 0x343, 0x344, 0x340, 0xb00, 0xb02]) regs.push(h.csrRead(c));
  return `${regs.map((v) => (v >>> 0).toString(16)).join(' ')} wfi=${String(h.waitingForInterrupt)}`;
}

function ramEqual(a: TestMachine, b: TestMachine): boolean {
  const x = a.ram.i32;
  const y = b.ram.i32;
  for (let i = 0; i < 0x10000 / 4; i++) if (x[i] !== y[i]) return false;
  return true;
}

test('translator and interpreter agree on random programs, slice by slice, with interrupts at any step', () => {
  const savedHot = TranslationCache.hot;
  TranslationCache.hot = 1; // translate at once, so every block runs translated
  try {
    const seed0 = 0x5eed;
    let translated = 0;
    for (let p = 0; p < 60; p++) {
      const seed = seed0 + p;
      const r = rng(seed);
      const insns = program(r, 40 + (r() % 120));
      const ref = setUp(insns, 'interpreter');
      const jit = setUp(insns, 'translator');
      let total = 0;
      for (let slice = 0; slice < 300 && total < 40_000; slice++) {
        const n = [1, 1, 2, 3, 7, 16, 50, 200, 1000][r() % 9]!;
        if (r() % 5 === 0) {
          const level = r() % 2 === 0;
          ref.hart.setInterruptPending(MIP_MSIP, level);
          jit.hart.setInterruptPending(MIP_MSIP, level);
        }
        const a = ref.hart.run(n);
        const b = jit.hart.run(n);
        total += a;
        const where = `program seed ${seed}, slice ${slice} (run(${n})), after ${total} steps`;
        assert.equal(b, a, `steps differ: ${where}`);
        assert.equal(state(jit), state(ref), `state differs: ${where}`);
        assert.ok(ramEqual(jit, ref), `RAM differs: ${where}`);
        assert.deepEqual(jit.dev.log, ref.dev.log, `MMIO accesses differ: ${where}`);
      }
      translated += jit.hart.translationStats.pages;
    }
    assert.ok(translated > 60, `the translator translated only ${translated} pages: the test would not test it`);
  } finally {
    TranslationCache.hot = savedHot;
  }
});

test('a store into the running block is seen by the next instruction (self-modifying code)', () => {
  const savedHot = TranslationCache.hot;
  TranslationCache.hot = 1;
  try {
    // Each turn flips the instruction at +12 between `addi a0, a0, 1` and `addi a0, a0, 100`.
    const one = A.addi(10, 10, 1);
    const hundred = A.addi(10, 10, 100);
    const results: number[] = [];
    for (const engine of ['interpreter', 'translator'] as const) {
      const m = makeMachine([A.xor(5, 5, 6), A.sw(5, 9, 12), A.addi(11, 11, 1), one, A.jal(0, -16)], { engine });
      m.hart.setReg(9, RAM_BASE);
      m.hart.setReg(5, one);
      m.hart.setReg(6, one ^ hundred);
      for (let i = 0; i < 20; i++) m.hart.run(5);
      assert.equal(m.hart.getReg(11), 20, engine);
      results.push(m.hart.getReg(10));
      if (engine === 'translator') assert.ok(m.hart.translationStats.pages > 0, 'nothing was translated');
    }
    assert.equal(results[0], 10 * 101);
    assert.equal(results[1], results[0]);
  } finally {
    TranslationCache.hot = savedHot;
  }
});
