/**
 * The physical memory map and interrupt numbers of the `virt` board, as QEMU 7.2 lays them out
 * (hw/riscv/virt.c `virt_memmap` and include/hw/riscv/virt.h). This is the one table the board,
 * the device tree and the boot code read; nothing else hard-codes these addresses.
 */

/** One region of the map. */
export interface VirtRegion {
  readonly base: number;
  readonly size: number;
}

/** Number of virtio-mmio transports QEMU virt provides. */
export const VIRTIO_COUNT = 8;

/** The regions this board models (QEMU's, minus PCIe, flash, fw_cfg, ACLINT and the AIA). */
export const VIRT_MEMMAP = {
  /** Boot ROM holding the reset vector and fw_dynamic_info. */
  mrom: { base: 0x1000, size: 0xf000 },
  /** sifive_test finisher (poweroff / reboot / exit code). */
  test: { base: 0x100000, size: 0x1000 },
  /** Goldfish RTC. */
  rtc: { base: 0x101000, size: 0x1000 },
  /** SiFive CLINT: msip, mtimecmp, mtime. */
  clint: { base: 0x2000000, size: 0x10000 },
  /** SiFive PLIC; QEMU sizes it for VIRT_CPUS_MAX (512) harts x 2 contexts: 0x200000 + 1024 * 0x1000. */
  plic: { base: 0xc000000, size: 0x600000 },
  /** NS16550A UART. */
  uart0: { base: 0x10000000, size: 0x100 },
  /** The first of VIRTIO_COUNT virtio-mmio transports, each `size` bytes apart. */
  virtio: { base: 0x10001000, size: 0x1000 },
  /** Main memory; its size comes from `-m`. */
  dram: { base: 0x80000000, size: 0 },
} as const satisfies Record<string, VirtRegion>;

/** PLIC interrupt sources (QEMU's UART0_IRQ, RTC_IRQ, VIRTIO_IRQ). */
export const VIRT_IRQ = {
  uart0: 10,
  rtc: 11,
  /** virtio-mmio transport i uses source `virtio + i`, i in 0..VIRTIO_COUNT-1. */
  virtio: 1,
} as const;

/** Base address of virtio-mmio transport `i`. */
export function virtioBase(i: number): number {
  return VIRT_MEMMAP.virtio.base + i * VIRT_MEMMAP.virtio.size;
}

/** Most harts the board accepts (`-smp`); QEMU allows more, the board here stops at 8. */
export const VIRT_MAX_HARTS = 8;
/**
 * Largest `-m`: RAM must end by 4 GiB because physical addresses here are 32 bits (QEMU rv32
 * allows up to 10 GiB with Sv32's 34-bit physical addresses).
 */
export const VIRT_MAX_RAM = 0x1_0000_0000 - VIRT_MEMMAP.dram.base;
/** Smallest `-m` accepted: room for a kernel, the device tree's 2 MiB slot and an initrd. */
export const VIRT_MIN_RAM = 8 * 1024 * 1024;
