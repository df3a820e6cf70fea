/**
 * The boot ROM at 0x1000 (QEMU's "mrom"): the reset vector every hart starts at, followed by the
 * 32-bit fw_dynamic_info OpenSBI reads through a2 (riscv_setup_rom_reset_vec and
 * riscv_rom_copy_firmware_info in QEMU 7.2 hw/riscv/boot.c, include/hw/riscv/boot_opensbi.h).
 *
 *   1: auipc t0, %pcrel_hi(fw_dyn)
 *      addi  a2, t0, %pcrel_lo(1b)      ; a2 = &fw_dynamic_info (rom + 0x28)
 *      csrr  a0, mhartid
 *      lw    a1, 32(t0)                 ; a1 = fdt address
 *      lw    t0, 24(t0)                 ; t0 = start address
 *      jr    t0
 *   start: .dword start_addr
 *   fdt:   .dword fdt_addr
 *   fw_dyn: magic, version, next_addr, next_mode, options, boot_hart
 */
import type { MmioDevice } from '../../memory/address-map.js';

/** "OSBI" */
export const FW_DYNAMIC_INFO_MAGIC = 0x4942534f;
export const FW_DYNAMIC_INFO_VERSION = 2;
export const FW_DYNAMIC_INFO_NEXT_MODE_S = 1;
/** Offset of fw_dynamic_info in the ROM (after the ten words of reset vector). */
export const FW_DYNAMIC_INFO_OFFSET = 0x28;

/** Inputs of the reset vector. */
export interface ResetVectorParams {
  /** Where the reset vector jumps (the firmware, or the kernel with `-bios none`). */
  readonly startAddr: number;
  readonly fdtAddr: number;
  /** fw_dynamic_info.next_addr: where the firmware continues (the kernel), 0 if none. */
  readonly kernelEntry: number;
}

/** The ROM contents: reset vector words then fw_dynamic_info, little-endian. */
export function buildResetVector(p: ResetVectorParams): Uint8Array {
  const words = [
    0x00000297, // auipc t0, 0
    0x02828613, // addi a2, t0, 0x28
    0xf1402573, // csrr a0, mhartid
    0x0202a583, // lw a1, 32(t0)
    0x0182a283, // lw t0, 24(t0)
    0x00028067, // jr t0
    p.startAddr >>> 0,
    0,
    p.fdtAddr >>> 0,
    0,
    // fw_dynamic_info (32-bit layout)
    FW_DYNAMIC_INFO_MAGIC,
    FW_DYNAMIC_INFO_VERSION,
    p.kernelEntry >>> 0,
    FW_DYNAMIC_INFO_NEXT_MODE_S,
    0, // options
    0, // boot_hart, as QEMU writes it
  ];
  const out = new Uint8Array(words.length * 4);
  const view = new DataView(out.buffer);
  words.forEach((w, i) => view.setUint32(i * 4, w, true));
  return out;
}

/** A read-only memory region; writes are ignored, as QEMU ignores writes to ROM. */
export class RomDevice implements MmioDevice {
  readonly bytes: Uint8Array;

  constructor(size: number) {
    this.bytes = new Uint8Array(size);
  }

  /** Replaces the contents from offset 0 (the rest is zeroed). */
  load(data: Uint8Array): void {
    this.bytes.fill(0);
    this.bytes.set(data.subarray(0, this.bytes.length));
  }

  read(offset: number, size: 1 | 2 | 4): number {
    const b = this.bytes;
    if (offset + size > b.length) return 0;
    let v = 0;
    for (let i = size - 1; i >= 0; i--) v = (v << 8) | b[offset + i]!;
    return v >>> 0;
  }

  write(_offset: number, _size: 1 | 2 | 4, _value: number): void {}
}
