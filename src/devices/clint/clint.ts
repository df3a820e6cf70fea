/**
 * The CLINT of QEMU's `virt` board (SiFive CLINT layout, QEMU hw/intc/riscv_aclint.c):
 * msip[h] at 0x0000 + 4h, mtimecmp[h] at 0x4000 + 8h (64-bit, two 32-bit halves) and mtime
 * at 0xBFF8. Size 0x10000.
 *
 * State in the arena (owner `clint`): `msip` (1 word per hart), `mtimecmp` (2 words per hart,
 * low first), `armed` (1 word per hart), `mtimeDelta` (2 words, signed 64-bit offset added to
 * the board's time source when the guest writes mtime).
 *
 * As in QEMU 7.2, mtimecmp resets to 0 and MTIP is only evaluated for a hart once its mtimecmp
 * has been written (QEMU arms its timer on that write); `armed` records this. Writing mtime
 * re-evaluates (and arms) every hart, as QEMU does.
 */
import type { MmioDevice } from '../../memory/address-map.js';
import type { StateArena } from '../../memory/state-arena.js';
import { MIP_MSIP, MIP_MTIP, type HartInterruptPins } from '../../cpu/index.js';
import { narrowRead } from '../register-access.js';

/** Size of the CLINT's MMIO range on `virt`. */
export const CLINT_SIZE = 0x10000;
/** Offset of the first msip register. */
export const CLINT_MSIP_BASE = 0x0;
/** Offset of the first mtimecmp register. */
export const CLINT_MTIMECMP_BASE = 0x4000;
/** Offset of mtime. */
export const CLINT_MTIME = 0xbff8;

const TWO32 = 4294967296;

/** CLINT: software interrupts and the machine timer for every hart. */
export class Clint implements MmioDevice {
  private readonly u32: Uint32Array;
  private readonly i32: Int32Array;
  private readonly msip: number;
  private readonly cmp: number;
  private readonly armed: number;
  private readonly delta: number;

  /**
   * @param arena state arena (owner `clint`).
   * @param harts the harts' interrupt pins, indexed by hart id.
   * @param time the board's mtime source in 10 MHz ticks (< 2^53).
   */
  constructor(arena: StateArena, private readonly harts: readonly HartInterruptPins[], private readonly time: { mtime(): number }) {
    this.u32 = arena.u32;
    this.i32 = arena.i32;
    const n = harts.length;
    this.msip = arena.allocate('clint', 'msip', n);
    this.cmp = arena.allocate('clint', 'mtimecmp', 2 * n);
    this.armed = arena.allocate('clint', 'armed', n);
    this.delta = arena.allocate('clint', 'mtimeDelta', 2);
    this.reset();
  }

  /** Power-on reset: msip 0, mtimecmp 0 (unarmed), mtime offset 0; lowers MSIP and MTIP. */
  reset(): void {
    for (let h = 0; h < this.harts.length; h++) {
      this.u32[this.msip + h] = 0;
      this.u32[this.cmp + 2 * h] = 0;
      this.u32[this.cmp + 2 * h + 1] = 0;
      this.u32[this.armed + h] = 0;
      this.harts[h]!.setInterruptPending(MIP_MSIP | MIP_MTIP, false);
    }
    this.u32[this.delta] = 0;
    this.u32[this.delta + 1] = 0;
  }

  private mtimeDelta(): number {
    return this.i32[this.delta + 1]! * TWO32 + this.u32[this.delta]!;
  }

  /** mtime as the guest sees it through the CLINT (the board's time plus any guest-written offset). */
  mtime(): number {
    return this.time.mtime() + this.mtimeDelta();
  }

  /** Re-evaluates MTIP of every armed hart: MTIP = mtime >= mtimecmp. Call after time moves. */
  update(): void {
    const now = this.mtime();
    for (let h = 0; h < this.harts.length; h++) {
      if (this.u32[this.armed + h] !== 0) this.harts[h]!.setInterruptPending(MIP_MTIP, now >= this.getMtimecmp(h));
    }
  }

  /** The smallest mtimecmp (in ticks of the board's time source) among armed harts whose MTIP is low; Infinity if none. */
  nextDeadline(): number {
    const now = this.mtime();
    let best = Infinity;
    for (let h = 0; h < this.harts.length; h++) {
      if (this.u32[this.armed + h] === 0) continue;
      const c = this.getMtimecmp(h);
      if (c > now && c < best) best = c;
    }
    return best === Infinity ? Infinity : best - this.mtimeDelta();
  }

  /** mtimecmp of `hart`, in ticks. Values above 2^53 lose precision (2^64-1 reads as 2^64). */
  getMtimecmp(hart: number): number {
    return this.u32[this.cmp + 2 * hart + 1]! * TWO32 + this.u32[this.cmp + 2 * hart]!;
  }

  /** Sets mtimecmp of `hart` (as an SBI set_timer does) and re-evaluates its MTIP. */
  setMtimecmp(hart: number, ticks: number): void {
    const t = Math.max(0, Math.floor(ticks));
    const hi = t >= 2 ** 64 ? 0xffffffff : Math.floor(t / TWO32) >>> 0;
    const lo = t >= 2 ** 64 ? 0xffffffff : t % TWO32;
    this.writeCmp(hart, lo, hi);
  }

  private writeCmp(hart: number, lo: number, hi: number): void {
    this.u32[this.cmp + 2 * hart] = lo >>> 0;
    this.u32[this.cmp + 2 * hart + 1] = hi >>> 0;
    this.u32[this.armed + hart] = 1;
    this.harts[hart]!.setInterruptPending(MIP_MTIP, this.mtime() >= this.getMtimecmp(hart));
  }

  /** Sets or clears MSIP of `hart` (for the firmware's IPIs). */
  setMsip(hart: number, level: boolean): void {
    this.u32[this.msip + hart] = level ? 1 : 0;
    this.harts[hart]!.setInterruptPending(MIP_MSIP, level);
  }

  /** Reads 1, 2 or 4 bytes; 64-bit registers are read in 32-bit halves. */
  read(offset: number, size: 1 | 2 | 4): number {
    return narrowRead(this.readWord(offset & ~3), offset, size);
  }

  private readWord(offset: number): number {
    const n = this.harts.length;
    if (offset < CLINT_MSIP_BASE + 4 * n) return this.u32[this.msip + (offset >>> 2)]!;
    if (offset >= CLINT_MTIMECMP_BASE && offset < CLINT_MTIMECMP_BASE + 8 * n) {
      return this.u32[this.cmp + ((offset - CLINT_MTIMECMP_BASE) >>> 2)]!;
    }
    if (offset === CLINT_MTIME || offset === CLINT_MTIME + 4) {
      const t = this.mtime();
      return offset === CLINT_MTIME ? t % TWO32 : Math.floor(t / TWO32) >>> 0;
    }
    return 0;
  }

  /** Writes 1, 2 or 4 bytes (sub-word writes merge into the 32-bit register). */
  write(offset: number, size: 1 | 2 | 4, value: number): void {
    const aligned = offset & ~3;
    let v = value >>> 0;
    if (size !== 4) {
      const shift = (offset & 3) * 8;
      const mask = (size === 1 ? 0xff : 0xffff) << shift;
      v = ((this.readWord(aligned) & ~mask) | ((v << shift) & mask)) >>> 0;
    }
    const n = this.harts.length;
    if (aligned < CLINT_MSIP_BASE + 4 * n) {
      this.setMsip(aligned >>> 2, (v & 1) !== 0);
      return;
    }
    if (aligned >= CLINT_MTIMECMP_BASE && aligned < CLINT_MTIMECMP_BASE + 8 * n) {
      const rel = aligned - CLINT_MTIMECMP_BASE;
      const hart = rel >>> 3;
      const base = this.cmp + 2 * hart;
      if ((rel & 4) === 0) this.writeCmp(hart, v, this.u32[base + 1]!);
      else this.writeCmp(hart, this.u32[base]!, v);
      return;
    }
    if (aligned === CLINT_MTIME || aligned === CLINT_MTIME + 4) {
      const now = this.mtime();
      let lo = now % TWO32;
      let hi = Math.floor(now / TWO32);
      if (aligned === CLINT_MTIME) lo = v;
      else hi = v;
      const target = hi * TWO32 + lo;
      const newDelta = target - this.time.mtime();
      this.u32[this.delta] = newDelta % TWO32 >>> 0;
      this.i32[this.delta + 1] = Math.floor(newDelta / TWO32) | 0;
      // QEMU re-writes every hart's timecmp, which re-evaluates (and arms) its timer.
      for (let h = 0; h < n; h++) this.writeCmp(h, this.u32[this.cmp + 2 * h]!, this.u32[this.cmp + 2 * h + 1]!);
    }
  }
}
