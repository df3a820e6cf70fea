/**
 * Transport-independent virtio constants (virtio spec 1.2): device status bits (2.1), reserved
 * feature bits (6), split virtqueue flags (2.7) and the device IDs (5) of the devices here.
 * The MMIO register offsets live in ../virtio-mmio/constants.ts.
 */

/** Device status bits (section 2.1). */
export const VIRTIO_STATUS_ACKNOWLEDGE = 0x01;
export const VIRTIO_STATUS_DRIVER = 0x02;
export const VIRTIO_STATUS_DRIVER_OK = 0x04;
export const VIRTIO_STATUS_FEATURES_OK = 0x08;
export const VIRTIO_STATUS_DEVICE_NEEDS_RESET = 0x40;
export const VIRTIO_STATUS_FAILED = 0x80;

/** Reserved (transport/ring) feature bit numbers (section 6). */
export const VIRTIO_F_RING_INDIRECT_DESC = 28;
export const VIRTIO_F_RING_EVENT_IDX = 29;
export const VIRTIO_F_VERSION_1 = 32;
export const VIRTIO_F_ACCESS_PLATFORM = 33;

/** Split virtqueue descriptor flags (section 2.7.5). */
export const VIRTQ_DESC_F_NEXT = 1;
export const VIRTQ_DESC_F_WRITE = 2;
export const VIRTQ_DESC_F_INDIRECT = 4;
/** Available ring flag: the driver does not want used-buffer interrupts (section 2.7.7). */
export const VIRTQ_AVAIL_F_NO_INTERRUPT = 1;
/** Used ring flag: the device does not want available-buffer notifications. */
export const VIRTQ_USED_F_NO_NOTIFY = 1;
/** Bytes per descriptor table entry. */
export const VIRTQ_DESC_SIZE = 16;

/** Device IDs (section 5). */
export const VIRTIO_ID_NET = 1;
export const VIRTIO_ID_BLOCK = 2;
export const VIRTIO_ID_RNG = 4;

/** A 64-bit feature set with the given bit numbers. */
export function featureBits(...bits: number[]): bigint {
  let f = 0n;
  for (const b of bits) f |= 1n << BigInt(b);
  return f;
}

/** Whether feature bit `bit` is set in `features`. */
export function hasFeatureBit(features: bigint, bit: number): boolean {
  return ((features >> BigInt(bit)) & 1n) === 1n;
}
