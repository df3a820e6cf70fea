/**
 * Guest RAM: one SharedArrayBuffer with byte, halfword and word views (little-endian, as the
 * host must be; checked at construction). The CPU reads and writes these views directly on its
 * fast path; devices use `readBytes`/`writeBytes` for DMA.
 *
 * Dirty tracking: every store into RAM that does not come from the CPU fast path goes through
 * `markWritten`, and the CPU calls `markWritten` for the physical page when it stores. The page
 * generation counters let the decode cache notice that a page it decoded has changed, and let
 * later issues hash or save only pages written since a point.
 */

export const PAGE_SHIFT = 12;
export const PAGE_SIZE = 1 << PAGE_SHIFT;

export class RamError extends Error {
  override name = 'RamError';
}

export class Ram {
  readonly base: number;
  readonly size: number;
  readonly buffer: SharedArrayBuffer;
  readonly u8: Uint8Array;
  readonly u16: Uint16Array;
  readonly i32: Int32Array;
  readonly u32: Uint32Array;
  /** Per-page write generation; bumped by `markWritten`. Shared, so another thread sees it. */
  readonly pageGeneration: Int32Array;
  /** Per-page "written since last clearDirty" flags, for hashing and snapshots. */
  readonly dirty: Uint8Array;

  constructor(base: number, size: number, buffer?: SharedArrayBuffer) {
    if (size <= 0 || size % PAGE_SIZE !== 0) throw new RamError(`RAM size ${size} is not a positive multiple of ${PAGE_SIZE}`);
    if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) throw new RamError('host is not little-endian');
    this.base = base >>> 0;
    this.size = size;
    const pages = size >>> PAGE_SHIFT;
    this.buffer = buffer ?? new SharedArrayBuffer(size + pages * 4 + pages);
    this.u8 = new Uint8Array(this.buffer, 0, size);
    this.u16 = new Uint16Array(this.buffer, 0, size >>> 1);
    this.i32 = new Int32Array(this.buffer, 0, size >>> 2);
    this.u32 = new Uint32Array(this.buffer, 0, size >>> 2);
    this.pageGeneration = new Int32Array(this.buffer, size, pages);
    this.dirty = new Uint8Array(this.buffer, size + pages * 4, pages);
  }

  /** True when [paddr, paddr+len) lies wholly in RAM. */
  contains(paddr: number, len = 1): boolean {
    const off = (paddr >>> 0) - this.base;
    return off >= 0 && off + len <= this.size;
  }

  /** Records that the page holding RAM offset `off` was written. */
  markWritten(off: number): void {
    const page = off >>> PAGE_SHIFT;
    this.pageGeneration[page] = (this.pageGeneration[page]! + 1) | 0;
    this.dirty[page] = 1;
  }

  /** Copies bytes out of guest RAM (DMA read). Throws RamError when outside RAM. */
  readBytes(paddr: number, len: number): Uint8Array {
    if (!this.contains(paddr, len)) throw new RamError(`read of ${len} bytes at 0x${(paddr >>> 0).toString(16)} is outside RAM`);
    const off = (paddr >>> 0) - this.base;
    return this.u8.slice(off, off + len);
  }

  /** Copies bytes into guest RAM (DMA write, loaders). Throws RamError when outside RAM. */
  writeBytes(paddr: number, data: Uint8Array): void {
    if (!this.contains(paddr, data.length)) {
      throw new RamError(`write of ${data.length} bytes at 0x${(paddr >>> 0).toString(16)} is outside RAM`);
    }
    const off = (paddr >>> 0) - this.base;
    this.u8.set(data, off);
    const last = data.length === 0 ? off : off + data.length - 1;
    for (let p = off >>> PAGE_SHIFT; p <= last >>> PAGE_SHIFT; p++) this.markWritten(p << PAGE_SHIFT);
  }
}
