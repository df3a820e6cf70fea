/**
 * The boot plan of the `virt` board: where each image goes (firmware, kernel, initrd, device
 * tree), checked against RAM and against each other, decided once when the machine is built and
 * copied into RAM at every power-on (QEMU's rom_reset). Errors name the option and the image.
 */
import { MTIME_HZ } from '../../main-loop/clock.js';
import { BoardError } from '../errors.js';
import { parseFdt } from '../fdt/fdt-reader.js';
import { buildVirtFdt } from '../fdt/virt-fdt.js';
import type { BootImage, MachineConfig } from '../machine-api.js';
import { VIRT_MEMMAP } from '../virt-memory-map.js';
import { ElfError, isElf, parseElf } from './elf.js';
import { calcFdtAddr, calcInitrdStart, calcKernelStartAddr } from './placement.js';

const MiB = 1024 * 1024;

/** One blob placed in RAM at power-on and again at every reset (QEMU's rom_reset). */
export interface RamLoad {
  readonly label: string;
  readonly addr: number;
  readonly data: Uint8Array;
}

/** Where the boot code goes, decided once at construction. */
export interface BootPlan {
  readonly loads: readonly RamLoad[];
  /** Reset vector jump target (firmware, or DRAM base with `-bios none`). */
  readonly startAddr: number;
  /** Kernel entry (fw_dynamic_info.next_addr; the S-mode entry with the built-in SBI). */
  readonly kernelEntry: number;
  readonly fdtAddr: number;
}

/** What the plan needs of RAM: where it is. */
export interface RamExtent {
  readonly base: number;
  readonly size: number;
  contains(paddr: number, len?: number): boolean;
}

function hex(n: number): string {
  return `0x${(n >>> 0).toString(16)}`;
}

function describe(option: string, image: BootImage): string {
  return `${option} ${image.path}`;
}

function loadImageAt(ram: RamExtent, label: string, data: Uint8Array, addr: number, loads: RamLoad[]): void {
  if (data.length === 0) throw new BoardError(`${label}: file is empty`);
  if (!ram.contains(addr, data.length)) {
    throw new BoardError(
      `${label}: ${data.length} bytes at ${hex(addr)} do not fit in RAM ` +
        `(${hex(ram.base)}..${hex(ram.base + ram.size)}, -m ${ram.size / MiB}M)`,
    );
  }
  loads.push({ label, addr, data });
}

/** Parses and places an ELF; returns its lowest and highest address. */
function loadElfImage(ram: RamExtent, label: string, data: Uint8Array, loads: RamLoad[]): { low: number; high: number } {
  try {
    const image = parseElf(data);
    // Validate every segment against RAM first (loadElf's checks), then record the bytes.
    for (const s of image.segments) {
      if (!ram.contains(s.paddr, s.memSize)) {
        throw new ElfError(
          `segment at ${hex(s.paddr)}..${hex(s.paddr + s.memSize)} is outside RAM (${hex(ram.base)}..${hex(ram.base + ram.size)})`,
        );
      }
      const bytes = new Uint8Array(s.memSize);
      bytes.set(data.subarray(s.fileOffset, s.fileOffset + s.fileSize));
      loads.push({ label, addr: s.paddr, data: bytes });
    }
    return { low: image.lowAddr, high: image.highAddr };
  } catch (e) {
    if (e instanceof ElfError) throw new BoardError(`${label}: ${e.message}`);
    throw e;
  }
}

export function planBoot(config: MachineConfig, ram: RamExtent): { plan: BootPlan; dtb: Uint8Array } {
  const dramBase = VIRT_MEMMAP.dram.base;
  const loads: RamLoad[] = [];
  const startAddr = dramBase;
  let firmwareEnd: number = dramBase;
  if (config.bios.kind === 'file') {
    const label = describe('-bios', config.bios.image);
    const data = config.bios.image.data;
    if (isElf(data)) {
      firmwareEnd = loadElfImage(ram, label, data, loads).high;
    } else {
      loadImageAt(ram, label, data, dramBase, loads);
      firmwareEnd = dramBase + data.length;
    }
  } else if (config.bios.kind === 'default') {
    // The built-in SBI occupies no RAM, but kernels go where they would after OpenSBI.
    firmwareEnd = dramBase + 1;
  }

  let kernelEntry = 0;
  let initrd: { start: number; end: number } | undefined;
  if (config.kernel !== undefined) {
    const label = describe('-kernel', config.kernel);
    const data = config.kernel.data;
    const kernelStart = calcKernelStartAddr(firmwareEnd);
    if (isElf(data)) {
      // As QEMU 7.2's riscv_load_kernel: the ELF's lowest address is the "entry".
      kernelEntry = loadElfImage(ram, label, data, loads).low;
      if (config.bios.kind !== 'none' && kernelEntry < kernelStart) {
        // QEMU refuses this too (the kernel overlaps the firmware's region); a bare-metal
        // M-mode program started in S-mode under an SBI would only spin in trap loops.
        throw new BoardError(
          `${label}: loads at ${hex(kernelEntry)}, inside the firmware region ${hex(dramBase)}..${hex(kernelStart)}; ` +
            'bare-metal programs need -bios none',
        );
      }
    } else {
      loadImageAt(ram, label, data, kernelStart, loads);
      kernelEntry = kernelStart;
    }
    if (config.initrd !== undefined) {
      const ilabel = describe('-initrd', config.initrd);
      const start = calcInitrdStart(kernelEntry, config.ramSize);
      loadImageAt(ram, ilabel, config.initrd.data, start, loads);
      initrd = { start, end: start + config.initrd.data.length };
    }
  }

  let dtb: Uint8Array;
  if (config.dtb !== undefined) {
    dtb = config.dtb.data;
    try {
      parseFdt(dtb);
    } catch (e) {
      throw new BoardError(`${describe('-dtb', config.dtb)}: not a valid device tree blob (${e instanceof Error ? e.message : String(e)})`);
    }
  } else {
    dtb = buildVirtFdt({
      ramBase: dramBase,
      ramSize: config.ramSize,
      smp: config.smp,
      ...(config.append !== undefined ? { bootargs: config.append } : {}),
      ...(initrd !== undefined ? { initrd } : {}),
      timebaseFrequency: MTIME_HZ,
    });
  }
  const fdtAddr = calcFdtAddr(dramBase, config.ramSize, dtb.length);
  loadImageAt(ram, config.dtb !== undefined ? describe('-dtb', config.dtb) : 'device tree', dtb, fdtAddr, loads);

  // Images may not overlap (QEMU refuses overlapping ROM blobs too).
  const sorted = [...loads].sort((a, b) => a.addr - b.addr);
  for (let i = 1; i < sorted.length; i++) {
    const a = sorted[i - 1]!;
    const b = sorted[i]!;
    if (a.label !== b.label && a.addr + a.data.length > b.addr) {
      throw new BoardError(`${b.label}: ${hex(b.addr)}..${hex(b.addr + b.data.length)} overlaps ${a.label} at ${hex(a.addr)}..${hex(a.addr + a.data.length)}`);
    }
  }
  return { plan: { loads, startAddr, kernelEntry, fdtAddr }, dtb };
}
