/**
 * An empty virtio-mmio slot, answering as QEMU 7.2 does when no backend is plugged in
 * (hw/virtio/virtio-mmio.c, `!vdev` path): MagicValue, Version and VendorID read their values,
 * DeviceID (and everything else) reads 0, so a driver probes the slot and finds no device.
 * QEMU 7.2's transports default to force-legacy=on, so Version reads 1 (checked against
 * `qemu-system-riscv32 -M virt`: `xp /4wx 0x10001000` gives 74726976 00000001 00000000 554d4551).
 */
import type { MmioDevice } from '../../memory/address-map.js';
import {
  VIRTIO_MMIO_MAGIC,
  VIRTIO_MMIO_MAGIC_VALUE,
  VIRTIO_MMIO_VENDOR_ID,
  VIRTIO_MMIO_VENDOR_QEMU,
  VIRTIO_MMIO_VERSION,
  VIRTIO_MMIO_VERSION_LEGACY,
} from './constants.js';

/** A virtio-mmio transport with no device behind it. Stateless. */
export class VirtioMmioEmptyTransport implements MmioDevice {
  /** Reads a register; only the 32-bit identification registers are non-zero. */
  read(offset: number, size: 1 | 2 | 4): number {
    let word: number;
    switch (offset & ~3) {
      case VIRTIO_MMIO_MAGIC_VALUE:
        word = VIRTIO_MMIO_MAGIC;
        break;
      case VIRTIO_MMIO_VERSION:
        word = VIRTIO_MMIO_VERSION_LEGACY;
        break;
      case VIRTIO_MMIO_VENDOR_ID:
        word = VIRTIO_MMIO_VENDOR_QEMU;
        break;
      default:
        return 0;
    }
    if (size === 4) return word >>> 0;
    return (word >>> ((offset & 3) * 8)) & (size === 1 ? 0xff : 0xffff);
  }

  /** Writes are ignored. */
  write(_offset: number, _size: 1 | 2 | 4, _value: number): void {}
}
