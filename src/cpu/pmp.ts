/**
 * Physical memory protection: 16 entries (pmpcfg0..3, pmpaddr0..15) with OFF/TOR/NA4/NAPOT
 * matching and the L bit, following QEMU 7.2 target/riscv/pmp.c:
 * - an access matches the lowest-numbered entry containing its first and last byte; an entry
 *   containing only part of the access makes it fail;
 * - a matching entry grants its R/W/X to S/U always, and to M only when locked (unlocked
 *   entries give M full access);
 * - no matching entry: M is allowed, S/U are denied (also when no entry is active at all, as
 *   QEMU 7.2 does with the PMP feature present).
 * The raw CSR values live in the state arena; the decoded ranges are a derived cache.
 */
import type { StateArena } from '../memory/state-arena.js';

export const PMP_R = 1;
export const PMP_W = 2;
export const PMP_X = 4;
const PMP_L = 0x80;
const A_OFF = 0;
const A_TOR = 1;
const A_NA4 = 2;
const A_NAPOT = 3;

export const PMP_ENTRIES = 16;

/** PMP state of one hart. */
export class Pmp {
  private readonly cfgWord: number;
  private readonly addrWord: number;
  private readonly u32: Uint32Array;
  /** Decoded [start, end] byte ranges (inclusive), as plain numbers (34-bit physical). */
  private readonly start = new Float64Array(PMP_ENTRIES);
  private readonly end = new Float64Array(PMP_ENTRIES);
  private readonly cfg = new Uint8Array(PMP_ENTRIES);
  /** Number of entries whose A field is not OFF. */
  activeRules = 0;
  /** True when some entry is locked (then M-mode accesses need checks too). */
  anyLocked = false;

  constructor(arena: StateArena, owner: string) {
    this.cfgWord = arena.allocate(owner, 'pmpcfg', 4);
    this.addrWord = arena.allocate(owner, 'pmpaddr', PMP_ENTRIES);
    this.u32 = arena.u32;
  }

  /** Clears all entries (reset). */
  reset(): void {
    for (let i = 0; i < 4; i++) this.u32[this.cfgWord + i] = 0;
    for (let i = 0; i < PMP_ENTRIES; i++) this.u32[this.addrWord + i] = 0;
    this.refresh();
  }

  /** Reads pmpcfg`n` (n = 0..3). */
  readCfg(n: number): number {
    return this.u32[this.cfgWord + n]! | 0;
  }

  /** Reads pmpaddr`n`. */
  readAddr(n: number): number {
    return this.u32[this.addrWord + n]! | 0;
  }

  private entryCfg(i: number): number {
    return (this.u32[this.cfgWord + (i >> 2)]! >>> ((i & 3) * 8)) & 0xff;
  }

  /** Writes pmpcfg`n`, skipping locked bytes. Returns true when something changed. */
  writeCfg(n: number, value: number): boolean {
    const old = this.u32[this.cfgWord + n]!;
    let v = 0;
    for (let b = 0; b < 4; b++) {
      const oldByte = (old >>> (b * 8)) & 0xff;
      let nb = (value >>> (b * 8)) & 0x9f; // bits 5-6 are reserved, read as zero
      if (oldByte & PMP_L) nb = oldByte;
      v |= nb << (b * 8);
    }
    this.u32[this.cfgWord + n] = v >>> 0;
    this.refresh();
    return (v >>> 0) !== old;
  }

  /** Writes pmpaddr`i` unless it is locked. Returns true when something changed. */
  writeAddr(i: number, value: number): boolean {
    if (this.entryCfg(i) & PMP_L) return false;
    if (i + 1 < PMP_ENTRIES) {
      const next = this.entryCfg(i + 1);
      if ((next & PMP_L) && ((next >> 3) & 3) === A_TOR) return false;
    }
    const old = this.u32[this.addrWord + i]!;
    this.u32[this.addrWord + i] = value >>> 0;
    this.refresh();
    return old !== (value >>> 0);
  }

  /** Recomputes the decoded ranges from the arena (after reset, writes or a state restore). */
  refresh(): void {
    let active = 0;
    let locked = false;
    for (let i = 0; i < PMP_ENTRIES; i++) {
      const c = this.entryCfg(i);
      this.cfg[i] = c;
      const a = (c >> 3) & 3;
      const addr = this.u32[this.addrWord + i]!;
      let s = 0;
      let e = -1;
      if (a === A_TOR) {
        s = i === 0 ? 0 : this.u32[this.addrWord + i - 1]! * 4;
        e = addr * 4 - 1;
      } else if (a === A_NA4) {
        s = addr * 4;
        e = s + 3;
      } else if (a === A_NAPOT) {
        let t = 0;
        while (t < 32 && ((addr >>> t) & 1) === 1) t++;
        const size = 2 ** (t + 3);
        const base = t >= 31 ? 0 : (addr & ~((2 ** (t + 1)) - 1)) >>> 0;
        s = t >= 31 ? 0 : base * 4;
        e = s + size - 1;
      }
      this.start[i] = s;
      this.end[i] = e;
      if (a !== A_OFF) active++;
      if (c & PMP_L) locked = true;
    }
    this.activeRules = active;
    this.anyLocked = locked;
  }

  /**
   * Checks an access of `size` bytes at physical `addr` needing `perm` (PMP_R/W/X) from
   * privilege `mode`. Returns true when allowed.
   */
  check(addr: number, size: number, perm: number, mode: number): boolean {
    if (this.activeRules === 0) return mode === 3;
    const last = addr + size - 1;
    for (let i = 0; i < PMP_ENTRIES; i++) {
      const c = this.cfg[i]!;
      if (((c >> 3) & 3) === A_OFF) continue;
      const s = this.start[i]!;
      const e = this.end[i]!;
      const inFirst = addr >= s && addr <= e;
      const inLast = last >= s && last <= e;
      if (!inFirst && !inLast) continue;
      if (inFirst !== inLast) return false;
      if (mode === 3 && (c & PMP_L) === 0) return true;
      return (c & perm) === perm;
    }
    return mode === 3;
  }

  /**
   * True when the 4 KiB page at `page` has one PMP outcome for `perm` from `mode` and that
   * outcome is "allowed", so a TLB entry may cache it.
   */
  pageAllowed(page: number, perm: number, mode: number): boolean {
    if (this.activeRules === 0) return mode === 3;
    const last = page + 4095;
    for (let i = 0; i < PMP_ENTRIES; i++) {
      if (((this.cfg[i]! >> 3) & 3) === A_OFF) continue;
      const s = this.start[i]!;
      const e = this.end[i]!;
      if (e < page || s > last) continue;
      if (!(s <= page && e >= last)) return false;
    }
    return this.check(page, 4096, perm, mode);
  }
}
