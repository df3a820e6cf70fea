/**
 * Text layouts of the human monitor that copy QEMU 7.2 (riscv32 target): `info registers`
 * and the `x`/`xp` memory dump (`0000000080000000: 0x00001197 0x77418193`).
 */
import { disassemble } from '../../cpu/disasm.js';
import type { CpuRegisters } from '../vm-control.js';

/** QEMU's register names for `info registers`. */
const INT_REG_NAMES: readonly string[] = [
  'x0/zero', 'x1/ra', 'x2/sp', 'x3/gp', 'x4/tp', 'x5/t0', 'x6/t1', 'x7/t2', 'x8/s0', 'x9/s1',
  'x10/a0', 'x11/a1', 'x12/a2', 'x13/a3', 'x14/a4', 'x15/a5', 'x16/a6', 'x17/a7', 'x18/s2',
  'x19/s3', 'x20/s4', 'x21/s5', 'x22/s6', 'x23/s7', 'x24/s8', 'x25/s9', 'x26/s10', 'x27/s11',
  'x28/t3', 'x29/t4', 'x30/t5', 'x31/t6',
];

function hex8(v: number): string {
  return (v >>> 0).toString(16).padStart(8, '0');
}

/** `info registers` for one hart, QEMU's riscv32 layout (lines end with "\n"). */
export function formatRegisters(cpuIndex: number, r: CpuRegisters): string {
  let out = `\nCPU#${cpuIndex}\n V      =   0\n pc       ${hex8(r.pc)}\n`;
  for (const [name, value] of r.csrs) out += ` ${name.padEnd(8)} ${hex8(value)}\n`;
  for (let i = 0; i < 32; i++) {
    out += ` ${INT_REG_NAMES[i]!.padEnd(8)} ${hex8(r.x[i] ?? 0)}`;
    if ((i & 3) === 3) out += '\n';
  }
  return out;
}

/** A memory-dump format: QEMU's `/count format size`. */
export interface DumpFormat {
  readonly count: number;
  /** o, d, u, x, c or i. */
  readonly format: 'o' | 'd' | 'u' | 'x' | 'c' | 'i';
  /** Unit size in bytes (ignored for `i`). */
  readonly size: 1 | 2 | 4 | 8;
}

/** Reads guest memory; throws when unmapped. */
export type MemoryReader = (address: number, length: number) => Uint8Array;

function readUnit(bytes: Uint8Array, offset: number, size: number): bigint {
  let v = 0n;
  for (let i = size - 1; i >= 0; i--) v = (v << 8n) | BigInt(bytes[offset + i] ?? 0);
  return v;
}

function charLiteral(c: number): string {
  switch (c) {
    case 0x27: return "'\\''";
    case 0x5c: return "'\\\\'";
    case 0x0a: return "'\\n'";
    case 0x0d: return "'\\r'";
    default:
      return c >= 32 && c <= 126 ? `'${String.fromCharCode(c)}'` : `'\\x${c.toString(16).padStart(2, '0')}'`;
  }
}

/**
 * QEMU's `memory_dump`: `physical` selects xp's 16-digit address column (x uses 8 digits,
 * riscv32's target_ulong). Lines hold 16 bytes (8 for byte units); an unreadable line prints
 * " Cannot access memory" and ends the dump.
 */
export function formatMemoryDump(address: number, fmt: DumpFormat, physical: boolean, read: MemoryReader): string {
  if (fmt.format === 'i') return formatDisassembly(address, fmt.count, read);
  let wsize: number = fmt.size;
  const lineSize = wsize === 1 ? 8 : 16;
  let maxDigits = 0;
  switch (fmt.format) {
    case 'o': maxDigits = Math.ceil((wsize * 8) / 3); break;
    case 'x': maxDigits = (wsize * 8) / 4; break;
    case 'u': case 'd': maxDigits = Math.ceil((wsize * 8 * 10) / 33); break;
    case 'c': wsize = 1; break;
  }
  let len = fmt.size * fmt.count;
  let addr = address;
  let out = '';
  while (len > 0) {
    out += physical ? `${addr.toString(16).padStart(16, '0')}:` : `${hex8(addr)}:`;
    const l = Math.min(len, lineSize);
    let bytes: Uint8Array;
    try {
      bytes = read(addr, l);
    } catch {
      out += ' Cannot access memory\n';
      break;
    }
    for (let i = 0; i < l; i += wsize) {
      const v = readUnit(bytes, i, wsize);
      out += ' ';
      switch (fmt.format) {
        case 'o': out += (v === 0n ? '0' : `0${v.toString(8)}`).padStart(maxDigits); break;
        case 'x': out += `0x${v.toString(16).padStart(maxDigits, '0')}`; break;
        case 'u': out += v.toString().padStart(maxDigits); break;
        case 'd': out += (wsize === 8 ? BigInt.asIntN(64, v) : v).toString().padStart(maxDigits); break;
        case 'c': out += charLiteral(Number(v)); break;
      }
    }
    out += '\n';
    addr += l;
    len -= l;
  }
  return out;
}

function formatDisassembly(address: number, count: number, read: MemoryReader): string {
  let out = '';
  let pc = address >>> 0;
  for (let n = 0; n < count; n++) {
    const prefix = `0x${hex8(pc)}:  `;
    let insn: number;
    let width: number;
    try {
      const lo = read(pc, 2);
      const half = (lo[0] ?? 0) | ((lo[1] ?? 0) << 8);
      if ((half & 3) !== 3) {
        insn = half;
        width = 2;
      } else {
        const hi = read(pc + 2, 2);
        insn = (half | ((hi[0] ?? 0) << 16) | ((hi[1] ?? 0) << 24)) >>> 0;
        width = 4;
      }
    } catch {
      out += `${prefix}Cannot access memory\n`;
      break;
    }
    const code = insn.toString(16).padStart(width * 2, '0');
    out += `${prefix}${code.padEnd(18)}${disassemble(insn, pc)}\n`;
    pc = (pc + width) >>> 0;
  }
  return out;
}
