/**
 * Disassembler for every instruction the hart implements, in objdump-like syntax
 * (`addi a0,a0,1`, `lw a5,8(sp)`, `csrrw zero,mtvec,t0`). Compressed instructions are shown
 * in their expanded form with a `c.` note (e.g. `addi sp,sp,-16 # c`).
 */
import * as D from './decode.js';

/** ABI register names. */
export const REG_NAMES: readonly string[] = [
  'zero', 'ra', 'sp', 'gp', 'tp', 't0', 't1', 't2', 's0', 's1', 'a0', 'a1', 'a2', 'a3', 'a4', 'a5',
  'a6', 'a7', 's2', 's3', 's4', 's5', 's6', 's7', 's8', 's9', 's10', 's11', 't3', 't4', 't5', 't6',
];

const CSR_NAMES = new Map<number, string>([
  [0x001, 'fflags'], [0x100, 'sstatus'], [0x104, 'sie'], [0x105, 'stvec'], [0x106, 'scounteren'],
  [0x10a, 'senvcfg'], [0x140, 'sscratch'], [0x141, 'sepc'], [0x142, 'scause'], [0x143, 'stval'],
  [0x144, 'sip'], [0x180, 'satp'], [0x300, 'mstatus'], [0x301, 'misa'], [0x302, 'medeleg'],
  [0x303, 'mideleg'], [0x304, 'mie'], [0x305, 'mtvec'], [0x306, 'mcounteren'], [0x30a, 'menvcfg'],
  [0x310, 'mstatush'], [0x31a, 'menvcfgh'], [0x320, 'mcountinhibit'], [0x340, 'mscratch'],
  [0x341, 'mepc'], [0x342, 'mcause'], [0x343, 'mtval'], [0x344, 'mip'], [0xb00, 'mcycle'],
  [0xb02, 'minstret'], [0xb80, 'mcycleh'], [0xb82, 'minstreth'], [0xc00, 'cycle'], [0xc01, 'time'],
  [0xc02, 'instret'], [0xc80, 'cycleh'], [0xc81, 'timeh'], [0xc82, 'instreth'], [0xf11, 'mvendorid'],
  [0xf12, 'marchid'], [0xf13, 'mimpid'], [0xf14, 'mhartid'], [0xf15, 'mconfigptr'],
]);

/** Name of a CSR number (`pmpcfg0`, `mstatus`, or `0x7c0`). */
export function csrName(csr: number): string {
  const n = CSR_NAMES.get(csr);
  if (n !== undefined) return n;
  if (csr >= 0x3a0 && csr <= 0x3a3) return `pmpcfg${csr - 0x3a0}`;
  if (csr >= 0x3b0 && csr <= 0x3bf) return `pmpaddr${csr - 0x3b0}`;
  return `0x${csr.toString(16)}`;
}

const scratch = new D.DecodedPage();

function hex(v: number): string {
  return `0x${(v >>> 0).toString(16)}`;
}

/** Disassembles one instruction (low 16 bits used when compressed). `pc` resolves jump targets. */
export function disassemble(insn: number, pc = 0): string {
  D.decodeInsn(insn, scratch, 0);
  const op = scratch.op[0]!;
  const info = scratch.info[0]!;
  const rd = REG_NAMES[info & 31]!;
  const rs1N = (info >>> 8) & 31;
  const rs1 = REG_NAMES[rs1N]!;
  const rs2 = REG_NAMES[(info >>> 16) & 31]!;
  const imm = scratch.imm[0]!;
  const name = D.OP_NAMES[op]!;
  const c = (info >>> 24) === 2 ? ' # c' : '';
  let text: string;
  switch (op) {
    case D.OP_ILLEGAL: return `.insn ${hex(imm)} # illegal`;
    case D.OP_LUI: case D.OP_AUIPC: text = `${name} ${rd},${hex(imm >>> 12)}`; break;
    case D.OP_JAL: text = `${name} ${rd},${hex((pc + imm) | 0)}`; break;
    case D.OP_JALR: text = `${name} ${rd},${imm}(${rs1})`; break;
    case D.OP_BEQ: case D.OP_BNE: case D.OP_BLT: case D.OP_BGE: case D.OP_BLTU: case D.OP_BGEU:
      text = `${name} ${rs1},${rs2},${hex((pc + imm) | 0)}`;
      break;
    case D.OP_LB: case D.OP_LH: case D.OP_LW: case D.OP_LBU: case D.OP_LHU:
      text = `${name} ${rd},${imm}(${rs1})`;
      break;
    case D.OP_SB: case D.OP_SH: case D.OP_SW: text = `${name} ${rs2},${imm}(${rs1})`; break;
    case D.OP_FENCE: case D.OP_FENCE_I: case D.OP_ECALL: case D.OP_EBREAK: case D.OP_MRET:
    case D.OP_SRET: case D.OP_WFI:
      text = name;
      break;
    case D.OP_SFENCE_VMA: text = `${name} ${rs1},${rs2}`; break;
    case D.OP_CSRRW: case D.OP_CSRRS: case D.OP_CSRRC:
      text = `${name} ${rd},${csrName(imm)},${rs1}`;
      break;
    case D.OP_CSRRWI: case D.OP_CSRRSI: case D.OP_CSRRCI:
      text = `${name} ${rd},${csrName(imm)},${rs1N}`;
      break;
    case D.OP_LR: text = `${name} ${rd},(${rs1})`; break;
    case D.OP_SC: case D.OP_AMOSWAP: case D.OP_AMOADD: case D.OP_AMOXOR: case D.OP_AMOAND: case D.OP_AMOOR:
    case D.OP_AMOMIN: case D.OP_AMOMAX: case D.OP_AMOMINU: case D.OP_AMOMAXU:
      text = `${name} ${rd},${rs2},(${rs1})`;
      break;
    case D.OP_ADDI: case D.OP_SLTI: case D.OP_SLTIU: case D.OP_XORI: case D.OP_ORI: case D.OP_ANDI:
    case D.OP_SLLI: case D.OP_SRLI: case D.OP_SRAI:
      text = `${name} ${rd},${rs1},${imm}`;
      break;
    default:
      text = `${name} ${rd},${rs1},${rs2}`;
  }
  return text + c;
}
