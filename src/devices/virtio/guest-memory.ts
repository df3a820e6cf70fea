/**
 * Device-side access to guest RAM for virtio (DMA): bounds checks that accept 64-bit guest
 * addresses as JS numbers, little-endian ring fields, and scatter/gather over descriptor
 * segments. Every store goes through `Ram.writeBytes` or `Ram.markWritten`, so page write
 * generations move and the CPU's decode cache notices the change.
 *
 * The ring index fields (avail.idx, used.idx) are read and written with `Atomics` when they
 * are aligned, so that on the threaded machine the used elements written before `used.idx`
 * are visible to the vCPU thread once it sees the new index (release/acquire through the
 * sequentially consistent Atomics operations).
 */
import type { Ram } from '../../memory/ram.js';

/** One guest buffer of a descriptor chain: `len` bytes at guest physical address `addr`. */
export interface Segment {
  readonly addr: number;
  readonly len: number;
}

/** Bounds-checked little-endian access to guest RAM. Reads and writes assume `contains` was checked. */
export class GuestMemory {
  readonly ram: Ram;

  constructor(ram: Ram) {
    this.ram = ram;
  }

  /** True when [addr, addr+len) lies wholly in RAM; `addr` may be any non-negative number (64-bit addresses). */
  contains(addr: number, len: number): boolean {
    const base = this.ram.base;
    return Number.isFinite(addr) && addr >= base && len >= 0 && addr + len <= base + this.ram.size;
  }

  private off(addr: number): number {
    return addr - this.ram.base;
  }

  /** Reads a little-endian u16 (atomically when aligned). */
  ld16(addr: number): number {
    const o = this.off(addr);
    if ((o & 1) === 0) return Atomics.load(this.ram.u16, o >>> 1);
    const u8 = this.ram.u8;
    return u8[o]! | (u8[o + 1]! << 8);
  }

  /** Reads a little-endian u32. */
  ld32(addr: number): number {
    const o = this.off(addr);
    if ((o & 3) === 0) return this.ram.u32[o >>> 2]!;
    const u8 = this.ram.u8;
    return (u8[o]! | (u8[o + 1]! << 8) | (u8[o + 2]! << 16) | (u8[o + 3]! << 24)) >>> 0;
  }

  /** Reads a little-endian u64 as a number (exact below 2^53; larger values are only compared against RAM bounds). */
  ld64(addr: number): number {
    return this.ld32(addr + 4) * 0x1_0000_0000 + this.ld32(addr);
  }

  /** Writes a little-endian u16 (atomically when aligned) and marks the page written. */
  st16(addr: number, value: number): void {
    const o = this.off(addr);
    if ((o & 1) === 0) {
      Atomics.store(this.ram.u16, o >>> 1, value & 0xffff);
    } else {
      this.ram.u8[o] = value & 0xff;
      this.ram.u8[o + 1] = (value >>> 8) & 0xff;
      this.ram.markWritten(o + 1);
    }
    this.ram.markWritten(o);
  }

  /** Writes a little-endian u32 and marks the page(s) written. */
  st32(addr: number, value: number): void {
    const o = this.off(addr);
    if ((o & 3) === 0) {
      this.ram.u32[o >>> 2] = value >>> 0;
    } else {
      for (let i = 0; i < 4; i++) this.ram.u8[o + i] = (value >>> (8 * i)) & 0xff;
      this.ram.markWritten(o + 3);
    }
    this.ram.markWritten(o);
  }

  /** Copies `len` bytes out of guest RAM. */
  read(addr: number, len: number): Uint8Array {
    return this.ram.readBytes(addr, len);
  }

  /** Copies bytes into guest RAM (bumps page write generations). */
  write(addr: number, data: Uint8Array): void {
    this.ram.writeBytes(addr, data);
  }
}

/** Total length of a segment list. */
export function segmentsLength(segments: readonly Segment[]): number {
  let n = 0;
  for (const s of segments) n += s.len;
  return n;
}

/**
 * Copies `length` bytes starting `offset` bytes into the concatenation of `segments` out of
 * guest RAM. Returns fewer bytes when the segments end first.
 */
export function gather(mem: GuestMemory, segments: readonly Segment[], offset: number, length: number): Uint8Array {
  const out = new Uint8Array(Math.max(0, Math.min(length, segmentsLength(segments) - offset)));
  let skip = offset;
  let pos = 0;
  for (const s of segments) {
    if (pos >= out.length) break;
    if (skip >= s.len) {
      skip -= s.len;
      continue;
    }
    const n = Math.min(s.len - skip, out.length - pos);
    const start = s.addr - mem.ram.base + skip;
    out.set(mem.ram.u8.subarray(start, start + n), pos);
    pos += n;
    skip = 0;
  }
  return out;
}

/**
 * Copies `data` into the concatenation of `segments`, starting `offset` bytes in; stops when
 * the segments end. Returns the number of bytes written.
 */
export function scatter(mem: GuestMemory, segments: readonly Segment[], offset: number, data: Uint8Array): number {
  let skip = offset;
  let pos = 0;
  for (const s of segments) {
    if (pos >= data.length) break;
    if (skip >= s.len) {
      skip -= s.len;
      continue;
    }
    const n = Math.min(s.len - skip, data.length - pos);
    mem.write(s.addr + skip, data.subarray(pos, pos + n));
    pos += n;
    skip = 0;
  }
  return pos;
}

/** The segments with the last `bytes` bytes cut off (e.g. a trailing status byte). */
export function trimEnd(segments: readonly Segment[], bytes: number): Segment[] {
  const out: Segment[] = [];
  let keep = segmentsLength(segments) - bytes;
  for (const s of segments) {
    if (keep <= 0) break;
    const len = Math.min(s.len, keep);
    out.push({ addr: s.addr, len });
    keep -= len;
  }
  return out;
}
