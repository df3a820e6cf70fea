/**
 * One RV32IMAC hart with M/S/U modes, Sv32, PMP, Zicsr and Zifencei.
 *
 * Structure of the interpreter (`run`):
 * - Architectural state (x registers, pc, privilege, CSRs, mip, reservation, counters) lives
 *   in the state arena. `x` is a 33-word view: x[32] is a write sink that decoded `rd = x0`
 *   points at, so no instruction needs an `rd !== 0` test.
 * - Instructions are decoded once per physical RAM page into a `DecodedPage` (see decode.ts),
 *   validated against `ram.pageGeneration`, so stores (which bump the generation) and fence.i
 *   invalidate it. Fetch from outside RAM (the boot ROM) or across a page end is decoded each
 *   time into a scratch slot.
 * - The dispatch is one `switch` case per decoded op kind. The block translator (jit/, the
 *   default engine: `loopTranslated`) consumes the same decoded tuples and emits one code
 *   fragment per op kind; it runs hot code and calls back into this file's slow paths
 *   (TranslatorHost), and this loop runs cold code, the tail of a budget and traced runs.
 * - Three software TLBs (fetch, load, store), direct-mapped, 256 entries, map a virtual page to
 *   the RAM offset of its physical page. They hold only RAM pages whose translation and PMP
 *   outcome allow the access for the whole page. Everything else takes the slow path.
 * - Traps are values in the hot loop: an op sets a local trap cause and the trap is entered
 *   after the switch. Nothing in the loop throws or allocates.
 * - One arena word, the signal word, is checked before every step: setInterruptPending,
 *   requestExit, CSR writes, xRET and cache flushes set it (with Atomics, so another thread can),
 *   and the loop then re-checks exit, cached fetch state and pending interrupts.
 * - The slow paths live beside this file: the CSR table and counters (csr.ts), the Sv32 walk
 *   (sv32.ts: the TLBs cache its results), PMP (pmp.ts); constants and the layout of the hart's
 *   arena fields in arch.ts, the interrupt bits in interrupts.ts.
 *
 * Behaviour chosen to match QEMU 7.2: misaligned scalar loads/stores are performed (bytewise),
 * not trapped; misaligned LR traps with cause 4, misaligned SC/AMO with cause 6 (an SC whose
 * address does not match the reservation just fails); SC succeeds when the reserved word still
 * holds the value LR read; PMP with no active entry denies S/U; the page walk sets A (and D on
 * stores) in the PTE; ebreak and ecall have tval 0; illegal instructions put the instruction bits
 * (16 bits for compressed) in tval.
 */
import type { AddressMap } from '../memory/address-map.js';
import type { Ram } from '../memory/ram.js';
import type { StateArena } from '../memory/state-arena.js';
import type { CpuEngine, CpuTracer, GuestTime, HartApi, HartOptions, MachineModeFirmware, PrivilegeMode } from './hart-api.js';
import { PRIV_M, PRIV_S, PRIV_U } from './hart-api.js';
import { DecodedPage, decodeInsn, Op, RD_SINK, SLOTS_PER_PAGE } from './decode.js';
import { Pmp, PMP_R, PMP_W, PMP_X } from './pmp.js';
import {
  ACC_FETCH, ACC_LOAD, ACC_STORE, C_MEDELEG, C_MEPC, C_MCAUSE, C_MIDELEG, C_MIE, C_MSTATUS, C_MTVAL, C_MTVEC, C_SATP,
  C_SCAUSE, C_SEPC, C_STVAL, C_STVEC, CAUSE_BREAKPOINT, CAUSE_ECALL_M, CAUSE_ECALL_S, CAUSE_ECALL_U, CAUSE_FETCH_ACCESS,
  CAUSE_ILLEGAL, CAUSE_LOAD_ACCESS, CAUSE_MISALIGNED_LOAD, CAUSE_MISALIGNED_STORE, CAUSE_STORE_ACCESS, CSR_WORDS, M_MIP,
  M_PC, M_PRIV, M_RES_ADDR, M_RES_VALID, M_RES_VALUE, M_WFI, MISC_WORDS, MSTATUS_MIE, MSTATUS_MPIE, MSTATUS_MPP,
  MSTATUS_MPRV, MSTATUS_SIE, MSTATUS_SPIE, MSTATUS_SPP, MSTATUS_TSR, MSTATUS_TVM, MSTATUS_TW, TWO32,
} from './arch.js';
import { CSR_UNIMPLEMENTED, CSR_WRITTEN_FLUSH, CsrFile, type LiveCounts } from './csr.js';
import { IRQ_ORDER } from './interrupts.js';
import { sv32Walk } from './sv32.js';
import { disassemble } from './disasm.js';
import { SLOT_HEAD, SLOT_TO_END } from './jit/codegen.js';
import { TranslationCache, type TranslatorHost } from './jit/cache.js';

/** Signal word bits: re-check interrupts (and cached fetch state); an exit request. */
const SIG_IRQ = 1;
const SIG_EXIT = 2;

/**
 * Interpreter steps run between two looks at the translation cache, on untranslated code (each
 * look re-enters the interpreter loop and refills its fetch state: 256 cost the boot ~4%).
 */
const INTERP_CHUNK = 1024;

// The translator: 5.7x faster on compute loops, as fast as the interpreter to boot Linux (6
// alternating boots: median 1209 vs 1226 ms) and faster on the guest's `diskbench 16` (read
// 39-48 vs 35-40 MB/s, write equal), since it translates only pages hot enough to repay their
// compilation (cache.ts HOT; issue 15).
let defaultEngine: CpuEngine = 'translator';

/**
 * Selects the engine of harts created without `HartOptions.engine` (the host sets it from its
 * configuration; tests compare both).
 */
export function setDefaultCpuEngine(engine: CpuEngine): void {
  defaultEngine = engine;
}

/** The engine harts get when their options name none. */
export function getDefaultCpuEngine(): CpuEngine {
  return defaultEngine;
}

const TLB_SIZE = 256;
const TLB_MASK = TLB_SIZE - 1;

/** High 32 bits of the unsigned 64-bit product. */
function mulhu(a: number, b: number): number {
  const al = a & 0xffff;
  const ah = a >>> 16;
  const bl = b & 0xffff;
  const bh = b >>> 16;
  const ll = al * bl;
  const lh = al * bh;
  const hl = ah * bl;
  const mid = (ll >>> 16) + (lh & 0xffff) + (hl & 0xffff);
  return (ah * bh + (lh >>> 16) + (hl >>> 16) + (mid >>> 16)) | 0;
}

/** RV32IMAC hart. See the file comment for the interpreter's structure. */
export class Hart implements HartApi, TranslatorHost {
  readonly hartId: number;
  /** The engine `run` uses (the interpreter also runs cold code and traced runs of the translator). */
  readonly engine: CpuEngine;
  /** Exit registers of generated code (TranslatorHost). */
  jPc = 0;
  jSteps = 0;
  jTrap = 0;
  private readonly jit: TranslationCache | undefined;
  private readonly ram: Ram;
  private readonly bus: AddressMap;
  private readonly time: GuestTime;
  private readonly firmware: MachineModeFirmware | undefined;
  private readonly trace: CpuTracer | undefined;
  private readonly traceInsn: boolean;
  private readonly x: Int32Array;
  private readonly csr: Int32Array;
  private readonly misc: Int32Array;
  /** The signal word: checked before every step (SIG_IRQ, SIG_EXIT). */
  private readonly sig: Int32Array;
  private readonly pmp: Pmp;
  /** The CSR table and counters (csr.ts); `csr` is its words, read directly by the loop. */
  private readonly csrs: CsrFile;
  private readonly live: LiveCounts = { cycles: 0, instret: 0 };

  private readonly xTag = new Int32Array(TLB_SIZE).fill(-1);
  private readonly xOff = new Int32Array(TLB_SIZE);
  private readonly rTag = new Int32Array(TLB_SIZE).fill(-1);
  private readonly rOff = new Int32Array(TLB_SIZE);
  private readonly wTag = new Int32Array(TLB_SIZE).fill(-1);
  private readonly wOff = new Int32Array(TLB_SIZE);
  private pages: (DecodedPage | undefined)[];
  private readonly scratch = new DecodedPage();

  /** Pending fault of the last slow-path access (-1: none) and its tval. */
  private fc = -1;
  private ft = 0;
  /** Page selected by the last `setupFetch`. */
  private fDp: DecodedPage;
  private fPage = 0;
  private curSteps = 0;
  private readonly onInterrupt: ((cause: number) => void) | undefined;
  private curTraps = 0;
  private running = false;
  /** Bumped whenever cached fetch state must be dropped (TLB flush, fence.i). */
  private fetchEpoch = 0;

  constructor(options: HartOptions) {
    this.hartId = options.hartId;
    this.ram = options.ram;
    this.bus = options.bus;
    this.time = options.time;
    this.firmware = options.firmware;
    this.trace = options.trace;
    this.onInterrupt = options.onInterrupt;
    this.traceInsn = options.trace?.instruction !== undefined;
    const arena: StateArena = options.arena;
    const owner = `hart${options.hartId}`;
    const xw = arena.allocate(owner, 'x', 32);
    // The x0 write sink holds whatever an instruction last "wrote" to x0: not state (the
    // interpreter and the translator leave different values there), so host-derived.
    const sink = arena.allocate(owner, 'xsink', 1, { host: true });
    if (sink !== xw + 32) throw new Error('x register sink not contiguous');
    this.x = arena.i32.subarray(xw, xw + 33);
    const cw = arena.allocate(owner, 'csr', CSR_WORDS);
    this.csr = arena.i32.subarray(cw, cw + CSR_WORDS);
    const mw = arena.allocate(owner, 'misc', MISC_WORDS);
    this.misc = arena.i32.subarray(mw, mw + MISC_WORDS);
    // The signal word (interrupt re-check and exit requests, often from another thread) is a
    // hint, not guest state: host-derived, so state hashes and digests leave it out.
    const sw = arena.allocate(owner, 'signal', 1, { host: true });
    this.sig = arena.i32.subarray(sw, sw + 1);
    const kw = arena.allocate(owner, 'counters', 4);
    this.pmp = new Pmp(arena, owner);
    this.csrs = new CsrFile(this.csr, arena.u32.subarray(kw, kw + 4), this.misc, this.pmp, this.time, this.hartId, this.live);
    this.pages = new Array<DecodedPage | undefined>(this.ram.size >>> 12).fill(undefined);
    this.fDp = this.scratch;
    this.engine = options.engine ?? defaultEngine;
    const ram = this.ram;
    this.jit = this.engine !== 'translator' ? undefined : new TranslationCache(this.pages.length, {
      x: this.x, u8: ram.u8, u16: ram.u16, i32: ram.i32, gen: ram.pageGeneration, dirty: ram.dirty,
      rTag: this.rTag, rOff: this.rOff, wTag: this.wTag, wOff: this.wOff, sig: this.sig, h: this, mulhu,
    });
  }

  /** Pages translated and V8 compilations so far (0 on the interpreter). */
  get translationStats(): { readonly pages: number; readonly compiled: number } {
    return { pages: this.jit?.translated ?? 0, compiled: this.jit?.compiledByV8 ?? 0 };
  }

  // ---------------------------------------------------------------- public API

  get runSteps(): number {
    return this.curSteps;
  }

  get privilege(): PrivilegeMode {
    return this.misc[M_PRIV]! as PrivilegeMode;
  }

  get waitingForInterrupt(): boolean {
    return this.misc[M_WFI] !== 0;
  }

  reset(pc: number): void {
    this.x.fill(0);
    this.csrs.reset();
    this.misc.fill(0);
    Atomics.store(this.sig, 0, 0);
    this.misc[M_PC] = pc | 0;
    this.misc[M_PRIV] = PRIV_M;
    this.pmp.reset();
    this.pages.fill(undefined);
    this.jit?.clear();
    this.flushCaches();
  }

  /**
   * The pc. Inside `firmware.handleTrap` this is the trap's epc: the trapping instruction for
   * exceptions (an ecall's own address), the next instruction to execute for interrupts.
   * While `run` executes, it is only up to date inside handleTrap.
   */
  getPc(): number {
    return this.misc[M_PC]! | 0;
  }

  setPc(pc: number): void {
    this.misc[M_PC] = pc & ~1;
  }

  getReg(index: number): number {
    return index === 0 ? 0 : this.x[index & 31]! | 0;
  }

  setReg(index: number, value: number): void {
    if (index !== 0) this.x[index & 31] = value | 0;
  }

  setPrivilege(mode: PrivilegeMode): void {
    if (this.misc[M_PRIV] !== mode) {
      this.misc[M_PRIV] = mode;
      this.flushCaches();
    }
    Atomics.or(this.sig, 0, SIG_IRQ);
  }

  csrRead(csr: number): number {
    return this.readCsr(csr & 0xfff) | 0;
  }

  csrWrite(csr: number, value: number): void {
    this.writeCsr(csr & 0xfff, value | 0);
  }

  setInterruptPending(mask: number, level: boolean): void {
    if (level) Atomics.or(this.misc, M_MIP, mask);
    else Atomics.and(this.misc, M_MIP, ~mask);
    Atomics.or(this.sig, 0, SIG_IRQ);
  }

  requestExit(): void {
    Atomics.or(this.sig, 0, SIG_EXIT);
  }

  /**
   * Drops all cached translations and fetch state, and re-derives the PMP ranges from the
   * arena (so calling it after restoring arena state makes every derived cache consistent).
   */
  stateReplaced(): void {
    this.pmp.refresh();
    this.pages.fill(undefined);
    this.jit?.clear();
    this.flushCaches();
  }

  flushTlb(): void {
    this.pmp.refresh();
    this.flushCaches();
  }

  /** Drops the TLBs and the loop's cached fetch page. */
  private flushCaches(): void {
    this.xTag.fill(-1);
    this.rTag.fill(-1);
    this.wTag.fill(-1);
    this.fetchEpoch++;
    Atomics.or(this.sig, 0, SIG_IRQ);
  }

  // ---------------------------------------------------------------- interpreter

  run(maxSteps: number): number {
    const misc = this.misc;
    Atomics.and(this.sig, 0, ~SIG_EXIT);
    if (misc[M_WFI] !== 0) {
      if ((Atomics.load(misc, M_MIP) & this.csr[C_MIE]!) === 0) return 0;
      misc[M_WFI] = 0;
    }
    this.curSteps = 0;
    this.curTraps = 0;
    this.running = true;
    this.sig[0] = this.sig[0]! | SIG_IRQ;
    const steps = this.jit !== undefined && !this.traceInsn ? this.loopTranslated(maxSteps) : this.loop(0, maxSteps);
    this.running = false;
    this.csrs.commitCounters(steps, steps - this.curTraps);
    this.curSteps = 0;
    this.curTraps = 0;
    return steps;
  }

  /**
   * The interpreter loop. Every exit goes through the block at the top of the loop (which
   * stores the pc), so the code after the loop needs no type feedback and the optimized
   * loop is not deoptimized at each return.
   */
  private loop(startSteps: number, maxSteps: number): number {
    const misc = this.misc;
    const sig = this.sig;
    const x = this.x;
    const ram = this.ram;
    const u8 = ram.u8;
    const u16 = ram.u16;
    const i32 = ram.i32;
    const gen = ram.pageGeneration;
    const dirty = ram.dirty;
    const rTag = this.rTag;
    const rOff = this.rOff;
    const wTag = this.wTag;
    const wOff = this.wOff;
    let pc = misc[M_PC]! | 0;
    let steps = startSteps;
    let fetchBase = -1;
    let epoch = this.fetchEpoch;
    let dp = this.scratch;
    let dOp = dp.op;
    let dInfo = dp.info;
    let dImm = dp.imm;
    let dpPage = 0;
    let tc = -1;
    let tv = 0;

    outer: for (;;) {
      if (steps >= maxSteps || sig[0] !== 0) {
        misc[M_PC] = pc;
        if (steps >= maxSteps) break;
        const signals = Atomics.exchange(sig, 0, 0);
        if (signals & SIG_EXIT) break;
        if (epoch !== this.fetchEpoch) {
          epoch = this.fetchEpoch;
          fetchBase = -1;
        }
        this.curSteps = steps;
        if (this.pollInterrupt()) {
          pc = misc[M_PC]! | 0;
          fetchBase = -1;
        }
      }
      let slot: number;
      if ((pc & -4096) === fetchBase) {
        slot = (pc & 4095) >>> 1;
      } else {
        this.curSteps = steps;
        const k = this.setupFetch(pc);
        epoch = this.fetchEpoch;
        if (k === 1) {
          dp = this.fDp;
          dOp = dp.op;
          dInfo = dp.info;
          dImm = dp.imm;
          dpPage = this.fPage;
          fetchBase = pc & -4096;
          slot = (pc & 4095) >>> 1;
        } else if (k === 0) {
          dp = this.scratch;
          dOp = dp.op;
          dInfo = dp.info;
          dImm = dp.imm;
          fetchBase = -1;
          slot = 0;
        } else {
          steps++;
          this.curTraps++;
          pc = this.enterTrap(this.fc, this.ft, pc, false);
          this.fc = -1;
          fetchBase = -1;
          continue;
        }
      }
      let op = dOp[slot]!;
      if (op <= Op.CROSS) {
        if (op === Op.NONE) {
          const off = dpPage * 4096 + slot * 2;
          const lo = u16[off >>> 1]!;
          if ((lo & 3) !== 3) decodeInsn(lo, dp, slot);
          else if (slot === SLOTS_PER_PAGE - 1) dOp[slot] = Op.CROSS;
          else decodeInsn(lo | (u16[(off >>> 1) + 1]! << 16), dp, slot);
          op = dOp[slot]!;
        }
        if (op === Op.CROSS) {
          this.curSteps = steps;
          if (!this.fetchUncached(pc)) {
            steps++;
            this.curTraps++;
            pc = this.enterTrap(this.fc, this.ft, pc, false);
            this.fc = -1;
            fetchBase = -1;
            continue;
          }
          dp = this.scratch;
          dOp = dp.op;
          dInfo = dp.info;
          dImm = dp.imm;
          fetchBase = -1;
          slot = 0;
          op = dOp[0]!;
        }
      }
      const info = dInfo[slot]!;
      const rd = info & 0xff;
      const rs1 = (info >>> 8) & 0xff;
      const rs2 = (info >>> 16) & 0xff;
      const imm = dImm[slot]!;
      let npc = (pc + (info >>> 24)) | 0;

      switch (op) {
        case Op.ADDI: x[rd] = (x[rs1]! + imm) | 0; break;
        case Op.LUI: x[rd] = imm; break;
        case Op.AUIPC: x[rd] = (pc + imm) | 0; break;
        case Op.JAL: x[rd] = npc; npc = (pc + imm) | 0; break;
        case Op.JALR: { const t = ((x[rs1]! + imm) | 0) & ~1; x[rd] = npc; npc = t; break; }
        case Op.BEQ: if (x[rs1] === x[rs2]) npc = (pc + imm) | 0; break;
        case Op.BNE: if (x[rs1] !== x[rs2]) npc = (pc + imm) | 0; break;
        case Op.BLT: if (x[rs1]! < x[rs2]!) npc = (pc + imm) | 0; break;
        case Op.BGE: if (x[rs1]! >= x[rs2]!) npc = (pc + imm) | 0; break;
        case Op.BLTU: if ((x[rs1]! >>> 0) < (x[rs2]! >>> 0)) npc = (pc + imm) | 0; break;
        case Op.BGEU: if ((x[rs1]! >>> 0) >= (x[rs2]! >>> 0)) npc = (pc + imm) | 0; break;
        case Op.LB: case Op.LBU: {
          const va = (x[rs1]! + imm) | 0;
          const vpn = va >>> 12;
          const ti = vpn & TLB_MASK;
          let v: number;
          if (rTag[ti] === vpn) v = u8[rOff[ti]! + (va & 4095)]!;
          else {
            this.curSteps = steps;
            v = this.loadSlow(va, 1);
            if (this.fc >= 0) { tc = this.fc; tv = this.ft; this.fc = -1; break; }
          }
          x[rd] = op === Op.LB ? (v << 24) >> 24 : v;
          break;
        }
        case Op.LH: case Op.LHU: {
          const va = (x[rs1]! + imm) | 0;
          const vpn = va >>> 12;
          const ti = vpn & TLB_MASK;
          let v: number;
          if (rTag[ti] === vpn && (va & 1) === 0) v = u16[(rOff[ti]! + (va & 4095)) >>> 1]!;
          else {
            this.curSteps = steps;
            v = this.loadSlow(va, 2);
            if (this.fc >= 0) { tc = this.fc; tv = this.ft; this.fc = -1; break; }
          }
          x[rd] = op === Op.LH ? (v << 16) >> 16 : v;
          break;
        }
        case Op.LW: {
          const va = (x[rs1]! + imm) | 0;
          const vpn = va >>> 12;
          const ti = vpn & TLB_MASK;
          if (rTag[ti] === vpn && (va & 3) === 0) x[rd] = i32[(rOff[ti]! + (va & 4095)) >>> 2]!;
          else {
            this.curSteps = steps;
            const v = this.loadSlow(va, 4);
            if (this.fc >= 0) { tc = this.fc; tv = this.ft; this.fc = -1; break; }
            x[rd] = v;
          }
          break;
        }
        case Op.SB: {
          const va = (x[rs1]! + imm) | 0;
          const vpn = va >>> 12;
          const ti = vpn & TLB_MASK;
          if (wTag[ti] === vpn) {
            const o = wOff[ti]! + (va & 4095);
            u8[o] = x[rs2]!;
            const pg = o >>> 12;
            gen[pg] = (gen[pg]! + 1) | 0;
            dirty[pg] = 1;
            if (pg === dpPage) fetchBase = -1;
          } else {
            this.curSteps = steps;
            this.storeSlow(va, 1, x[rs2]!);
            fetchBase = -1;
            if (this.fc >= 0) { tc = this.fc; tv = this.ft; this.fc = -1; }
          }
          break;
        }
        case Op.SH: {
          const va = (x[rs1]! + imm) | 0;
          const vpn = va >>> 12;
          const ti = vpn & TLB_MASK;
          if (wTag[ti] === vpn && (va & 1) === 0) {
            const o = wOff[ti]! + (va & 4095);
            u16[o >>> 1] = x[rs2]!;
            const pg = o >>> 12;
            gen[pg] = (gen[pg]! + 1) | 0;
            dirty[pg] = 1;
            if (pg === dpPage) fetchBase = -1;
          } else {
            this.curSteps = steps;
            this.storeSlow(va, 2, x[rs2]!);
            fetchBase = -1;
            if (this.fc >= 0) { tc = this.fc; tv = this.ft; this.fc = -1; }
          }
          break;
        }
        case Op.SW: {
          const va = (x[rs1]! + imm) | 0;
          const vpn = va >>> 12;
          const ti = vpn & TLB_MASK;
          if (wTag[ti] === vpn && (va & 3) === 0) {
            const o = wOff[ti]! + (va & 4095);
            i32[o >>> 2] = x[rs2]!;
            const pg = o >>> 12;
            gen[pg] = (gen[pg]! + 1) | 0;
            dirty[pg] = 1;
            if (pg === dpPage) fetchBase = -1;
          } else {
            this.curSteps = steps;
            this.storeSlow(va, 4, x[rs2]!);
            fetchBase = -1;
            if (this.fc >= 0) { tc = this.fc; tv = this.ft; this.fc = -1; }
          }
          break;
        }
        case Op.SLTI: x[rd] = x[rs1]! < imm ? 1 : 0; break;
        case Op.SLTIU: x[rd] = (x[rs1]! >>> 0) < (imm >>> 0) ? 1 : 0; break;
        case Op.XORI: x[rd] = x[rs1]! ^ imm; break;
        case Op.ORI: x[rd] = x[rs1]! | imm; break;
        case Op.ANDI: x[rd] = x[rs1]! & imm; break;
        case Op.SLLI: x[rd] = x[rs1]! << imm; break;
        case Op.SRLI: x[rd] = (x[rs1]! >>> imm) | 0; break;
        case Op.SRAI: x[rd] = x[rs1]! >> imm; break;
        case Op.ADD: x[rd] = (x[rs1]! + x[rs2]!) | 0; break;
        case Op.SUB: x[rd] = (x[rs1]! - x[rs2]!) | 0; break;
        case Op.SLL: x[rd] = x[rs1]! << (x[rs2]! & 31); break;
        case Op.SLT: x[rd] = x[rs1]! < x[rs2]! ? 1 : 0; break;
        case Op.SLTU: x[rd] = (x[rs1]! >>> 0) < (x[rs2]! >>> 0) ? 1 : 0; break;
        case Op.XOR: x[rd] = x[rs1]! ^ x[rs2]!; break;
        case Op.SRL: x[rd] = (x[rs1]! >>> (x[rs2]! & 31)) | 0; break;
        case Op.SRA: x[rd] = x[rs1]! >> (x[rs2]! & 31); break;
        case Op.OR: x[rd] = x[rs1]! | x[rs2]!; break;
        case Op.AND: x[rd] = x[rs1]! & x[rs2]!; break;
        case Op.MUL: x[rd] = Math.imul(x[rs1]!, x[rs2]!); break;
        case Op.MULH: {
          const a = x[rs1]!;
          const b = x[rs2]!;
          x[rd] = (mulhu(a, b) - (a < 0 ? b : 0) - (b < 0 ? a : 0)) | 0;
          break;
        }
        case Op.MULHSU: { const a = x[rs1]!; const b = x[rs2]!; x[rd] = (mulhu(a, b) - (a < 0 ? b : 0)) | 0; break; }
        case Op.MULHU: x[rd] = mulhu(x[rs1]!, x[rs2]!); break;
        case Op.DIV: {
          const a = x[rs1]!;
          const b = x[rs2]!;
          x[rd] = b === 0 ? -1 : (a === -2147483648 && b === -1) ? a : (a / b) | 0;
          break;
        }
        case Op.DIVU: { const b = x[rs2]! >>> 0; x[rd] = b === 0 ? -1 : ((x[rs1]! >>> 0) / b) >>> 0; break; }
        case Op.REM: {
          const a = x[rs1]!;
          const b = x[rs2]!;
          x[rd] = b === 0 ? a : (a === -2147483648 && b === -1) ? 0 : a % b;
          break;
        }
        case Op.REMU: { const b = x[rs2]! >>> 0; x[rd] = b === 0 ? x[rs1]! : (x[rs1]! >>> 0) % b; break; }
        case Op.FENCE: break;
        case Op.ILLEGAL:
          tc = CAUSE_ILLEGAL;
          tv = imm;
          this.trace?.unimplemented?.(this.hartId, pc, `illegal instruction 0x${(imm >>> 0).toString(16)}`);
          break;
        default: {
          // Everything else is a slow op: system instructions, CSRs, atomics.
          this.curSteps = steps;
          misc[M_PC] = pc;
          const r = this.slowOp(op, rd, rs1, rs2, imm, pc, npc);
          fetchBase = -1;
          if (r === SLOW_TRAP) { tc = this.fc; tv = this.ft; this.fc = -1; break; }
          npc = misc[M_PC]! | 0;
          if (r === SLOW_WFI) {
            steps++;
            pc = npc;
            break outer;
          }
        }
      }
      steps++;
      if (tc >= 0) {
        this.curSteps = steps;
        this.curTraps++;
        pc = this.enterTrap(tc, tv, pc, false);
        tc = -1;
        fetchBase = -1;
      } else {
        pc = npc;
      }
    }
    return steps;
  }

  // ---------------------------------------------------------------- translator

  /**
   * The translator's dispatcher. At each pc it looks the fetch TLB up and, on a valid
   * translation of the physical page with a block head there that fits in the budget, calls
   * the block's generated function. Anything else runs on the interpreter: a chunk of
   * INTERP_CHUNK steps on untranslated code, the rest of the block at a non-head of a
   * translated page, the last steps of the budget when a whole block does not fit. Signals
   * and interrupts are handled here exactly as at the top of the interpreter loop.
   */
  private loopTranslated(maxSteps: number): number {
    const misc = this.misc;
    const sig = this.sig;
    const xTag = this.xTag;
    const xOff = this.xOff;
    const gen = this.ram.pageGeneration;
    const jit = this.jit!;
    const compiled = jit.compiled;
    let pc = misc[M_PC]! | 0;
    let steps = 0;
    /** The pc is where an interpreter chunk stopped (anywhere), not a jump target. */
    let fromChunk = false;
    for (;;) {
      if (steps >= maxSteps) break;
      if (sig[0] !== 0) {
        misc[M_PC] = pc;
        const signals = Atomics.exchange(sig, 0, 0);
        if (signals & SIG_EXIT) break;
        this.curSteps = steps;
        if (this.pollInterrupt()) {
          pc = misc[M_PC]! | 0;
          fromChunk = false;
        }
        if (sig[0] !== 0) {
          // Raised again (an interrupt was taken, or another thread): the interpreter runs one
          // step before it looks at the signal word again, and so does this loop.
          const saved = Atomics.exchange(sig, 0, 0);
          misc[M_PC] = pc;
          const n = this.loop(steps, steps + 1);
          Atomics.or(sig, 0, saved);
          pc = misc[M_PC]! | 0;
          fromChunk = true;
          const ran = n > steps;
          steps = n;
          if (!ran || misc[M_WFI] !== 0) break; // an exit request or WFI
          continue;
        }
      }
      let limit = INTERP_CHUNK;
      const vpn = pc >>> 12;
      if (xTag[vpn & TLB_MASK] === vpn) {
        const page = xOff[vpn & TLB_MASK]! >>> 12;
        const off = pc & 4095;
        let cp = compiled[page];
        if (cp !== undefined && cp.gen !== gen[page]) {
          jit.invalidate(page);
          cp = undefined;
        }
        if (cp === undefined) cp = jit.visit(page, off, !fromChunk);
        else if (!fromChunk && (cp.slots[off >>> 1]! & SLOT_HEAD) === 0) jit.miss(page, cp, off);
        if (cp !== undefined) {
          const slot = cp.slots[off >>> 1]!;
          if ((slot & SLOT_HEAD) !== 0 && steps + (slot & SLOT_TO_END) <= maxSteps) {
            const r = cp.blocks[off >>> 1]!(pc & -4096, steps, maxSteps, page);
            steps = this.jSteps;
            pc = this.jPc;
            fromChunk = false;
            if (r === 0) continue;
            if (r === 1) {
              this.jTrap = 0;
              this.curSteps = steps;
              this.curTraps++;
              pc = this.enterTrap(this.fc, this.ft, pc, false);
              this.fc = -1;
              continue;
            }
            break; // WFI
          }
          // A block that does not fit runs on the interpreter to the budget's end; a non-head,
          // to the end of its block (the next pc is then a head).
          if (slot & SLOT_HEAD) limit = maxSteps - steps;
          else if (slot & SLOT_TO_END) limit = slot & SLOT_TO_END;
        }
      }
      misc[M_PC] = pc;
      const end = Math.min(maxSteps, steps + limit);
      const n = this.loop(steps, end);
      pc = misc[M_PC]! | 0;
      fromChunk = limit === INTERP_CHUNK;
      steps = n;
      if (n < end || misc[M_WFI] !== 0) break; // an exit request or WFI
    }
    misc[M_PC] = pc;
    return steps;
  }

  /** TranslatorHost: a load the inline TLB check missed (MMIO, TLB miss, misaligned). */
  jitLoad(va: number, size: 1 | 2 | 4, steps: number): number {
    this.curSteps = steps;
    const v = this.loadSlow(va, size);
    if (this.fc >= 0) this.jTrap = 1;
    return v;
  }

  /** TranslatorHost: a store the inline TLB check missed. */
  jitStore(va: number, size: 1 | 2 | 4, value: number, steps: number): void {
    this.curSteps = steps;
    this.storeSlow(va, size, value);
    if (this.fc >= 0) this.jTrap = 1;
  }

  /** TranslatorHost: a system, CSR or atomic op; returns 0 (go on at jPc), 1 (trap pending) or 2 (WFI). */
  jitSlow(op: number, rd: number, rs1: number, rs2: number, imm: number, pc: number, npc: number, steps: number): number {
    this.curSteps = steps;
    this.misc[M_PC] = pc;
    const r = this.slowOp(op, rd, rs1, rs2, imm, pc, npc);
    this.jSteps = steps + 1;
    if (r === SLOW_TRAP) {
      this.jPc = pc;
      return 1;
    }
    this.jPc = this.misc[M_PC]! | 0;
    return r === SLOW_WFI ? 2 : 0;
  }

  /** TranslatorHost: an illegal instruction (raw bits `insn`); returns 1 (trap pending). */
  jitIllegal(pc: number, insn: number, steps: number): number {
    this.fc = CAUSE_ILLEGAL;
    this.ft = insn;
    this.trace?.unimplemented?.(this.hartId, pc, `illegal instruction 0x${(insn >>> 0).toString(16)}`);
    this.jPc = pc;
    this.jSteps = steps + 1;
    return 1;
  }

  // ---------------------------------------------------------------- fetch

  /** Prepares fetching at `pc`: 1 = cached page in fDp/fPage, 0 = decoded into scratch slot 0, -1 = fault in fc/ft. */
  private setupFetch(pc: number): number {
    if (this.traceInsn) return this.fetchUncached(pc) ? 0 : -1;
    const vpn = pc >>> 12;
    const ti = vpn & TLB_MASK;
    if (this.xTag[ti] !== vpn) {
      const pa = this.translate(pc, ACC_FETCH, 2);
      if (pa < 0) return -1;
      if (this.xTag[ti] !== vpn) return this.fetchUncached(pc) ? 0 : -1;
    }
    const page = this.xOff[ti]! >>> 12;
    let dp = this.pages[page];
    if (dp === undefined) {
      dp = new DecodedPage();
      this.pages[page] = dp;
    }
    const g = this.ram.pageGeneration[page]!;
    if (dp.gen !== g) {
      dp.op.fill(0);
      dp.gen = g;
    }
    this.fDp = dp;
    this.fPage = page;
    return 1;
  }

  /** Reads a 16-bit parcel for instruction fetch; -1 on fault (fc/ft set, tval = pc of the instruction). */
  private fetchParcel(va: number, insnPc: number): number {
    const pa = this.translate(va, ACC_FETCH, 2);
    if (pa < 0) return -1;
    if (this.ram.contains(pa, 2)) return this.ram.u16[(pa - this.ram.base) >>> 1]!;
    const v = pa >= TWO32 ? 0 : this.bus.read(pa, 2);
    if (pa >= TWO32 || this.bus.fault) {
      this.fc = CAUSE_FETCH_ACCESS;
      this.ft = insnPc;
      return -1;
    }
    return v & 0xffff;
  }

  /** Reads the raw instruction at `pc` (through translation, no caching); -1 on fault. */
  private readInsn(pc: number): number {
    const lo = this.fetchParcel(pc, pc);
    if (lo < 0) return -1;
    if ((lo & 3) !== 3) return lo;
    const hi = this.fetchParcel((pc + 2) | 0, pc);
    if (hi < 0) return -1;
    return (lo | (hi << 16)) >>> 0;
  }

  /** Fetches and decodes the instruction at `pc` into scratch slot 0. False on fault. */
  private fetchUncached(pc: number): boolean {
    const insn = this.readInsn(pc);
    if (insn < 0) return false;
    decodeInsn(insn, this.scratch, 0);
    this.trace?.instruction?.(this.hartId, pc >>> 0, insn, disassemble(insn, pc));
    return true;
  }

  // ---------------------------------------------------------------- memory

  /** Effective privilege for data accesses (MPRV). */
  private dataMode(): number {
    const priv = this.misc[M_PRIV]!;
    const ms = this.csr[C_MSTATUS]!;
    return priv === PRIV_M && (ms & MSTATUS_MPRV) ? (ms & MSTATUS_MPP) >>> 11 : priv;
  }

  /**
   * Translates `va` for an access of `size` bytes and checks PMP. Returns the physical
   * address (a number, possibly >= 2^32) or -1 with fc/ft set. Fills the matching TLB when the
   * whole page is RAM with one allowed PMP outcome.
   */
  private translate(va: number, acc: number, size: number): number {
    const mode = acc === ACC_FETCH ? this.misc[M_PRIV]! : this.dataMode();
    let pa: number;
    if (mode === PRIV_M || this.csr[C_SATP]! >= 0) pa = va >>> 0;
    else {
      pa = sv32Walk(this.ram, this.pmp, this.csr[C_SATP]!, this.csr[C_MSTATUS]!, va, acc, mode);
      if (pa < 0) {
        this.fc = -1 - pa;
        this.ft = va;
        return -1;
      }
    }
    const perm = acc === ACC_FETCH ? PMP_X : acc === ACC_LOAD ? PMP_R : PMP_W;
    if (!this.pmp.check(pa, size, perm, mode)) {
      this.fc = acc === ACC_FETCH ? CAUSE_FETCH_ACCESS : acc === ACC_LOAD ? CAUSE_LOAD_ACCESS : CAUSE_STORE_ACCESS;
      this.ft = va;
      return -1;
    }
    const page = pa - (pa % 4096);
    if (this.ram.contains(page, 4096) && this.pmp.pageAllowed(page, perm, mode)) {
      const vpn = va >>> 12;
      const ti = vpn & TLB_MASK;
      const off = page - this.ram.base;
      if (acc === ACC_FETCH) { this.xTag[ti] = vpn; this.xOff[ti] = off; }
      else if (acc === ACC_LOAD) { this.rTag[ti] = vpn; this.rOff[ti] = off; }
      else { this.wTag[ti] = vpn; this.wOff[ti] = off; }
    }
    return pa;
  }

  /** Load of `size` bytes (zero-extended result) through translation, RAM or MMIO; fc set on fault. */
  private loadSlow(va: number, size: 1 | 2 | 4): number {
    if (va & (size - 1)) {
      // Misaligned scalar loads are performed bytewise (QEMU does not trap them).
      let v = 0;
      for (let i = 0; i < size; i++) {
        const b = this.loadSlow((va + i) | 0, 1);
        if (this.fc >= 0) return 0;
        v |= b << (8 * i);
      }
      return size === 4 ? v | 0 : v;
    }
    const pa = this.translate(va, ACC_LOAD, size);
    if (pa < 0) return 0;
    return this.loadPhys(pa, size, va);
  }

  private loadPhys(pa: number, size: 1 | 2 | 4, va: number): number {
    const ram = this.ram;
    if (ram.contains(pa, size)) {
      const off = pa - ram.base;
      return size === 1 ? ram.u8[off]! : size === 2 ? ram.u16[off >>> 1]! : ram.i32[off >>> 2]!;
    }
    const v = pa >= TWO32 ? 0 : this.bus.read(pa, size);
    if (pa >= TWO32 || this.bus.fault) {
      this.fc = CAUSE_LOAD_ACCESS;
      this.ft = va;
      return 0;
    }
    return size === 4 ? v | 0 : v;
  }

  /** Store of the low `size` bytes of `value`; fc set on fault. */
  private storeSlow(va: number, size: 1 | 2 | 4, value: number): void {
    if (va & (size - 1)) {
      for (let i = 0; i < size; i++) {
        const pa = this.translate((va + i) | 0, ACC_STORE, 1);
        if (pa < 0) return;
      }
      for (let i = 0; i < size; i++) {
        this.storeSlow((va + i) | 0, 1, value >>> (8 * i));
        if (this.fc >= 0) return;
      }
      return;
    }
    const pa = this.translate(va, ACC_STORE, size);
    if (pa < 0) return;
    this.storePhys(pa, size, value, va);
  }

  private storePhys(pa: number, size: 1 | 2 | 4, value: number, va: number): void {
    const ram = this.ram;
    if (ram.contains(pa, size)) {
      const off = pa - ram.base;
      if (size === 1) ram.u8[off] = value;
      else if (size === 2) ram.u16[off >>> 1] = value;
      else ram.i32[off >>> 2] = value;
      ram.markWritten(off);
      return;
    }
    if (pa < TWO32) this.bus.write(pa, size, size === 4 ? value >>> 0 : value & ((1 << (8 * size)) - 1));
    if (pa >= TWO32 || this.bus.fault) {
      this.fc = CAUSE_STORE_ACCESS;
      this.ft = va;
    }
  }

  // ---------------------------------------------------------------- slow ops

  /**
   * Executes a system/CSR/atomic op. Reads and writes the pc through misc[M_PC] (which holds
   * `npc` on return). Returns SLOW_OK, SLOW_TRAP (fc/ft set) or SLOW_WFI.
   */
  private slowOp(op: number, rd: number, rs1: number, rs2: number, imm: number, pc: number, npc: number): number {
    const misc = this.misc;
    const x = this.x;
    const priv = misc[M_PRIV]!;
    const ms = this.csr[C_MSTATUS]!;
    misc[M_PC] = npc;
    switch (op) {
      case Op.CSRRW: case Op.CSRRS: case Op.CSRRC:
      case Op.CSRRWI: case Op.CSRRSI: case Op.CSRRCI: {
        const src = op >= Op.CSRRWI ? rs1 : x[rs1]!;
        const kind = op >= Op.CSRRWI ? op - 3 : op;
        const writes = kind === Op.CSRRW || rs1 !== 0;
        const reads = kind !== Op.CSRRW || rd !== RD_SINK;
        if (!this.csrs.allowed(imm, writes, priv, ms)) return this.illegal(pc);
        let old = 0;
        if (reads || kind !== Op.CSRRW) {
          old = this.readCsr(imm);
          if (this.fc >= 0) { this.fc = -1; return this.illegalCsr(pc, imm); }
        }
        if (writes) {
          const v = kind === Op.CSRRW ? src : kind === Op.CSRRS ? old | src : old & ~src;
          this.writeCsr(imm, v);
          if (this.fc >= 0) { this.fc = -1; return this.illegalCsr(pc, imm); }
        }
        x[rd] = old;
        Atomics.or(this.sig, 0, SIG_IRQ);
        return SLOW_OK;
      }
      case Op.ECALL:
        this.fc = priv === PRIV_U ? CAUSE_ECALL_U : priv === PRIV_S ? CAUSE_ECALL_S : CAUSE_ECALL_M;
        this.ft = 0;
        return SLOW_TRAP;
      case Op.EBREAK:
        this.fc = CAUSE_BREAKPOINT;
        this.ft = 0;
        return SLOW_TRAP;
      case Op.MRET: {
        if (priv !== PRIV_M) return this.illegal(pc);
        const mpp = (ms & MSTATUS_MPP) >>> 11;
        if (mpp !== PRIV_M && this.pmp.activeRules === 0) {
          // QEMU 7.2 helper_mret: returning below M with no PMP rule is an access fault.
          this.fc = CAUSE_FETCH_ACCESS;
          this.ft = 0;
          return SLOW_TRAP;
        }
        let n = ms & ~(MSTATUS_MIE | MSTATUS_MPP);
        if (ms & MSTATUS_MPIE) n |= MSTATUS_MIE;
        n |= MSTATUS_MPIE;
        if (mpp !== PRIV_M) n &= ~MSTATUS_MPRV;
        this.csr[C_MSTATUS] = n;
        misc[M_PRIV] = mpp;
        misc[M_PC] = this.csr[C_MEPC]!;
        this.flushCaches();
        Atomics.or(this.sig, 0, SIG_IRQ);
        return SLOW_OK;
      }
      case Op.SRET: {
        if (priv === PRIV_U || (priv === PRIV_S && (ms & MSTATUS_TSR))) return this.illegal(pc);
        const spp = (ms & MSTATUS_SPP) ? PRIV_S : PRIV_U;
        let n = ms & ~(MSTATUS_SIE | MSTATUS_SPP | MSTATUS_MPRV);
        if (ms & MSTATUS_SPIE) n |= MSTATUS_SIE;
        n |= MSTATUS_SPIE;
        this.csr[C_MSTATUS] = n;
        misc[M_PRIV] = spp;
        misc[M_PC] = this.csr[C_SEPC]!;
        this.flushCaches();
        Atomics.or(this.sig, 0, SIG_IRQ);
        return SLOW_OK;
      }
      case Op.WFI:
        if (priv === PRIV_U || (priv === PRIV_S && (ms & MSTATUS_TW))) return this.illegal(pc);
        if ((Atomics.load(misc, M_MIP) & this.csr[C_MIE]!) !== 0) return SLOW_OK;
        misc[M_WFI] = 1;
        return SLOW_WFI;
      case Op.SFENCE_VMA:
        if (priv === PRIV_U || (priv === PRIV_S && (ms & MSTATUS_TVM))) return this.illegal(pc);
        this.flushCaches();
        return SLOW_OK;
      case Op.FENCE_I:
        this.pages.fill(undefined);
        this.jit?.clear();
        this.fetchEpoch++;
        Atomics.or(this.sig, 0, SIG_IRQ);
        return SLOW_OK;
      case Op.LR: {
        const va = x[rs1]!;
        if (va & 3) { this.fc = CAUSE_MISALIGNED_LOAD; this.ft = va; return SLOW_TRAP; }
        const pa = this.translate(va, ACC_LOAD, 4);
        if (pa < 0) return SLOW_TRAP;
        const v = this.loadPhys(pa, 4, va);
        if (this.fc >= 0) return SLOW_TRAP;
        x[rd] = v;
        misc[M_RES_VALID] = 1;
        misc[M_RES_ADDR] = va;
        misc[M_RES_VALUE] = v;
        return SLOW_OK;
      }
      case Op.SC: {
        const va = x[rs1]!;
        if (misc[M_RES_VALID] === 0 || misc[M_RES_ADDR] !== va) {
          misc[M_RES_VALID] = 0;
          x[rd] = 1;
          return SLOW_OK;
        }
        misc[M_RES_VALID] = 0;
        if (va & 3) { this.fc = CAUSE_MISALIGNED_STORE; this.ft = va; return SLOW_TRAP; }
        const pa = this.translate(va, ACC_STORE, 4);
        if (pa < 0) return SLOW_TRAP;
        const ram = this.ram;
        if (ram.contains(pa, 4)) {
          const off = pa - ram.base;
          const prev = Atomics.compareExchange(ram.i32, off >>> 2, misc[M_RES_VALUE]!, x[rs2]!);
          if (prev === misc[M_RES_VALUE]) {
            ram.markWritten(off);
            x[rd] = 0;
          } else x[rd] = 1;
          return SLOW_OK;
        }
        const cur = this.loadPhys(pa, 4, va);
        if (this.fc >= 0) { this.fc = CAUSE_STORE_ACCESS; return SLOW_TRAP; }
        if (cur !== misc[M_RES_VALUE]) { x[rd] = 1; return SLOW_OK; }
        this.storePhys(pa, 4, x[rs2]!, va);
        if (this.fc >= 0) return SLOW_TRAP;
        x[rd] = 0;
        return SLOW_OK;
      }
      default: {
        // AMOs.
        const va = x[rs1]!;
        if (va & 3) { this.fc = CAUSE_MISALIGNED_STORE; this.ft = va; return SLOW_TRAP; }
        const pa = this.translate(va, ACC_STORE, 4);
        if (pa < 0) return SLOW_TRAP;
        const b = x[rs2]!;
        const ram = this.ram;
        if (ram.contains(pa, 4)) {
          const off = pa - ram.base;
          const idx = off >>> 2;
          const mem = ram.i32;
          let old: number;
          switch (op) {
            case Op.AMOSWAP: old = Atomics.exchange(mem, idx, b); break;
            case Op.AMOADD: old = Atomics.add(mem, idx, b); break;
            case Op.AMOXOR: old = Atomics.xor(mem, idx, b); break;
            case Op.AMOAND: old = Atomics.and(mem, idx, b); break;
            case Op.AMOOR: old = Atomics.or(mem, idx, b); break;
            default:
              for (;;) {
                old = Atomics.load(mem, idx);
                const nv = amoMinMax(op, old, b);
                if (Atomics.compareExchange(mem, idx, old, nv) === old) break;
              }
          }
          ram.markWritten(off);
          x[rd] = old;
          return SLOW_OK;
        }
        const old = this.loadPhys(pa, 4, va);
        if (this.fc >= 0) { this.fc = CAUSE_STORE_ACCESS; return SLOW_TRAP; }
        let nv: number;
        switch (op) {
          case Op.AMOSWAP: nv = b; break;
          case Op.AMOADD: nv = (old + b) | 0; break;
          case Op.AMOXOR: nv = old ^ b; break;
          case Op.AMOAND: nv = old & b; break;
          case Op.AMOOR: nv = old | b; break;
          default: nv = amoMinMax(op, old, b);
        }
        this.storePhys(pa, 4, nv, va);
        if (this.fc >= 0) return SLOW_TRAP;
        x[rd] = old;
        return SLOW_OK;
      }
    }
  }

  private illegal(pc: number): number {
    const insn = this.readInsn(pc);
    this.fc = CAUSE_ILLEGAL;
    this.ft = insn < 0 ? 0 : insn | 0;
    return SLOW_TRAP;
  }

  private illegalCsr(pc: number, csr: number): number {
    this.trace?.unimplemented?.(this.hartId, pc >>> 0, `csr 0x${csr.toString(16)}`);
    return this.illegal(pc);
  }

  /** Keeps the CSR file's view of the run in progress current (mcycle/minstret read live). */
  private syncLive(): void {
    this.live.cycles = this.running ? this.curSteps : 0;
    this.live.instret = this.running ? this.curSteps - this.curTraps : 0;
  }

  /** Reads a CSR without privilege checks; sets fc when unimplemented. */
  private readCsr(csr: number): number {
    this.syncLive();
    const v = this.csrs.read(csr);
    if (this.csrs.unimplemented) {
      this.csrs.unimplemented = false;
      this.fc = CAUSE_ILLEGAL;
    }
    return v;
  }

  /** Writes a CSR without privilege checks (WARL masks and side effects apply); sets fc when unimplemented. */
  private writeCsr(csr: number, v: number): void {
    this.syncLive();
    const r = this.csrs.write(csr, v);
    if (r === CSR_WRITTEN_FLUSH) this.flushCaches();
    else if (r === CSR_UNIMPLEMENTED) this.fc = CAUSE_ILLEGAL;
  }

  // ---------------------------------------------------------------- traps

  /** Takes the highest-priority pending and enabled interrupt, if any (pc in misc[M_PC]). */
  private pollInterrupt(): boolean {
    const c = this.csr;
    const pending = Atomics.load(this.misc, M_MIP) & c[C_MIE]!;
    if (pending === 0) return false;
    const priv = this.misc[M_PRIV]!;
    const ms = c[C_MSTATUS]!;
    const mideleg = c[C_MIDELEG]!;
    let irqs = 0;
    const mPending = pending & ~mideleg;
    if (mPending !== 0 && (priv < PRIV_M || (ms & MSTATUS_MIE))) irqs = mPending;
    else {
      const sPending = pending & mideleg;
      if (sPending !== 0 && (priv < PRIV_S || (priv === PRIV_S && (ms & MSTATUS_SIE)))) irqs = sPending;
    }
    if (irqs === 0) return false;
    for (const irq of IRQ_ORDER) {
      if (irqs & (1 << irq)) {
        this.misc[M_PC] = this.enterTrap(irq, 0, this.misc[M_PC]!, true);
        this.onInterrupt?.(irq);
        return true;
      }
    }
    return false;
  }

  /** Enters a trap (or lets the firmware handle it); returns the new pc. */
  private enterTrap(code: number, tval: number, epc: number, interrupt: boolean): number {
    const c = this.csr;
    const misc = this.misc;
    const priv = misc[M_PRIV]!;
    const deleg = priv <= PRIV_S && (((interrupt ? c[C_MIDELEG]! : c[C_MEDELEG]!) >>> code) & 1) !== 0;
    const cause = interrupt ? (code | 0x80000000) : code;
    if (!deleg && this.firmware !== undefined) {
      misc[M_PC] = epc;
      if (this.firmware.handleTrap(this, cause, tval)) {
        this.fetchEpoch++;
        Atomics.or(this.sig, 0, SIG_IRQ);
        return misc[M_PC]! | 0;
      }
    }
    const to = deleg ? PRIV_S : PRIV_M;
    this.trace?.trap?.(this.hartId, cause, epc >>> 0, tval >>> 0, priv as PrivilegeMode, to);
    let ms = c[C_MSTATUS]!;
    let tvec: number;
    if (deleg) {
      c[C_SCAUSE] = cause;
      c[C_SEPC] = epc;
      c[C_STVAL] = tval;
      ms = (ms & ~(MSTATUS_SPP | MSTATUS_SPIE | MSTATUS_SIE)) | (priv === PRIV_S ? MSTATUS_SPP : 0) |
        ((ms & MSTATUS_SIE) ? MSTATUS_SPIE : 0);
      tvec = c[C_STVEC]!;
    } else {
      c[C_MCAUSE] = cause;
      c[C_MEPC] = epc;
      c[C_MTVAL] = tval;
      ms = (ms & ~(MSTATUS_MPP | MSTATUS_MPIE | MSTATUS_MIE)) | (priv << 11) |
        ((ms & MSTATUS_MIE) ? MSTATUS_MPIE : 0);
      tvec = c[C_MTVEC]!;
    }
    c[C_MSTATUS] = ms;
    if (priv !== to) {
      misc[M_PRIV] = to;
      this.flushCaches();
    }
    Atomics.or(this.sig, 0, SIG_IRQ);
    const base = tvec & ~3;
    return (interrupt && (tvec & 3) === 1 ? base + 4 * code : base) | 0;
  }
}

const SLOW_OK = 0;
const SLOW_TRAP = 1;
const SLOW_WFI = 2;

function amoMinMax(op: number, a: number, b: number): number {
  switch (op) {
    case Op.AMOMIN: return a < b ? a : b;
    case Op.AMOMAX: return a > b ? a : b;
    case Op.AMOMINU: return (a >>> 0) < (b >>> 0) ? a : b;
    default: return (a >>> 0) > (b >>> 0) ? a : b;
  }
}

export { PRIV_M, PRIV_S, PRIV_U };
