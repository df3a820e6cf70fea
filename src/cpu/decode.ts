/**
 * Instruction decoding into a small "decoded form": an op-kind id plus rd/rs1/rs2/imm and the
 * instruction length, stored in typed arrays per 4 KiB physical page, one slot per halfword.
 *
 * This decoded form is shared by the interpreter (hart.ts: one switch case per op kind) and the
 * block translator (jit/codegen.ts: one code fragment per op kind).
 */

/* Op-kind ids. 0 means "slot not decoded yet". */
export const OP_NONE = 0;
export const OP_ILLEGAL = 1;
/** A 32-bit instruction straddling a page end: must go through the slow fetch path. */
export const OP_CROSS = 2;
export const OP_LUI = 3;
export const OP_AUIPC = 4;
export const OP_JAL = 5;
export const OP_JALR = 6;
export const OP_BEQ = 7;
export const OP_BNE = 8;
export const OP_BLT = 9;
export const OP_BGE = 10;
export const OP_BLTU = 11;
export const OP_BGEU = 12;
export const OP_LB = 13;
export const OP_LH = 14;
export const OP_LW = 15;
export const OP_LBU = 16;
export const OP_LHU = 17;
export const OP_SB = 18;
export const OP_SH = 19;
export const OP_SW = 20;
export const OP_ADDI = 21;
export const OP_SLTI = 22;
export const OP_SLTIU = 23;
export const OP_XORI = 24;
export const OP_ORI = 25;
export const OP_ANDI = 26;
export const OP_SLLI = 27;
export const OP_SRLI = 28;
export const OP_SRAI = 29;
export const OP_ADD = 30;
export const OP_SUB = 31;
export const OP_SLL = 32;
export const OP_SLT = 33;
export const OP_SLTU = 34;
export const OP_XOR = 35;
export const OP_SRL = 36;
export const OP_SRA = 37;
export const OP_OR = 38;
export const OP_AND = 39;
export const OP_FENCE = 40;
export const OP_FENCE_I = 41;
export const OP_ECALL = 42;
export const OP_EBREAK = 43;
export const OP_MRET = 44;
export const OP_SRET = 45;
export const OP_WFI = 46;
export const OP_SFENCE_VMA = 47;
export const OP_CSRRW = 48;
export const OP_CSRRS = 49;
export const OP_CSRRC = 50;
export const OP_CSRRWI = 51;
export const OP_CSRRSI = 52;
export const OP_CSRRCI = 53;
export const OP_MUL = 54;
export const OP_MULH = 55;
export const OP_MULHSU = 56;
export const OP_MULHU = 57;
export const OP_DIV = 58;
export const OP_DIVU = 59;
export const OP_REM = 60;
export const OP_REMU = 61;
export const OP_LR = 62;
export const OP_SC = 63;
export const OP_AMOSWAP = 64;
export const OP_AMOADD = 65;
export const OP_AMOXOR = 66;
export const OP_AMOAND = 67;
export const OP_AMOOR = 68;
export const OP_AMOMIN = 69;
export const OP_AMOMAX = 70;
export const OP_AMOMINU = 71;
export const OP_AMOMAXU = 72;
export const OP_COUNT = 73;

/** The op-kind ids as a const enum (inlined as literals, so the dispatch switch is a jump table). */
export const enum Op {
  NONE = 0,
  ILLEGAL = 1,
  CROSS = 2,
  LUI = 3,
  AUIPC = 4,
  JAL = 5,
  JALR = 6,
  BEQ = 7,
  BNE = 8,
  BLT = 9,
  BGE = 10,
  BLTU = 11,
  BGEU = 12,
  LB = 13,
  LH = 14,
  LW = 15,
  LBU = 16,
  LHU = 17,
  SB = 18,
  SH = 19,
  SW = 20,
  ADDI = 21,
  SLTI = 22,
  SLTIU = 23,
  XORI = 24,
  ORI = 25,
  ANDI = 26,
  SLLI = 27,
  SRLI = 28,
  SRAI = 29,
  ADD = 30,
  SUB = 31,
  SLL = 32,
  SLT = 33,
  SLTU = 34,
  XOR = 35,
  SRL = 36,
  SRA = 37,
  OR = 38,
  AND = 39,
  FENCE = 40,
  FENCE_I = 41,
  ECALL = 42,
  EBREAK = 43,
  MRET = 44,
  SRET = 45,
  WFI = 46,
  SFENCE_VMA = 47,
  CSRRW = 48,
  CSRRS = 49,
  CSRRC = 50,
  CSRRWI = 51,
  CSRRSI = 52,
  CSRRCI = 53,
  MUL = 54,
  MULH = 55,
  MULHSU = 56,
  MULHU = 57,
  DIV = 58,
  DIVU = 59,
  REM = 60,
  REMU = 61,
  LR = 62,
  SC = 63,
  AMOSWAP = 64,
  AMOADD = 65,
  AMOXOR = 66,
  AMOAND = 67,
  AMOOR = 68,
  AMOMIN = 69,
  AMOMAX = 70,
  AMOMINU = 71,
  AMOMAXU = 72,
  COUNT = 73,
}

/** Mnemonics by op id (base, uncompressed form). */
export const OP_NAMES: readonly string[] = [
  '?', 'illegal', 'cross', 'lui', 'auipc', 'jal', 'jalr', 'beq', 'bne', 'blt', 'bge', 'bltu', 'bgeu',
  'lb', 'lh', 'lw', 'lbu', 'lhu', 'sb', 'sh', 'sw', 'addi', 'slti', 'sltiu', 'xori', 'ori', 'andi',
  'slli', 'srli', 'srai', 'add', 'sub', 'sll', 'slt', 'sltu', 'xor', 'srl', 'sra', 'or', 'and',
  'fence', 'fence.i', 'ecall', 'ebreak', 'mret', 'sret', 'wfi', 'sfence.vma',
  'csrrw', 'csrrs', 'csrrc', 'csrrwi', 'csrrsi', 'csrrci',
  'mul', 'mulh', 'mulhsu', 'mulhu', 'div', 'divu', 'rem', 'remu',
  'lr.w', 'sc.w', 'amoswap.w', 'amoadd.w', 'amoxor.w', 'amoand.w', 'amoor.w',
  'amomin.w', 'amomax.w', 'amominu.w', 'amomaxu.w',
];

/** Halfword slots per 4 KiB page. */
export const SLOTS_PER_PAGE = 2048;

/** Decoded instructions of one physical page (or a scratch buffer for uncached fetches). */
export class DecodedPage {
  readonly op = new Uint8Array(SLOTS_PER_PAGE);
  /** Packed operands: rd | rs1 << 8 | rs2 << 16 | length-in-bytes << 24. */
  readonly info = new Int32Array(SLOTS_PER_PAGE);
  /** Immediate; for CSR ops the CSR number; for OP_ILLEGAL the raw instruction bits. */
  readonly imm = new Int32Array(SLOTS_PER_PAGE);
  /** RAM page generation this decode is valid for. */
  gen = 0;
}

/** Register index that decoded `rd = x0` is stored as: a write sink just past x31. */
export const RD_SINK = 32;

function set(p: DecodedPage, s: number, op: number, rd: number, rs1: number, rs2: number, imm: number, len: number): void {
  p.op[s] = op;
  p.info[s] = (rd === 0 ? RD_SINK : rd) | (rs1 << 8) | (rs2 << 16) | (len << 24);
  p.imm[s] = imm;
}

function illegal(p: DecodedPage, s: number, insn: number, len: number): void {
  set(p, s, OP_ILLEGAL, 0, 0, 0, insn, len);
}

const BRANCH_OPS = [OP_BEQ, OP_BNE, 0, 0, OP_BLT, OP_BGE, OP_BLTU, OP_BGEU];
const LOAD_OPS = [OP_LB, OP_LH, OP_LW, 0, OP_LBU, OP_LHU, 0, 0];
const STORE_OPS = [OP_SB, OP_SH, OP_SW, 0, 0, 0, 0, 0];
const OPIMM_OPS = [OP_ADDI, OP_SLLI, OP_SLTI, OP_SLTIU, OP_XORI, OP_SRLI, OP_ORI, OP_ANDI];
const OP_OPS = [OP_ADD, OP_SLL, OP_SLT, OP_SLTU, OP_XOR, OP_SRL, OP_OR, OP_AND];
const MULDIV_OPS = [OP_MUL, OP_MULH, OP_MULHSU, OP_MULHU, OP_DIV, OP_DIVU, OP_REM, OP_REMU];
const CSR_OPS = [0, OP_CSRRW, OP_CSRRS, OP_CSRRC, 0, OP_CSRRWI, OP_CSRRSI, OP_CSRRCI];

/** Decodes a 32-bit instruction into slot `s` of `p`. */
export function decode32(insn: number, p: DecodedPage, s: number): void {
  insn |= 0;
  const opcode = insn & 0x7f;
  const rd = (insn >>> 7) & 31;
  const f3 = (insn >>> 12) & 7;
  const rs1 = (insn >>> 15) & 31;
  const rs2 = (insn >>> 20) & 31;
  const f7 = insn >>> 25;
  const immI = insn >> 20;
  switch (opcode) {
    case 0x37: set(p, s, OP_LUI, rd, 0, 0, insn & 0xfffff000, 4); return;
    case 0x17: set(p, s, OP_AUIPC, rd, 0, 0, insn & 0xfffff000, 4); return;
    case 0x6f: {
      const imm = ((insn >> 11) & ~0xfffff) | (insn & 0xff000) | ((insn >>> 9) & 0x800) | ((insn >>> 20) & 0x7fe);
      set(p, s, OP_JAL, rd, 0, 0, imm, 4);
      return;
    }
    case 0x67:
      if (f3 !== 0) break;
      set(p, s, OP_JALR, rd, rs1, 0, immI, 4);
      return;
    case 0x63: {
      const op = BRANCH_OPS[f3]!;
      if (op === 0) break;
      const imm = ((insn >> 19) & ~0xfff) | ((insn << 4) & 0x800) | ((insn >>> 20) & 0x7e0) | ((insn >>> 7) & 0x1e);
      set(p, s, op, 0, rs1, rs2, imm, 4);
      return;
    }
    case 0x03: {
      const op = LOAD_OPS[f3]!;
      if (op === 0) break;
      set(p, s, op, rd, rs1, 0, immI, 4);
      return;
    }
    case 0x23: {
      const op = STORE_OPS[f3]!;
      if (op === 0) break;
      set(p, s, op, 0, rs1, rs2, ((insn >> 20) & ~31) | rd, 4);
      return;
    }
    case 0x13: {
      let op = OPIMM_OPS[f3]!;
      if (f3 === 1) {
        if (f7 !== 0) break;
        set(p, s, op, rd, rs1, 0, rs2, 4);
        return;
      }
      if (f3 === 5) {
        if (f7 === 0x20) op = OP_SRAI;
        else if (f7 !== 0) break;
        set(p, s, op, rd, rs1, 0, rs2, 4);
        return;
      }
      set(p, s, op, rd, rs1, 0, immI, 4);
      return;
    }
    case 0x33: {
      let op = 0;
      if (f7 === 0) op = OP_OPS[f3]!;
      else if (f7 === 1) op = MULDIV_OPS[f3]!;
      else if (f7 === 0x20) op = f3 === 0 ? OP_SUB : f3 === 5 ? OP_SRA : 0;
      if (op === 0) break;
      set(p, s, op, rd, rs1, rs2, 0, 4);
      return;
    }
    case 0x0f:
      if (f3 === 0) { set(p, s, OP_FENCE, 0, 0, 0, 0, 4); return; }
      if (f3 === 1) { set(p, s, OP_FENCE_I, 0, 0, 0, 0, 4); return; }
      break;
    case 0x2f: {
      if (f3 !== 2) break;
      let op = 0;
      switch (insn >>> 27) {
        case 0x02: op = rs2 === 0 ? OP_LR : 0; break;
        case 0x03: op = OP_SC; break;
        case 0x01: op = OP_AMOSWAP; break;
        case 0x00: op = OP_AMOADD; break;
        case 0x04: op = OP_AMOXOR; break;
        case 0x0c: op = OP_AMOAND; break;
        case 0x08: op = OP_AMOOR; break;
        case 0x10: op = OP_AMOMIN; break;
        case 0x14: op = OP_AMOMAX; break;
        case 0x18: op = OP_AMOMINU; break;
        case 0x1c: op = OP_AMOMAXU; break;
      }
      if (op === 0) break;
      set(p, s, op, rd, rs1, rs2, 0, 4);
      return;
    }
    case 0x73: {
      if (f3 === 0) {
        const u = insn >>> 0;
        if (u === 0x00000073) { set(p, s, OP_ECALL, 0, 0, 0, 0, 4); return; }
        if (u === 0x00100073) { set(p, s, OP_EBREAK, 0, 0, 0, 0, 4); return; }
        if (u === 0x30200073) { set(p, s, OP_MRET, 0, 0, 0, 0, 4); return; }
        if (u === 0x10200073) { set(p, s, OP_SRET, 0, 0, 0, 0, 4); return; }
        if (u === 0x10500073) { set(p, s, OP_WFI, 0, 0, 0, 0, 4); return; }
        if (f7 === 0x09 && rd === 0) { set(p, s, OP_SFENCE_VMA, 0, rs1, rs2, 0, 4); return; }
        break;
      }
      const op = CSR_OPS[f3]!;
      if (op === 0) break;
      set(p, s, op, rd, rs1, 0, insn >>> 20, 4);
      return;
    }
  }
  illegal(p, s, insn, 4);
}

function sext(v: number, bits: number): number {
  const sh = 32 - bits;
  return (v << sh) >> sh;
}

/** Decodes a 16-bit compressed instruction (RV32C, no F/D) into slot `s` of `p`. */
export function decode16(insn: number, p: DecodedPage, s: number): void {
  const i = insn & 0xffff;
  const f3 = i >>> 13;
  const rdp = 8 + ((i >>> 2) & 7);
  const rs1p = 8 + ((i >>> 7) & 7);
  const rd = (i >>> 7) & 31;
  const rs2 = (i >>> 2) & 31;
  switch (i & 3) {
    case 0:
      if (f3 === 0) {
        const imm = ((i >>> 7) & 0x30) | ((i >>> 1) & 0x3c0) | ((i >>> 4) & 4) | ((i >>> 2) & 8);
        if (imm === 0) break;
        set(p, s, OP_ADDI, rdp, 2, 0, imm, 2);
        return;
      }
      if (f3 === 2 || f3 === 6) {
        const imm = ((i >>> 7) & 0x38) | ((i << 1) & 0x40) | ((i >>> 4) & 4);
        if (f3 === 2) set(p, s, OP_LW, rdp, rs1p, 0, imm, 2);
        else set(p, s, OP_SW, 0, rs1p, rdp, imm, 2);
        return;
      }
      break;
    case 1: {
      const imm6 = sext(((i >>> 7) & 0x20) | ((i >>> 2) & 0x1f), 6);
      switch (f3) {
        case 0: set(p, s, OP_ADDI, rd, rd, 0, imm6, 2); return;
        case 1: case 5: {
          const imm = sext((((i >>> 1) & 0x800) | ((i >>> 7) & 0x10) | ((i >>> 1) & 0x300) | ((i << 2) & 0x400) |
            ((i >>> 1) & 0x40) | ((i << 1) & 0x80) | ((i >>> 2) & 0xe) | ((i << 3) & 0x20)), 12);
          set(p, s, OP_JAL, f3 === 1 ? 1 : 0, 0, 0, imm, 2);
          return;
        }
        case 2: set(p, s, OP_ADDI, rd, 0, 0, imm6, 2); return;
        case 3:
          if (rd === 2) {
            const imm = sext(((i >>> 3) & 0x200) | ((i >>> 2) & 0x10) | ((i << 1) & 0x40) | ((i << 4) & 0x180) | ((i << 3) & 0x20), 10);
            if (imm === 0) break;
            set(p, s, OP_ADDI, 2, 2, 0, imm, 2);
            return;
          }
          if (imm6 === 0) break;
          set(p, s, OP_LUI, rd, 0, 0, imm6 << 12, 2);
          return;
        case 4: {
          const f2 = (i >>> 10) & 3;
          if (f2 === 0 || f2 === 1) {
            if (i & 0x1000) break;
            set(p, s, f2 === 0 ? OP_SRLI : OP_SRAI, rs1p, rs1p, 0, rs2, 2);
            return;
          }
          if (f2 === 2) { set(p, s, OP_ANDI, rs1p, rs1p, 0, imm6, 2); return; }
          if (i & 0x1000) break;
          const op = [OP_SUB, OP_XOR, OP_OR, OP_AND][(i >>> 5) & 3]!;
          set(p, s, op, rs1p, rs1p, rdp, 0, 2);
          return;
        }
        case 6: case 7: {
          const imm = sext(((i >>> 4) & 0x100) | ((i >>> 7) & 0x18) | ((i << 1) & 0xc0) | ((i >>> 2) & 6) | ((i << 3) & 0x20), 9);
          set(p, s, f3 === 6 ? OP_BEQ : OP_BNE, 0, rs1p, 0, imm, 2);
          return;
        }
      }
      break;
    }
    case 2:
      switch (f3) {
        case 0:
          if (i & 0x1000) break;
          set(p, s, OP_SLLI, rd, rd, 0, rs2, 2);
          return;
        case 2:
          if (rd === 0) break;
          set(p, s, OP_LW, rd, 2, 0, ((i >>> 7) & 0x20) | ((i >>> 2) & 0x1c) | ((i << 4) & 0xc0), 2);
          return;
        case 4:
          if ((i & 0x1000) === 0) {
            if (rs2 === 0) {
              if (rd === 0) break;
              set(p, s, OP_JALR, 0, rd, 0, 0, 2);
            } else {
              set(p, s, OP_ADD, rd, 0, rs2, 0, 2);
            }
            return;
          }
          if (rs2 === 0) {
            if (rd === 0) set(p, s, OP_EBREAK, 0, 0, 0, 0, 2);
            else set(p, s, OP_JALR, 1, rd, 0, 0, 2);
            return;
          }
          set(p, s, OP_ADD, rd, rd, rs2, 0, 2);
          return;
        case 6:
          set(p, s, OP_SW, 0, 2, rs2, ((i >>> 7) & 0x3c) | ((i >>> 1) & 0xc0), 2);
          return;
      }
      break;
  }
  illegal(p, s, i, 2);
}

/** Decodes one instruction (16 or 32 bits, judged by the low two bits). */
export function decodeInsn(insn: number, p: DecodedPage, s: number): void {
  if ((insn & 3) === 3) decode32(insn, p, s);
  else decode16(insn & 0xffff, p, s);
}
