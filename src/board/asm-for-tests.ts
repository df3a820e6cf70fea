/**
 * A tiny RV32 assembler and ELF32 writer for the board's tests: enough instructions to write
 * bare-metal test programs as raw words, with labels for jumps and branches.
 */

/** ABI register numbers. */
export const R = {
  zero: 0, ra: 1, sp: 2, t0: 5, t1: 6, t2: 7, s0: 8, s1: 9, a0: 10, a1: 11, a2: 12, a3: 13,
  a6: 16, a7: 17, s2: 18, s3: 19, s4: 20,
} as const;

type Fixup = (here: number, target: number) => number;

/** A program under construction at `origin`. */
export class Asm {
  private readonly words: number[] = [];
  private readonly labels = new Map<string, number>();
  private readonly fixups: { index: number; label: string; make: Fixup }[] = [];

  constructor(readonly origin: number) {}

  /** The address of the next instruction. */
  get here(): number {
    return this.origin + this.words.length * 4;
  }

  label(name: string): this {
    this.labels.set(name, this.here);
    return this;
  }

  word(w: number): this {
    this.words.push(w >>> 0);
    return this;
  }

  private i(op: number, rd: number, f3: number, rs1: number, imm: number): this {
    return this.word(((imm & 0xfff) << 20) | (rs1 << 15) | (f3 << 12) | (rd << 7) | op);
  }

  private s(f3: number, rs1: number, rs2: number, imm: number): this {
    return this.word((((imm >> 5) & 0x7f) << 25) | (rs2 << 20) | (rs1 << 15) | (f3 << 12) | ((imm & 0x1f) << 7) | 0x23);
  }

  lui(rd: number, imm20: number): this {
    return this.word(((imm20 & 0xfffff) << 12) | (rd << 7) | 0x37);
  }

  addi(rd: number, rs1: number, imm: number): this {
    return this.i(0x13, rd, 0, rs1, imm);
  }

  add(rd: number, rs1: number, rs2: number): this {
    return this.word((rs2 << 20) | (rs1 << 15) | (rd << 7) | 0x33);
  }

  /** Loads any 32-bit constant (lui + addi). */
  li(rd: number, value: number): this {
    const v = value | 0;
    const lo = (v << 20) >> 20;
    const hi = ((v - lo) >>> 12) & 0xfffff;
    if (hi !== 0) {
      this.lui(rd, hi);
      return lo !== 0 ? this.addi(rd, rd, lo) : this;
    }
    return this.addi(rd, 0, lo);
  }

  /** rd = address of `label` (li with a fixed-up constant; absolute). */
  la(rd: number, label: string): this {
    const index = this.words.length;
    this.lui(rd, 0).addi(rd, rd, 0);
    this.fixups.push({ index, label, make: () => 0 });
    this.fixups.push({ index: -1 - index, label, make: () => rd });
    return this;
  }

  lw(rd: number, rs1: number, imm: number): this {
    return this.i(0x03, rd, 2, rs1, imm);
  }

  sw(rs2: number, rs1: number, imm: number): this {
    return this.s(2, rs1, rs2, imm);
  }

  sb(rs2: number, rs1: number, imm: number): this {
    return this.s(0, rs1, rs2, imm);
  }

  csrw(csr: number, rs1: number): this {
    return this.i(0x73, 0, 1, rs1, csr);
  }

  csrr(rd: number, csr: number): this {
    return this.i(0x73, rd, 2, 0, csr);
  }

  csrs(csr: number, rs1: number): this {
    return this.i(0x73, 0, 2, rs1, csr);
  }

  ecall(): this {
    return this.word(0x00000073);
  }

  wfi(): this {
    return this.word(0x10500073);
  }

  mret(): this {
    return this.word(0x30200073);
  }

  j(label: string): this {
    return this.jal(0, label);
  }

  jal(rd: number, label: string): this {
    this.fixups.push({
      index: this.words.length,
      label,
      make: (here, target) => {
        const off = target - here;
        return (((off >> 20) & 1) << 31) | (((off >> 1) & 0x3ff) << 21) | (((off >> 11) & 1) << 20) | (((off >> 12) & 0xff) << 12) | (rd << 7) | 0x6f;
      },
    });
    return this.word(0);
  }

  private branch(f3: number, rs1: number, rs2: number, label: string): this {
    this.fixups.push({
      index: this.words.length,
      label,
      make: (here, target) => {
        const off = target - here;
        return (((off >> 12) & 1) << 31) | (((off >> 5) & 0x3f) << 25) | (rs2 << 20) | (rs1 << 15) | (f3 << 12) |
          (((off >> 1) & 0xf) << 8) | (((off >> 11) & 1) << 7) | 0x63;
      },
    });
    return this.word(0);
  }

  beq(rs1: number, rs2: number, label: string): this {
    return this.branch(0, rs1, rs2, label);
  }

  bne(rs1: number, rs2: number, label: string): this {
    return this.branch(1, rs1, rs2, label);
  }

  /** Resolves labels and returns the little-endian bytes. */
  assemble(): Uint8Array {
    const out = [...this.words];
    for (const f of this.fixups) {
      if (f.index < 0) continue;
      const target = this.labels.get(f.label);
      if (target === undefined) throw new Error(`undefined label ${f.label}`);
      const here = this.origin + f.index * 4;
      const la = this.fixups.find((g) => g.index === -1 - f.index);
      if (la !== undefined) {
        const rd = la.make(0, 0);
        const lo = (target << 20) >> 20;
        const hi = ((target - lo) >>> 12) & 0xfffff;
        out[f.index] = ((hi << 12) | (rd << 7) | 0x37) >>> 0;
        out[f.index + 1] = (((lo & 0xfff) << 20) | (rd << 15) | (rd << 7) | 0x13) >>> 0;
      } else {
        out[f.index] = f.make(here, target) >>> 0;
      }
    }
    const bytes = new Uint8Array(out.length * 4);
    const view = new DataView(bytes.buffer);
    out.forEach((w, k) => view.setUint32(k * 4, w, true));
    return bytes;
  }
}

/** Options for `makeElf`, to build deliberately bad files too. */
export interface ElfOptions {
  entry?: number;
  elfClass?: number;
  machine?: number;
}

/** An ELF32 executable with one PT_LOAD segment holding `code` at `paddr`. */
export function makeElf(code: Uint8Array, paddr: number, opts: ElfOptions = {}): Uint8Array {
  const out = new Uint8Array(52 + 32 + code.length);
  const v = new DataView(out.buffer);
  out.set([0x7f, 0x45, 0x4c, 0x46, opts.elfClass ?? 1, 1, 1, 0]);
  v.setUint16(16, 2, true);
  v.setUint16(18, opts.machine ?? 243, true);
  v.setUint32(20, 1, true);
  v.setUint32(24, opts.entry ?? paddr, true);
  v.setUint32(28, 52, true);
  v.setUint16(40, 52, true);
  v.setUint16(42, 32, true);
  v.setUint16(44, 1, true);
  v.setUint32(52, 1, true); // PT_LOAD
  v.setUint32(56, 84, true);
  v.setUint32(60, paddr, true);
  v.setUint32(64, paddr, true);
  v.setUint32(68, code.length, true);
  v.setUint32(72, code.length, true);
  v.setUint32(76, 7, true);
  out.set(code, 84);
  return out;
}
