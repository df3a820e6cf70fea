/**
 * Where QEMU 7.2 puts things in RAM (hw/riscv/boot.c), as pure functions so tests can check the
 * rules: the kernel after the firmware, the initrd, and the device tree.
 */

const MiB = 1024 * 1024;

function alignUp(v: number, a: number): number {
  return Math.ceil(v / a) * a;
}

function alignDown(v: number, a: number): number {
  return Math.floor(v / a) * a;
}

/** riscv_calc_kernel_start_addr for rv32: the firmware end rounded up to 4 MiB. */
export function calcKernelStartAddr(firmwareEnd: number): number {
  return alignUp(firmwareEnd, 4 * MiB);
}

/**
 * riscv_load_initrd: the initrd starts at `kernelEntry + min(ramSize / 2, 128 MiB)`, so it is
 * halfway into small RAMs and 128 MiB in on large ones.
 */
export function calcInitrdStart(kernelEntry: number, ramSize: number): number {
  return kernelEntry + Math.min(Math.floor(ramSize / 2), 128 * MiB);
}

/**
 * riscv_load_fdt: the device tree goes at the highest 2 MiB-aligned address that leaves
 * `fdtSize` bytes before the end of RAM, or before 3 GiB if RAM extends past it.
 */
export function calcFdtAddr(dramBase: number, ramSize: number, fdtSize: number): number {
  const dramEnd = dramBase + ramSize;
  const limit = dramBase < 3072 * MiB ? Math.min(dramEnd, 3072 * MiB) : dramEnd;
  return alignDown(limit - fdtSize, 2 * MiB);
}

/** True when `data` carries the RISC-V Linux Image header magic ("RISCV\0\0\0" at 0x30 or "RSC\x05" at 0x38). */
export function isLinuxImage(data: Uint8Array): boolean {
  if (data.length < 0x40) return false;
  const magic = [0x52, 0x49, 0x53, 0x43, 0x56, 0, 0, 0];
  if (magic.every((b, i) => data[0x30 + i] === b)) return true;
  return data[0x38] === 0x52 && data[0x39] === 0x53 && data[0x3a] === 0x43 && data[0x3b] === 0x05;
}
