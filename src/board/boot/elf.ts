/**
 * ELF32 loader for RISC-V images (`-kernel`, `-bios`): validates the header and copies the
 * PT_LOAD segments to their physical addresses (p_paddr), zero-filling up to p_memsz, as
 * QEMU's load_elf does. Errors are one-line `ElfError`s the board prefixes with the file name.
 */
import type { Ram } from '../../memory/ram.js';

/** The image is not a loadable RV32 ELF, or a segment does not fit. */
export class ElfError extends Error {
  override name = 'ElfError';
}

/** ELF machine number of RISC-V. */
export const EM_RISCV = 243;
const PT_LOAD = 1;

/** One loadable segment. */
export interface ElfSegment {
  readonly paddr: number;
  readonly fileOffset: number;
  readonly fileSize: number;
  readonly memSize: number;
}

/** What a parsed ELF offers the loader. */
export interface ElfImage {
  readonly entry: number;
  readonly segments: readonly ElfSegment[];
  /** Lowest and one-past-highest physical address of the loaded segments. */
  readonly lowAddr: number;
  readonly highAddr: number;
}

/** True when `data` starts with the ELF magic. */
export function isElf(data: Uint8Array): boolean {
  return data.length >= 4 && data[0] === 0x7f && data[1] === 0x45 && data[2] === 0x4c && data[3] === 0x46;
}

/** Parses and validates an ELF32 little-endian RISC-V executable. */
export function parseElf(data: Uint8Array): ElfImage {
  if (!isElf(data)) throw new ElfError('not an ELF file (bad magic)');
  if (data.length < 52) throw new ElfError(`truncated ELF header (${data.length} bytes, need 52)`);
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const elfClass = data[4]!;
  if (elfClass !== 1) throw new ElfError(`not a 32-bit ELF (EI_CLASS ${elfClass}${elfClass === 2 ? ', 64-bit' : ''})`);
  if (data[5] !== 1) throw new ElfError(`not a little-endian ELF (EI_DATA ${data[5]!})`);
  const machine = view.getUint16(18, true);
  if (machine !== EM_RISCV) throw new ElfError(`not a RISC-V ELF (e_machine ${machine}, need ${EM_RISCV})`);
  const type = view.getUint16(16, true);
  if (type !== 2 && type !== 3) throw new ElfError(`not an executable ELF (e_type ${type})`);
  const entry = view.getUint32(24, true);
  const phoff = view.getUint32(28, true);
  const phentsize = view.getUint16(42, true);
  const phnum = view.getUint16(44, true);
  if (phnum === 0) throw new ElfError('ELF has no program headers');
  if (phentsize < 32) throw new ElfError(`bad ELF program header size ${phentsize}`);
  if (phoff + phnum * phentsize > data.length) {
    throw new ElfError(`truncated ELF: program headers end at ${phoff + phnum * phentsize}, file has ${data.length} bytes`);
  }
  const segments: ElfSegment[] = [];
  let lowAddr = Infinity;
  let highAddr = 0;
  for (let i = 0; i < phnum; i++) {
    const ph = phoff + i * phentsize;
    if (view.getUint32(ph, true) !== PT_LOAD) continue;
    const fileOffset = view.getUint32(ph + 4, true);
    const paddr = view.getUint32(ph + 12, true);
    const fileSize = view.getUint32(ph + 16, true);
    const memSize = view.getUint32(ph + 20, true);
    if (fileSize > memSize) throw new ElfError(`segment ${i}: p_filesz ${fileSize} exceeds p_memsz ${memSize}`);
    if (fileOffset + fileSize > data.length) {
      throw new ElfError(`truncated ELF: segment ${i} needs bytes up to ${fileOffset + fileSize}, file has ${data.length}`);
    }
    if (memSize === 0) continue;
    if (paddr + memSize > 0x1_0000_0000) throw new ElfError(`segment ${i} at 0x${hex(paddr)} wraps past 4 GiB`);
    segments.push({ paddr, fileOffset, fileSize, memSize });
    lowAddr = Math.min(lowAddr, paddr);
    highAddr = Math.max(highAddr, paddr + memSize);
  }
  if (segments.length === 0) throw new ElfError('ELF has no loadable (PT_LOAD) segments');
  return { entry, segments, lowAddr, highAddr };
}

/** Copies the segments of `image` (parsed from `data`) into RAM; every segment must lie in RAM. */
export function loadElf(data: Uint8Array, image: ElfImage, ram: Ram): void {
  for (const s of image.segments) {
    if (!ram.contains(s.paddr, s.memSize)) {
      throw new ElfError(
        `segment at 0x${hex(s.paddr)}..0x${hex(s.paddr + s.memSize)} is outside RAM ` +
          `(0x${hex(ram.base)}..0x${hex(ram.base + ram.size)})`,
      );
    }
  }
  for (const s of image.segments) {
    const bytes = new Uint8Array(s.memSize);
    bytes.set(data.subarray(s.fileOffset, s.fileOffset + s.fileSize));
    ram.writeBytes(s.paddr, bytes);
  }
}

function hex(n: number): string {
  return (n >>> 0).toString(16);
}
