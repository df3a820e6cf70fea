/**
 * The PLIC of QEMU's `virt` board (hw/intc/sifive_plic.c as configured by hw/riscv/virt.c):
 * 96 sources (source 0 is reserved), 3 priority bits (levels 0..7), two contexts per hart:
 * context 2h is hart h's M-mode (drives MEIP), context 2h+1 its S-mode (drives SEIP).
 *
 * Layout: priority 0x0 + 4*src, pending bits 0x1000, enable bits 0x2000 + 0x80*ctx,
 * threshold 0x200000 + 0x1000*ctx, claim/complete 0x200004 + 0x1000*ctx. The `virt` memory
 * map reserves 0x600000 bytes (room for 512 harts); unused offsets read 0, writes ignored.
 *
 * Sources are level-triggered. The pending bit follows the line (a high line sets it, a low
 * line clears it, as QEMU 7.2 does); a claim clears pending and marks the source claimed;
 * completion un-claims it and, if the line is still high, makes it pending again.
 *
 * State in the arena (owner `plic`): `priority` (1 word per source), `pending`, `claimed`,
 * `level` (bit arrays, 1 word per 32 sources), `enable` (bit array per context), `threshold`
 * (1 word per context), `outputs` (1 word per context: the level driven into the hart).
 */
import type { MmioDevice } from '../../memory/address-map.js';
import type { StateArena } from '../../memory/state-arena.js';
import { MIP_MEIP, MIP_SEIP, type HartInterruptPins } from '../../cpu/index.js';
import type { IrqLine } from '../irq.js';
import { narrowRead } from '../register-access.js';

/** Number of interrupt sources of the `virt` PLIC (VIRT_IRQCHIP_NUM_SOURCES in QEMU 7.2), including reserved source 0. */
export const VIRT_PLIC_NUM_SOURCES = 96;
/** Highest priority level (VIRT_IRQCHIP_NUM_PRIO_BITS = 3). */
export const VIRT_PLIC_NUM_PRIORITIES = 7;
/** Size of the PLIC's range in the `virt` memory map (VIRT_PLIC_SIZE(VIRT_CPUS_MAX * 2)). */
export const VIRT_PLIC_SIZE = 0x600000;

const PRIORITY_BASE = 0x0;
const PENDING_BASE = 0x1000;
const ENABLE_BASE = 0x2000;
const ENABLE_STRIDE = 0x80;
const CONTEXT_BASE = 0x200000;
const CONTEXT_STRIDE = 0x1000;

/** Platform-level interrupt controller with state in the arena. */
export class Plic implements MmioDevice {
  private readonly u32: Uint32Array;
  private readonly words: number;
  private readonly contexts: number;
  private readonly priority: number;
  private readonly pending: number;
  private readonly claimed: number;
  private readonly level: number;
  private readonly enable: number;
  private readonly threshold: number;
  private readonly outputs: number;
  private readonly lines: IrqLine[] = [];

  /**
   * @param arena state arena (owner `plic`).
   * @param harts interrupt pins of each hart, indexed by hart id.
   * @param numSources number of sources including reserved source 0 (`VIRT_PLIC_NUM_SOURCES`).
   */
  constructor(arena: StateArena, private readonly harts: readonly HartInterruptPins[], private readonly numSources: number) {
    if (!Number.isInteger(numSources) || numSources < 2 || numSources > 1024) {
      throw new RangeError(`PLIC: bad number of sources ${numSources}`);
    }
    this.u32 = arena.u32;
    this.words = Math.ceil(numSources / 32);
    this.contexts = 2 * harts.length;
    this.priority = arena.allocate('plic', 'priority', numSources);
    this.pending = arena.allocate('plic', 'pending', this.words);
    this.claimed = arena.allocate('plic', 'claimed', this.words);
    this.level = arena.allocate('plic', 'level', this.words);
    this.enable = arena.allocate('plic', 'enable', this.words * this.contexts);
    this.threshold = arena.allocate('plic', 'threshold', this.contexts);
    this.outputs = arena.allocate('plic', 'outputs', this.contexts);
    for (let s = 0; s < numSources; s++) {
      this.lines.push({ set: (lvl: boolean) => this.setLine(s, lvl) });
    }
    this.reset();
  }

  /** Reset: everything zero, outputs lowered. Line levels are kept (devices own them). */
  reset(): void {
    for (let s = 0; s < this.numSources; s++) this.u32[this.priority + s] = 0;
    for (let w = 0; w < this.words; w++) {
      this.u32[this.claimed + w] = 0;
      this.u32[this.pending + w] = this.u32[this.level + w]!;
    }
    for (let i = 0; i < this.words * this.contexts; i++) this.u32[this.enable + i] = 0;
    for (let c = 0; c < this.contexts; c++) {
      this.u32[this.threshold + c] = 0;
      this.u32[this.outputs + c] = 0;
      this.harts[c >> 1]!.setInterruptPending((c & 1) === 0 ? MIP_MEIP : MIP_SEIP, false);
    }
  }

  /** The input line of `source` (1 .. numSources-1). Source 0 is reserved. */
  irqLine(source: number): IrqLine {
    if (!Number.isInteger(source) || source <= 0 || source >= this.numSources) {
      throw new RangeError(`PLIC: no interrupt source ${source}`);
    }
    return this.lines[source]!;
  }

  private bit(base: number, s: number): boolean {
    return ((this.u32[base + (s >>> 5)]! >>> (s & 31)) & 1) !== 0;
  }

  private setBit(base: number, s: number, v: boolean): void {
    const i = base + (s >>> 5);
    const m = 1 << (s & 31);
    this.u32[i] = v ? this.u32[i]! | m : this.u32[i]! & ~m;
  }

  private setLine(source: number, lvl: boolean): void {
    this.setBit(this.level, source, lvl);
    this.setBit(this.pending, source, lvl);
    this.update();
  }

  /** The best claimable source for a context (priority above threshold, pending, enabled, unclaimed), or 0. */
  private best(ctx: number): number {
    let maxIrq = 0;
    let maxPrio = this.u32[this.threshold + ctx]!;
    const en = this.enable + ctx * this.words;
    for (let w = 0; w < this.words; w++) {
      let bits = (this.u32[this.pending + w]! & ~this.u32[this.claimed + w]! & this.u32[en + w]!) >>> 0;
      while (bits !== 0) {
        const j = 31 - Math.clz32(bits & -bits);
        bits &= bits - 1;
        const irq = (w << 5) + j;
        if (irq >= this.numSources) break;
        const prio = this.u32[this.priority + irq]!;
        if (prio > maxPrio) {
          maxIrq = irq;
          maxPrio = prio;
        }
      }
    }
    return maxIrq;
  }

  /** Recomputes every context's output and drives MEIP/SEIP. */
  private update(): void {
    for (let c = 0; c < this.contexts; c++) {
      const out = this.best(c) !== 0;
      this.u32[this.outputs + c] = out ? 1 : 0;
      this.harts[c >> 1]!.setInterruptPending((c & 1) === 0 ? MIP_MEIP : MIP_SEIP, out);
    }
  }

  /** Claims for context `ctx` (as a read of its claim register does). */
  claim(ctx: number): number {
    const irq = this.best(ctx);
    if (irq !== 0) {
      this.setBit(this.pending, irq, false);
      this.setBit(this.claimed, irq, true);
    }
    this.update();
    return irq;
  }

  /** Completes `source` (as a write to a claim/complete register does). */
  complete(source: number): void {
    if (source <= 0 || source >= this.numSources) return;
    this.setBit(this.claimed, source, false);
    if (this.bit(this.level, source)) this.setBit(this.pending, source, true);
    this.update();
  }

  /** 32-bit registers; narrower reads return the addressed bytes. */
  read(offset: number, size: 1 | 2 | 4): number {
    return narrowRead(this.readWord(offset & ~3), offset, size);
  }

  private readWord(offset: number): number {
    if (offset >= PRIORITY_BASE && offset < PRIORITY_BASE + 4 * this.numSources) {
      return this.u32[this.priority + ((offset - PRIORITY_BASE) >>> 2)]!;
    }
    if (offset >= PENDING_BASE && offset < PENDING_BASE + 4 * this.words) {
      return this.u32[this.pending + ((offset - PENDING_BASE) >>> 2)]!;
    }
    if (offset >= ENABLE_BASE && offset < ENABLE_BASE + ENABLE_STRIDE * this.contexts) {
      const ctx = Math.floor((offset - ENABLE_BASE) / ENABLE_STRIDE);
      const w = ((offset - ENABLE_BASE) % ENABLE_STRIDE) >>> 2;
      return w < this.words ? this.u32[this.enable + ctx * this.words + w]! : 0;
    }
    if (offset >= CONTEXT_BASE && offset < CONTEXT_BASE + CONTEXT_STRIDE * this.contexts) {
      const ctx = Math.floor((offset - CONTEXT_BASE) / CONTEXT_STRIDE);
      const reg = (offset - CONTEXT_BASE) % CONTEXT_STRIDE;
      if (reg === 0) return this.u32[this.threshold + ctx]!;
      if (reg === 4) return this.claim(ctx);
    }
    return 0;
  }

  /** 32-bit registers; narrower writes are treated as 32-bit writes of the zero-extended value (as QEMU's 4-byte-only region would reject them, we accept them leniently). */
  write(offset: number, _size: 1 | 2 | 4, value: number): void {
    const v = value >>> 0;
    offset &= ~3;
    if (offset >= PRIORITY_BASE && offset < PRIORITY_BASE + 4 * this.numSources) {
      const src = (offset - PRIORITY_BASE) >>> 2;
      if (src === 0) return; // source 0 does not exist
      this.u32[this.priority + src] = v & VIRT_PLIC_NUM_PRIORITIES;
      this.update();
      return;
    }
    if (offset >= PENDING_BASE && offset < PENDING_BASE + 4 * this.words) return; // read-only in QEMU 7.2
    if (offset >= ENABLE_BASE && offset < ENABLE_BASE + ENABLE_STRIDE * this.contexts) {
      const ctx = Math.floor((offset - ENABLE_BASE) / ENABLE_STRIDE);
      const w = ((offset - ENABLE_BASE) % ENABLE_STRIDE) >>> 2;
      if (w < this.words) {
        let mask = 0xffffffff;
        if (w === 0) mask &= ~1; // source 0 cannot be enabled
        const rem = this.numSources - (w << 5);
        if (rem < 32) mask &= (1 << rem) - 1;
        this.u32[this.enable + ctx * this.words + w] = v & mask;
        this.update();
      }
      return;
    }
    if (offset >= CONTEXT_BASE && offset < CONTEXT_BASE + CONTEXT_STRIDE * this.contexts) {
      const ctx = Math.floor((offset - CONTEXT_BASE) / CONTEXT_STRIDE);
      const reg = (offset - CONTEXT_BASE) % CONTEXT_STRIDE;
      if (reg === 0) {
        if (v <= VIRT_PLIC_NUM_PRIORITIES) {
          this.u32[this.threshold + ctx] = v;
          this.update();
        }
      } else if (reg === 4) {
        this.complete(v);
      }
    }
  }
}
