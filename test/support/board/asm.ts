/**
 * A label-resolving program builder for the board's tests: bare-metal test programs as a chain
 * of instructions with labels for jumps, branches and addresses. It only places words; every
 * encoding comes from `../cpu/asm.ts` (wrap the bytes with `makeElf` from `../cpu/elf.ts`).
 */
import * as A from '../cpu/asm.js';
const { R } = A;

/** Encodes the instruction(s) at `here` once `target` (a label's address) is known. */
type Fixup = (here: number, target: number) => readonly number[];

/** A program of 32-bit instructions under construction at `origin`. */
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

  /** Appends 32-bit words (always 4 bytes each, even data that looks like a compressed instruction). */
  word(...ws: number[]): this {
    for (const w of ws) this.words.push(w >>> 0);
    return this;
  }

  /** Appends `size` placeholder words, encoded by `make` when labels are resolved. */
  private fixup(label: string, size: number, make: Fixup): this {
    this.fixups.push({ index: this.words.length, label, make });
    return this.word(...new Array<number>(size).fill(0));
  }

  lui(rd: number, imm20: number): this { return this.word(A.lui(rd, imm20)); }
  addi(rd: number, rs1: number, imm: number): this { return this.word(A.addi(rd, rs1, imm)); }
  add(rd: number, rs1: number, rs2: number): this { return this.word(A.add(rd, rs1, rs2)); }
  /** Loads any 32-bit constant (lui and/or addi). */
  li(rd: number, value: number): this { return this.word(...A.li(rd, value)); }
  lw(rd: number, rs1: number, imm: number): this { return this.word(A.lw(rd, rs1, imm)); }
  sw(rs2: number, rs1: number, imm: number): this { return this.word(A.sw(rs2, rs1, imm)); }
  sb(rs2: number, rs1: number, imm: number): this { return this.word(A.sb(rs2, rs1, imm)); }
  csrw(csr: number, rs1: number): this { return this.word(A.csrrw(0, csr, rs1)); }
  csrr(rd: number, csr: number): this { return this.word(A.csrrs(rd, csr, 0)); }
  csrs(csr: number, rs1: number): this { return this.word(A.csrrs(0, csr, rs1)); }
  ecall(): this { return this.word(A.ecall()); }
  wfi(): this { return this.word(A.wfi()); }
  mret(): this { return this.word(A.mret()); }

  /** rd = address of `label` (absolute; always `lui + addi`). */
  la(rd: number, label: string): this {
    return this.fixup(label, 2, (_here, target) => {
      const { hi, lo } = A.hiLo(target);
      return [A.lui(rd, hi), A.addi(rd, rd, lo)];
    });
  }

  j(label: string): this { return this.jal(0, label); }
  jal(rd: number, label: string): this { return this.fixup(label, 1, (here, target) => [A.jal(rd, target - here)]); }
  beq(rs1: number, rs2: number, label: string): this { return this.fixup(label, 1, (here, target) => [A.beq(rs1, rs2, target - here)]); }
  bne(rs1: number, rs2: number, label: string): this { return this.fixup(label, 1, (here, target) => [A.bne(rs1, rs2, target - here)]); }

  /** Resolves labels and returns the little-endian bytes. */
  assemble(): Uint8Array {
    const out = [...this.words];
    for (const f of this.fixups) {
      const target = this.labels.get(f.label);
      if (target === undefined) throw new Error(`undefined label ${f.label}`);
      f.make(this.origin + f.index * 4, target).forEach((w, k) => { out[f.index + k] = w >>> 0; });
    }
    const bytes = new Uint8Array(out.length * 4);
    const view = new DataView(bytes.buffer);
    out.forEach((w, k) => view.setUint32(k * 4, w, true));
    return bytes;
  }
}

/**
 * M-mode test program: `count` CLINT timer interrupts 50 ticks apart, waiting in WFI or
 * spinning in a loop between them, then the finisher's pass. Raw code for 0x80000000.
 */
export function timerProgram(useWfi: boolean, count = 5): Uint8Array {
  const a = new Asm(0x80000000);
  a.la(R.t0, 'handler').csrw(0x305, R.t0);
  a.li(R.s0, 0);
  a.li(R.t0, 0x200bff8).lw(R.t1, R.t0, 0).addi(R.t1, R.t1, 50);
  a.li(R.t0, 0x2004000).sw(R.zero, R.t0, 4).sw(R.t1, R.t0, 0);
  a.li(R.t0, 0x80).csrw(0x304, R.t0);
  a.li(R.t0, 8).csrs(0x300, R.t0);
  a.label('loop');
  if (useWfi) a.wfi();
  else a.addi(R.s1, R.s1, 1);
  a.j('loop');
  a.label('handler').addi(R.s0, R.s0, 1).li(R.t2, count).beq(R.s0, R.t2, 'done');
  a.li(R.t0, 0x2004000).lw(R.t1, R.t0, 0).addi(R.t1, R.t1, 50).sw(R.t1, R.t0, 0);
  a.mret();
  a.label('done').li(R.t0, 0x100000).li(R.t1, 0x5555).sw(R.t1, R.t0, 0).label('d').j('d');
  return a.assemble();
}
