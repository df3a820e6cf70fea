/**
 * Little-endian helpers for building a device's configuration space image and reading fields
 * out of it (virtio 1.x configuration space is little-endian).
 */

/** A little-endian byte image of a configuration structure. */
export class ConfigImage {
  readonly bytes: Uint8Array;

  constructor(size: number) {
    this.bytes = new Uint8Array(size);
  }

  u8(offset: number, v: number): this {
    this.bytes[offset] = v & 0xff;
    return this;
  }

  u16(offset: number, v: number): this {
    this.bytes[offset] = v & 0xff;
    this.bytes[offset + 1] = (v >>> 8) & 0xff;
    return this;
  }

  u32(offset: number, v: number): this {
    for (let i = 0; i < 4; i++) this.bytes[offset + i] = (v >>> (8 * i)) & 0xff;
    return this;
  }

  /** A 64-bit field from a non-negative integer number (exact up to 2^53). */
  u64(offset: number, v: number): this {
    this.u32(offset, v % 0x1_0000_0000);
    this.u32(offset + 4, Math.floor(v / 0x1_0000_0000));
    return this;
  }

  /** Reads `size` bytes at `offset` as an unsigned little-endian number. */
  read(offset: number, size: 1 | 2 | 4): number {
    let v = 0;
    for (let i = size - 1; i >= 0; i--) v = v * 256 + (this.bytes[offset + i] ?? 0);
    return v >>> 0;
  }
}
