/**
 * The hart's control and status registers: the CSR table (read and write with their WARL masks
 * and side effects), the access checks (privilege, read-only, counter enables) and the 64-bit
 * mcycle/minstret counters. The CSR words live in the hart's `csr` arena field (the interpreter
 * reads mstatus, mie, satp ... directly from {@link CsrFile.c}); this file is the slow path of
 * the Zicsr instructions and of the HartApi's csrRead/csrWrite.
 */
import {
  C_MCAUSE, C_MCOUNTEREN, C_MCOUNTINHIBIT, C_MEDELEG, C_MENVCFG, C_MEPC, C_MIDELEG, C_MIE, C_MSCRATCH, C_MSTATUS,
  C_MTVAL, C_MTVEC, C_SATP, C_SCAUSE, C_SCOUNTEREN, C_SENVCFG, C_SEPC, C_SSCRATCH, C_STVAL, C_STVEC, CSR_WORDS,
  M_MIP, MISA_VALUE, MSTATUS_MIE, MSTATUS_MPIE, MSTATUS_MPP, MSTATUS_MPRV, MSTATUS_MXR, MSTATUS_SIE, MSTATUS_SPIE,
  MSTATUS_SPP, MSTATUS_SUM, MSTATUS_TSR, MSTATUS_TVM, MSTATUS_TW, TWO32,
} from './arch.js';
import type { GuestTime } from './hart-api.js';
import { PRIV_M, PRIV_S, PRIV_U } from './hart-api.js';
import { DELEGABLE_INTS, MIE_MASK, MIP_SSIP } from './interrupts.js';
import type { Pmp } from './pmp.js';

const MSTATUS_WMASK = MSTATUS_SIE | MSTATUS_MIE | MSTATUS_SPIE | MSTATUS_MPIE | MSTATUS_SPP | MSTATUS_MPP |
  MSTATUS_MPRV | MSTATUS_SUM | MSTATUS_MXR | MSTATUS_TVM | MSTATUS_TW | MSTATUS_TSR;
const SSTATUS_MASK = MSTATUS_SIE | MSTATUS_SPIE | MSTATUS_SPP | MSTATUS_SUM | MSTATUS_MXR;
/** mstatus bits whose change invalidates cached translations. */
const TLB_AFFECTING = MSTATUS_MPRV | MSTATUS_MPP | MSTATUS_SUM | MSTATUS_MXR;
/** Exceptions medeleg can delegate (all defined causes but ecall-from-M). */
const DELEGABLE_EXCPS = 0xb3ff;

/** {@link CsrFile.write}: the write was done. */
export const CSR_WRITTEN = 0;
/** {@link CsrFile.write}: the write was done and cached translations must be dropped. */
export const CSR_WRITTEN_FLUSH = 1;
/** {@link CsrFile.write}: no such CSR (an illegal instruction). */
export const CSR_UNIMPLEMENTED = 2;

/**
 * Steps the running `run` has executed but not yet committed to the counters: mcycle and
 * minstret read live values (0, 0 outside `run`). The hart owns this object and updates it.
 */
export interface LiveCounts {
  cycles: number;
  instret: number;
}

/** One hart's CSRs. */
export class CsrFile {
  /** Set by {@link read} when the CSR does not exist; the caller clears it. */
  unimplemented = false;

  /**
   * @param c the CSR words (offsets C_* in arch.ts, CSR_WORDS long), an arena view the
   *   interpreter also reads directly.
   * @param counters mcycle (2 words) then minstret (2 words), low word first, an arena view.
   * @param misc the hart's misc words (mip lives there, shared with the interrupt controllers).
   * @param live the steps of the run in progress (see LiveCounts); the hart keeps it current
   *   before each call.
   */
  constructor(
    readonly c: Int32Array,
    private readonly counters: Uint32Array,
    private readonly misc: Int32Array,
    private readonly pmp: Pmp,
    private readonly time: GuestTime,
    private readonly hartId: number,
    private readonly live: LiveCounts,
  ) {
    if (c.length !== CSR_WORDS || counters.length !== 4) throw new RangeError(`CsrFile needs ${CSR_WORDS} CSR words and 4 counter words, got ${c.length} and ${counters.length}`);
  }

  /** Zeroes every CSR and counter (hart reset). */
  reset(): void {
    this.c.fill(0);
    this.counters.fill(0);
  }

  /** Privilege, read-only and counter-enable checks for an access at privilege `priv`. */
  allowed(csr: number, write: boolean, priv: number, ms: number): boolean {
    if (((csr >>> 8) & 3) > priv) return false;
    if (write && (csr >>> 10) === 3) return false;
    if (csr === 0x180 && priv === PRIV_S && (ms & MSTATUS_TVM)) return false;
    if ((csr >= 0xc00 && csr <= 0xc1f) || (csr >= 0xc80 && csr <= 0xc9f)) {
      const bit = 1 << (csr & 31);
      if (priv < PRIV_M && (this.c[C_MCOUNTEREN]! & bit) === 0) return false;
      if (priv === PRIV_U && (this.c[C_SCOUNTEREN]! & bit) === 0) return false;
    }
    return true;
  }

  /** Adds a finished run's cycles and retired instructions to mcycle and minstret. */
  commitCounters(cycles: number, instret: number): void {
    if (cycles === 0 && instret === 0) return;
    const c = this.counters;
    for (let w = 0; w < 2; w++) {
      const add = w === 0 ? cycles : instret;
      const lo = c[w * 2]! + add;
      c[w * 2] = lo % TWO32;
      c[w * 2 + 1] = (c[w * 2 + 1]! + Math.floor(lo / TWO32)) >>> 0;
    }
  }

  /** 64-bit counter value: 0 = mcycle, 1 = minstret. */
  private counter(which: number): number {
    const c = this.counters;
    return c[which * 2]! + c[which * 2 + 1]! * TWO32 + (which === 0 ? this.live.cycles : this.live.instret);
  }

  private setCounter(which: number, v: number): void {
    v -= which === 0 ? this.live.cycles : this.live.instret;
    if (v < 0) v += 2 ** 64;
    this.counters[which * 2] = v % TWO32;
    this.counters[which * 2 + 1] = Math.floor(v / TWO32) % TWO32;
  }

  /** Reads a CSR without privilege checks; sets {@link unimplemented} (and returns 0) when there is none. */
  read(csr: number): number {
    const c = this.c;
    switch (csr) {
      case 0x300: return c[C_MSTATUS]!;
      case 0x301: return MISA_VALUE;
      case 0x302: return c[C_MEDELEG]!;
      case 0x303: return c[C_MIDELEG]!;
      case 0x304: return c[C_MIE]!;
      case 0x305: return c[C_MTVEC]!;
      case 0x306: return c[C_MCOUNTEREN]!;
      case 0x30a: return c[C_MENVCFG]!;
      case 0x310: case 0x31a: return 0;
      case 0x320: return c[C_MCOUNTINHIBIT]!;
      case 0x340: return c[C_MSCRATCH]!;
      case 0x341: return c[C_MEPC]!;
      case 0x342: return c[C_MCAUSE]!;
      case 0x343: return c[C_MTVAL]!;
      case 0x344: return Atomics.load(this.misc, M_MIP);
      case 0x100: return c[C_MSTATUS]! & SSTATUS_MASK;
      case 0x104: return c[C_MIE]! & c[C_MIDELEG]!;
      case 0x105: return c[C_STVEC]!;
      case 0x106: return c[C_SCOUNTEREN]!;
      case 0x10a: return c[C_SENVCFG]!;
      case 0x140: return c[C_SSCRATCH]!;
      case 0x141: return c[C_SEPC]!;
      case 0x142: return c[C_SCAUSE]!;
      case 0x143: return c[C_STVAL]!;
      case 0x144: return Atomics.load(this.misc, M_MIP) & c[C_MIDELEG]!;
      case 0x180: return c[C_SATP]!;
      case 0xb00: case 0xc00: return this.counter(0) % TWO32 | 0;
      case 0xb80: case 0xc80: return Math.floor(this.counter(0) / TWO32) | 0;
      case 0xb02: case 0xc02: return this.counter(1) % TWO32 | 0;
      case 0xb82: case 0xc82: return Math.floor(this.counter(1) / TWO32) | 0;
      case 0xc01: return this.time.mtime() % TWO32 | 0;
      case 0xc81: return Math.floor(this.time.mtime() / TWO32) | 0;
      case 0xf11: case 0xf12: case 0xf13: case 0xf15: return 0;
      case 0xf14: return this.hartId;
    }
    if (csr >= 0x3a0 && csr <= 0x3a3) return this.pmp.readCfg(csr - 0x3a0);
    if (csr >= 0x3b0 && csr <= 0x3bf) return this.pmp.readAddr(csr - 0x3b0);
    if ((csr >= 0xb03 && csr <= 0xb1f) || (csr >= 0xb83 && csr <= 0xb9f) || (csr >= 0x323 && csr <= 0x33f) ||
      (csr >= 0xc03 && csr <= 0xc1f) || (csr >= 0xc83 && csr <= 0xc9f)) return 0;
    this.unimplemented = true;
    return 0;
  }

  /**
   * Writes a CSR without privilege checks (WARL masks and side effects apply). Returns
   * CSR_WRITTEN, CSR_WRITTEN_FLUSH (drop cached translations) or CSR_UNIMPLEMENTED.
   */
  write(csr: number, v: number): number {
    const c = this.c;
    switch (csr) {
      case 0x300: return this.writeMstatus((c[C_MSTATUS]! & ~MSTATUS_WMASK) | (v & MSTATUS_WMASK));
      case 0x100: return this.writeMstatus((c[C_MSTATUS]! & ~SSTATUS_MASK) | (v & SSTATUS_MASK));
      case 0x301: case 0x310: case 0x31a: return CSR_WRITTEN;
      case 0x302: c[C_MEDELEG] = v & DELEGABLE_EXCPS; return CSR_WRITTEN;
      case 0x303: c[C_MIDELEG] = v & DELEGABLE_INTS; return CSR_WRITTEN;
      case 0x304: c[C_MIE] = v & MIE_MASK; return CSR_WRITTEN;
      case 0x104: { const m = c[C_MIDELEG]!; c[C_MIE] = (c[C_MIE]! & ~m) | (v & m); return CSR_WRITTEN; }
      case 0x305: if ((v & 3) < 2) c[C_MTVEC] = v; return CSR_WRITTEN;
      case 0x105: if ((v & 3) < 2) c[C_STVEC] = v; return CSR_WRITTEN;
      case 0x306: c[C_MCOUNTEREN] = v; return CSR_WRITTEN;
      case 0x106: c[C_SCOUNTEREN] = v; return CSR_WRITTEN;
      case 0x30a: c[C_MENVCFG] = v & 1; return CSR_WRITTEN;
      case 0x10a: c[C_SENVCFG] = v & 1; return CSR_WRITTEN;
      case 0x320: c[C_MCOUNTINHIBIT] = v & ~2; return CSR_WRITTEN;
      case 0x340: c[C_MSCRATCH] = v; return CSR_WRITTEN;
      case 0x140: c[C_SSCRATCH] = v; return CSR_WRITTEN;
      case 0x341: c[C_MEPC] = v & ~1; return CSR_WRITTEN;
      case 0x141: c[C_SEPC] = v & ~1; return CSR_WRITTEN;
      case 0x342: c[C_MCAUSE] = v; return CSR_WRITTEN;
      case 0x142: c[C_SCAUSE] = v; return CSR_WRITTEN;
      case 0x343: c[C_MTVAL] = v; return CSR_WRITTEN;
      case 0x143: c[C_STVAL] = v; return CSR_WRITTEN;
      case 0x344: this.writeMip(DELEGABLE_INTS, v); return CSR_WRITTEN;
      case 0x144: this.writeMip(MIP_SSIP & c[C_MIDELEG]!, v); return CSR_WRITTEN;
      case 0x180:
        if (c[C_SATP] === v) return CSR_WRITTEN;
        c[C_SATP] = v;
        return CSR_WRITTEN_FLUSH;
      case 0xb00: this.setCounter(0, (v >>> 0) + Math.floor(this.counter(0) / TWO32) * TWO32); return CSR_WRITTEN;
      case 0xb80: this.setCounter(0, (this.counter(0) % TWO32) + (v >>> 0) * TWO32); return CSR_WRITTEN;
      case 0xb02: this.setCounter(1, (v >>> 0) + Math.floor(this.counter(1) / TWO32) * TWO32); return CSR_WRITTEN;
      case 0xb82: this.setCounter(1, (this.counter(1) % TWO32) + (v >>> 0) * TWO32); return CSR_WRITTEN;
    }
    if (csr >= 0x3a0 && csr <= 0x3a3) return this.pmp.writeCfg(csr - 0x3a0, v) ? CSR_WRITTEN_FLUSH : CSR_WRITTEN;
    if (csr >= 0x3b0 && csr <= 0x3bf) return this.pmp.writeAddr(csr - 0x3b0, v) ? CSR_WRITTEN_FLUSH : CSR_WRITTEN;
    if ((csr >= 0xb03 && csr <= 0xb1f) || (csr >= 0xb83 && csr <= 0xb9f) || (csr >= 0x323 && csr <= 0x33f)) return CSR_WRITTEN;
    if ((csr >= 0xc00 && csr <= 0xc1f) || (csr >= 0xc80 && csr <= 0xc9f) || (csr >= 0xf11 && csr <= 0xf15)) return CSR_WRITTEN;
    return CSR_UNIMPLEMENTED;
  }

  private writeMstatus(n: number): number {
    const c = this.c;
    if (((n & MSTATUS_MPP) >>> 11) === 2) n = (n & ~MSTATUS_MPP) | (c[C_MSTATUS]! & MSTATUS_MPP);
    const old = c[C_MSTATUS]!;
    c[C_MSTATUS] = n;
    return (old ^ n) & TLB_AFFECTING ? CSR_WRITTEN_FLUSH : CSR_WRITTEN;
  }

  private writeMip(mask: number, v: number): void {
    Atomics.and(this.misc, M_MIP, ~(mask & ~v));
    Atomics.or(this.misc, M_MIP, mask & v);
  }
}
