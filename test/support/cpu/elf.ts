/**
 * A minimal ELF32 (RISC-V, little-endian, executable) writer for tests: the one place test code
 * builds a kernel image without a toolchain. Pair it with `assemble` from `asm.ts`.
 */

/** Options for `makeElf`, to build deliberately bad files too. */
export interface ElfOptions {
  /** e_entry; defaults to the load address. */
  entry?: number;
  /** e_ident[EI_CLASS]; 1 is ELFCLASS32. */
  elfClass?: number;
  /** e_machine; 243 is RISC-V. */
  machine?: number;
}

const EHDR = 52;
const PHDR = 32;

/** An ELF32 executable with one PT_LOAD segment (RWX) holding `code` at `paddr` (also the entry). */
export function makeElf(code: Uint8Array, paddr = 0x80000000, opts: ElfOptions = {}): Uint8Array {
  const codeOff = EHDR + PHDR;
  const out = new Uint8Array(codeOff + code.length);
  const v = new DataView(out.buffer);
  out.set([0x7f, 0x45, 0x4c, 0x46, opts.elfClass ?? 1, 1, 1]); // magic, class, little-endian, version 1
  v.setUint16(16, 2, true); // e_type: EXEC
  v.setUint16(18, opts.machine ?? 243, true); // e_machine
  v.setUint32(20, 1, true); // e_version
  v.setUint32(24, opts.entry ?? paddr, true); // e_entry
  v.setUint32(28, EHDR, true); // e_phoff (e_shoff, e_flags: 0)
  v.setUint16(40, EHDR, true); // e_ehsize
  v.setUint16(42, PHDR, true); // e_phentsize
  v.setUint16(44, 1, true); // e_phnum
  v.setUint16(46, 40, true); // e_shentsize (e_shnum, e_shstrndx: 0)
  v.setUint32(EHDR + 0, 1, true); // p_type: LOAD
  v.setUint32(EHDR + 4, codeOff, true); // p_offset
  v.setUint32(EHDR + 8, paddr, true); // p_vaddr
  v.setUint32(EHDR + 12, paddr, true); // p_paddr
  v.setUint32(EHDR + 16, code.length, true); // p_filesz
  v.setUint32(EHDR + 20, code.length, true); // p_memsz
  v.setUint32(EHDR + 24, 7, true); // p_flags: R+W+X
  v.setUint32(EHDR + 28, 4, true); // p_align
  out.set(code, codeOff);
  return out;
}
