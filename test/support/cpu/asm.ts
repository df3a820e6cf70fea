/**
 * A tiny RV32IMAC encoder for tests: the one place test code encodes instructions. Each function
 * returns one instruction word (compressed encoders return a 16-bit value); `li` returns a short
 * list. Registers are numbers 0..31 (`R` has the ABI names); offsets are in bytes, relative to
 * the instruction. `../board/asm.ts` adds labels on top; `elf.ts` wraps code in
 * an ELF file.
 */

/** ABI register numbers. */
export const R = {
  zero: 0, ra: 1, sp: 2, gp: 3, tp: 4, t0: 5, t1: 6, t2: 7, s0: 8, s1: 9,
  a0: 10, a1: 11, a2: 12, a3: 13, a4: 14, a5: 15, a6: 16, a7: 17,
  s2: 18, s3: 19, s4: 20, s5: 21, s6: 22, s7: 23, s8: 24, s9: 25, s10: 26, s11: 27,
  t3: 28, t4: 29, t5: 30, t6: 31,
} as const;

const r = (f7: number, rs2: number, rs1: number, f3: number, rd: number, opc: number): number =>
  ((f7 << 25) | (rs2 << 20) | (rs1 << 15) | (f3 << 12) | (rd << 7) | opc) >>> 0;
const i = (imm: number, rs1: number, f3: number, rd: number, opc: number): number =>
  (((imm & 0xfff) << 20) | (rs1 << 15) | (f3 << 12) | (rd << 7) | opc) >>> 0;
const s = (imm: number, rs2: number, rs1: number, f3: number, opc: number): number =>
  ((((imm >> 5) & 0x7f) << 25) | (rs2 << 20) | (rs1 << 15) | (f3 << 12) | ((imm & 31) << 7) | opc) >>> 0;
const b = (imm: number, rs2: number, rs1: number, f3: number): number =>
  ((((imm >> 12) & 1) << 31) | (((imm >> 5) & 0x3f) << 25) | (rs2 << 20) | (rs1 << 15) | (f3 << 12) |
    (((imm >> 1) & 0xf) << 8) | (((imm >> 11) & 1) << 7) | 0x63) >>> 0;

/** lui rd, imm20 (imm20 is the upper 20 bits). */
export const lui = (rd: number, imm20: number): number => (((imm20 & 0xfffff) << 12) | (rd << 7) | 0x37) >>> 0;
/** auipc rd, imm20. */
export const auipc = (rd: number, imm20: number): number => (((imm20 & 0xfffff) << 12) | (rd << 7) | 0x17) >>> 0;
/** jal rd, offset. */
export const jal = (rd: number, off: number): number =>
  ((((off >> 20) & 1) << 31) | (((off >> 1) & 0x3ff) << 21) | (((off >> 11) & 1) << 20) |
    (((off >> 12) & 0xff) << 12) | (rd << 7) | 0x6f) >>> 0;
/** jalr rd, imm(rs1). */
export const jalr = (rd: number, rs1: number, imm: number): number => i(imm, rs1, 0, rd, 0x67);
export const beq = (rs1: number, rs2: number, off: number): number => b(off, rs2, rs1, 0);
export const bne = (rs1: number, rs2: number, off: number): number => b(off, rs2, rs1, 1);
export const blt = (rs1: number, rs2: number, off: number): number => b(off, rs2, rs1, 4);
export const bge = (rs1: number, rs2: number, off: number): number => b(off, rs2, rs1, 5);
export const bltu = (rs1: number, rs2: number, off: number): number => b(off, rs2, rs1, 6);
export const bgeu = (rs1: number, rs2: number, off: number): number => b(off, rs2, rs1, 7);
export const lb = (rd: number, rs1: number, imm: number): number => i(imm, rs1, 0, rd, 3);
export const lh = (rd: number, rs1: number, imm: number): number => i(imm, rs1, 1, rd, 3);
export const lw = (rd: number, rs1: number, imm: number): number => i(imm, rs1, 2, rd, 3);
export const lbu = (rd: number, rs1: number, imm: number): number => i(imm, rs1, 4, rd, 3);
export const lhu = (rd: number, rs1: number, imm: number): number => i(imm, rs1, 5, rd, 3);
export const sb = (rs2: number, rs1: number, imm: number): number => s(imm, rs2, rs1, 0, 0x23);
export const sh = (rs2: number, rs1: number, imm: number): number => s(imm, rs2, rs1, 1, 0x23);
export const sw = (rs2: number, rs1: number, imm: number): number => s(imm, rs2, rs1, 2, 0x23);
export const addi = (rd: number, rs1: number, imm: number): number => i(imm, rs1, 0, rd, 0x13);
export const slti = (rd: number, rs1: number, imm: number): number => i(imm, rs1, 2, rd, 0x13);
export const sltiu = (rd: number, rs1: number, imm: number): number => i(imm, rs1, 3, rd, 0x13);
export const xori = (rd: number, rs1: number, imm: number): number => i(imm, rs1, 4, rd, 0x13);
export const ori = (rd: number, rs1: number, imm: number): number => i(imm, rs1, 6, rd, 0x13);
export const andi = (rd: number, rs1: number, imm: number): number => i(imm, rs1, 7, rd, 0x13);
export const slli = (rd: number, rs1: number, sh: number): number => i(sh, rs1, 1, rd, 0x13);
export const srli = (rd: number, rs1: number, sh: number): number => i(sh, rs1, 5, rd, 0x13);
export const srai = (rd: number, rs1: number, sh: number): number => i(sh | 0x400, rs1, 5, rd, 0x13);
export const add = (rd: number, rs1: number, rs2: number): number => r(0, rs2, rs1, 0, rd, 0x33);
export const sub = (rd: number, rs1: number, rs2: number): number => r(0x20, rs2, rs1, 0, rd, 0x33);
export const sll = (rd: number, rs1: number, rs2: number): number => r(0, rs2, rs1, 1, rd, 0x33);
export const slt = (rd: number, rs1: number, rs2: number): number => r(0, rs2, rs1, 2, rd, 0x33);
export const sltu = (rd: number, rs1: number, rs2: number): number => r(0, rs2, rs1, 3, rd, 0x33);
export const xor = (rd: number, rs1: number, rs2: number): number => r(0, rs2, rs1, 4, rd, 0x33);
export const srl = (rd: number, rs1: number, rs2: number): number => r(0, rs2, rs1, 5, rd, 0x33);
export const sra = (rd: number, rs1: number, rs2: number): number => r(0x20, rs2, rs1, 5, rd, 0x33);
export const or = (rd: number, rs1: number, rs2: number): number => r(0, rs2, rs1, 6, rd, 0x33);
export const and = (rd: number, rs1: number, rs2: number): number => r(0, rs2, rs1, 7, rd, 0x33);
export const mul = (rd: number, rs1: number, rs2: number): number => r(1, rs2, rs1, 0, rd, 0x33);
export const mulh = (rd: number, rs1: number, rs2: number): number => r(1, rs2, rs1, 1, rd, 0x33);
export const mulhsu = (rd: number, rs1: number, rs2: number): number => r(1, rs2, rs1, 2, rd, 0x33);
export const mulhu = (rd: number, rs1: number, rs2: number): number => r(1, rs2, rs1, 3, rd, 0x33);
export const div = (rd: number, rs1: number, rs2: number): number => r(1, rs2, rs1, 4, rd, 0x33);
export const divu = (rd: number, rs1: number, rs2: number): number => r(1, rs2, rs1, 5, rd, 0x33);
export const rem = (rd: number, rs1: number, rs2: number): number => r(1, rs2, rs1, 6, rd, 0x33);
export const remu = (rd: number, rs1: number, rs2: number): number => r(1, rs2, rs1, 7, rd, 0x33);
export const fence = (): number => 0x0ff0000f;
export const fenceI = (): number => 0x0000100f;
export const ecall = (): number => 0x00000073;
export const ebreak = (): number => 0x00100073;
export const mret = (): number => 0x30200073;
export const sret = (): number => 0x10200073;
export const wfi = (): number => 0x10500073;
export const sfenceVma = (rs1 = 0, rs2 = 0): number => r(0x09, rs2, rs1, 0, 0, 0x73);
export const csrrw = (rd: number, csr: number, rs1: number): number => i(csr, rs1, 1, rd, 0x73);
export const csrrs = (rd: number, csr: number, rs1: number): number => i(csr, rs1, 2, rd, 0x73);
export const csrrc = (rd: number, csr: number, rs1: number): number => i(csr, rs1, 3, rd, 0x73);
export const csrrwi = (rd: number, csr: number, zimm: number): number => i(csr, zimm, 5, rd, 0x73);
export const csrrsi = (rd: number, csr: number, zimm: number): number => i(csr, zimm, 6, rd, 0x73);
export const csrrci = (rd: number, csr: number, zimm: number): number => i(csr, zimm, 7, rd, 0x73);
const amo = (f5: number, rd: number, rs1: number, rs2: number): number => r(f5 << 2, rs2, rs1, 2, rd, 0x2f);
export const lrW = (rd: number, rs1: number): number => amo(0x02, rd, rs1, 0);
export const scW = (rd: number, rs1: number, rs2: number): number => amo(0x03, rd, rs1, rs2);
export const amoswapW = (rd: number, rs1: number, rs2: number): number => amo(0x01, rd, rs1, rs2);
export const amoaddW = (rd: number, rs1: number, rs2: number): number => amo(0x00, rd, rs1, rs2);
export const amoxorW = (rd: number, rs1: number, rs2: number): number => amo(0x04, rd, rs1, rs2);
export const amoandW = (rd: number, rs1: number, rs2: number): number => amo(0x0c, rd, rs1, rs2);
export const amoorW = (rd: number, rs1: number, rs2: number): number => amo(0x08, rd, rs1, rs2);
export const amominW = (rd: number, rs1: number, rs2: number): number => amo(0x10, rd, rs1, rs2);
export const amomaxW = (rd: number, rs1: number, rs2: number): number => amo(0x14, rd, rs1, rs2);
export const amominuW = (rd: number, rs1: number, rs2: number): number => amo(0x18, rd, rs1, rs2);
export const amomaxuW = (rd: number, rs1: number, rs2: number): number => amo(0x1c, rd, rs1, rs2);

/**
 * Splits a 32-bit constant for `lui rd, hi; addi rd, rd, lo`: `lo` is the sign-extended low 12
 * bits, `hi` the upper 20 bits adjusted for that sign.
 */
export function hiLo(value: number): { hi: number; lo: number } {
  const v = value | 0;
  const lo = (v << 20) >> 20;
  return { hi: ((v - lo) >>> 12) & 0xfffff, lo };
}

/** li rd, value: the shortest of `addi`, `lui` or `lui + addi`. */
export function li(rd: number, value: number): number[] {
  const { hi, lo } = hiLo(value);
  if (hi === 0) return [addi(rd, 0, lo)];
  return lo !== 0 ? [lui(rd, hi), addi(rd, rd, lo)] : [lui(rd, hi)];
}

/* Compressed (16-bit) encoders. rd'/rs' arguments are full register numbers 8..15. */
const p = (reg: number): number => reg - 8;
/** c.addi rd, imm6. */
export const cAddi = (rd: number, imm: number): number => (((imm >> 5) & 1) << 12) | (rd << 7) | ((imm & 31) << 2) | 1;
/** c.li rd, imm6. */
export const cLi = (rd: number, imm: number): number => 0x4000 | (((imm >> 5) & 1) << 12) | (rd << 7) | ((imm & 31) << 2) | 1;
/** c.lui rd, imm6 (upper bits 17:12). */
export const cLui = (rd: number, imm: number): number => 0x6000 | (((imm >> 5) & 1) << 12) | (rd << 7) | ((imm & 31) << 2) | 1;
/** c.mv rd, rs2. */
export const cMv = (rd: number, rs2: number): number => 0x8000 | (rd << 7) | (rs2 << 2) | 2;
/** c.add rd, rs2. */
export const cAdd = (rd: number, rs2: number): number => 0x9000 | (rd << 7) | (rs2 << 2) | 2;
/** c.jr rs1. */
export const cJr = (rs1: number): number => 0x8000 | (rs1 << 7) | 2;
/** c.jalr rs1. */
export const cJalr = (rs1: number): number => 0x9000 | (rs1 << 7) | 2;
/** c.ebreak. */
export const cEbreak = (): number => 0x9002;
/** c.lw rd', off(rs1'). */
export const cLw = (rd: number, rs1: number, off: number): number =>
  0x4000 | (((off >> 3) & 7) << 10) | (p(rs1) << 7) | (((off >> 2) & 1) << 6) | (((off >> 6) & 1) << 5) | (p(rd) << 2);
/** c.sw rs2', off(rs1'). */
export const cSw = (rs2: number, rs1: number, off: number): number =>
  0xc000 | (((off >> 3) & 7) << 10) | (p(rs1) << 7) | (((off >> 2) & 1) << 6) | (((off >> 6) & 1) << 5) | (p(rs2) << 2);
/** c.lwsp rd, off(sp). */
export const cLwsp = (rd: number, off: number): number =>
  0x4000 | (((off >> 5) & 1) << 12) | (rd << 7) | (((off >> 2) & 7) << 4) | (((off >> 6) & 3) << 2) | 2;
/** c.swsp rs2, off(sp). */
export const cSwsp = (rs2: number, off: number): number =>
  0xc000 | (((off >> 2) & 0xf) << 9) | (((off >> 6) & 3) << 7) | (rs2 << 2) | 2;
/** c.addi4spn rd', nzuimm. */
export const cAddi4spn = (rd: number, imm: number): number =>
  (((imm >> 4) & 3) << 11) | (((imm >> 6) & 0xf) << 7) | (((imm >> 2) & 1) << 6) | (((imm >> 3) & 1) << 5) | (p(rd) << 2);
/** c.addi16sp nzimm. */
export const cAddi16sp = (imm: number): number =>
  0x6000 | (((imm >> 9) & 1) << 12) | (2 << 7) | (((imm >> 4) & 1) << 6) | (((imm >> 6) & 1) << 5) |
  (((imm >> 7) & 3) << 3) | (((imm >> 5) & 1) << 2) | 1;
const cjImm = (off: number): number =>
  (((off >> 11) & 1) << 12) | (((off >> 4) & 1) << 11) | (((off >> 8) & 3) << 9) | (((off >> 10) & 1) << 8) |
  (((off >> 6) & 1) << 7) | (((off >> 7) & 1) << 6) | (((off >> 1) & 7) << 3) | (((off >> 5) & 1) << 2);
/** c.j offset. */
export const cJ = (off: number): number => 0xa000 | cjImm(off) | 1;
/** c.jal offset (RV32 only). */
export const cJal = (off: number): number => 0x2000 | cjImm(off) | 1;
const cbImm = (off: number): number =>
  (((off >> 8) & 1) << 12) | (((off >> 3) & 3) << 10) | (((off >> 6) & 3) << 5) | (((off >> 1) & 3) << 3) | (((off >> 5) & 1) << 2);
/** c.beqz rs1', offset. */
export const cBeqz = (rs1: number, off: number): number => 0xc000 | cbImm(off) | (p(rs1) << 7) | 1;
/** c.bnez rs1', offset. */
export const cBnez = (rs1: number, off: number): number => 0xe000 | cbImm(off) | (p(rs1) << 7) | 1;
/** c.srli / c.srai / c.andi rd', imm. */
export const cSrli = (rd: number, sh: number): number => 0x8000 | (p(rd) << 7) | ((sh & 31) << 2) | 1;
export const cSrai = (rd: number, sh: number): number => 0x8400 | (p(rd) << 7) | ((sh & 31) << 2) | 1;
export const cAndi = (rd: number, imm: number): number => 0x8800 | (((imm >> 5) & 1) << 12) | (p(rd) << 7) | ((imm & 31) << 2) | 1;
/** c.sub/c.xor/c.or/c.and rd', rs2'. */
export const cSub = (rd: number, rs2: number): number => 0x8c01 | (p(rd) << 7) | (p(rs2) << 2);
export const cXor = (rd: number, rs2: number): number => 0x8c21 | (p(rd) << 7) | (p(rs2) << 2);
export const cOr = (rd: number, rs2: number): number => 0x8c41 | (p(rd) << 7) | (p(rs2) << 2);
export const cAnd = (rd: number, rs2: number): number => 0x8c61 | (p(rd) << 7) | (p(rs2) << 2);
/** c.slli rd, shamt. */
export const cSlli = (rd: number, sh: number): number => (rd << 7) | ((sh & 31) << 2) | 2;

/** Assembles a mixed list of instructions into bytes (values < 0x10000 with low bits != 3 are 16-bit). */
export function assemble(insns: readonly number[]): Uint8Array {
  const out: number[] = [];
  for (const w of insns) {
    if ((w & 3) !== 3) out.push(w & 0xff, (w >>> 8) & 0xff);
    else out.push(w & 0xff, (w >>> 8) & 0xff, (w >>> 16) & 0xff, (w >>> 24) & 0xff);
  }
  return Uint8Array.from(out);
}
