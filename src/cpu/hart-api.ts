/**
 * The contract between the hart (src/cpu) and everything above it (board, firmware, CLI,
 * later the vCPU thread, replay and the GDB stub). The CPU knows only RAM, the address map,
 * its interrupt-pending bits and a guest time source.
 *
 * Instruction counting ("steps"): `run(n)` executes at most n steps and returns how many it
 * executed. A step is one instruction that either retires or raises a synchronous exception
 * (the trap entry is that step; the instruction does not retire, so minstret does not count
 * it). Taking an interrupt is not a step: interrupts are taken only between steps, before the
 * next instruction is fetched. `run(n)` therefore stops exactly after n steps, which is what
 * icount, record/replay and reverse debugging build on.
 */
import type { AddressMap } from '../memory/address-map.js';
import type { Ram } from '../memory/ram.js';
import type { StateArena } from '../memory/state-arena.js';

export const PRIV_U = 0;
export const PRIV_S = 1;
export const PRIV_M = 3;
export type PrivilegeMode = typeof PRIV_U | typeof PRIV_S | typeof PRIV_M;

/** Guest time as the hart sees it (the `time` CSR). */
export interface GuestTime {
  /** CLINT mtime now, in 10 MHz ticks, accounting for steps already run in this slice. */
  mtime(): number;
}

/**
 * Firmware emulated in the host (the built-in SBI of `-bios default`). Called when a trap is
 * about to enter M-mode; returning true means the firmware handled it (it has set the pc,
 * registers and mip as M-mode code would have) and the trap is not taken.
 */
export interface MachineModeFirmware {
  handleTrap(hart: HartApi, cause: number, tval: number): boolean;
}

/** Trace hooks for `-d int,unimp,in_asm`. All optional; absent hooks cost one check. */
export interface CpuTracer {
  /** A trap was taken (`-d int`). `cause` has bit 31 set for interrupts. */
  trap?(hartId: number, cause: number, epc: number, tval: number, fromMode: PrivilegeMode, toMode: PrivilegeMode): void;
  /** An unimplemented CSR or instruction was hit (`-d unimp`). */
  unimplemented?(hartId: number, pc: number, what: string): void;
  /** An instruction is about to execute (`-d in_asm`). Disables the decode cache fast path. */
  instruction?(hartId: number, pc: number, insn: number, text: string): void;
}

/**
 * How a hart executes: `translator` compiles hot guest pages to JavaScript (src/cpu/jit) and
 * runs cold code, single steps and traced runs on the interpreter; `interpreter` runs
 * everything on the interpreter (the reference). Both give the same state at every step.
 */
export type CpuEngine = 'interpreter' | 'translator';

export interface HartOptions {
  hartId: number;
  /** The execution engine; default: the one set by setDefaultCpuEngine (the translator). */
  engine?: CpuEngine;
  arena: StateArena;
  ram: Ram;
  bus: AddressMap;
  time: GuestTime;
  firmware?: MachineModeFirmware;
  trace?: CpuTracer;
  /**
   * Called each time the hart takes an interrupt (`cause`: the interrupt number, as in mcause
   * without its top bit), before the handler's first instruction; `runSteps` is the count.
   * Record/replay logs these as checkpoints.
   */
  onInterrupt?: (cause: number) => void;
}

export interface HartApi {
  readonly hartId: number;
  /** Runs at most `maxSteps` steps; returns the number executed (see the counting rule above). */
  run(maxSteps: number): number;
  /** Steps executed so far by the current `run` call; valid inside MMIO and time callbacks. */
  readonly runSteps: number;
  /** Power-on reset: M-mode, all registers and CSRs to their reset values, pc = `pc`. */
  reset(pc: number): void;
  getPc(): number;
  setPc(pc: number): void;
  getReg(index: number): number;
  setReg(index: number, value: number): void;
  readonly privilege: PrivilegeMode;
  setPrivilege(mode: PrivilegeMode): void;
  /** Debug/firmware access to a CSR, without privilege checks or side effects on counters. */
  csrRead(csr: number): number;
  csrWrite(csr: number, value: number): void;
  /** Sets or clears mip bits (atomically in shared state); wakes a hart waiting in WFI. */
  setInterruptPending(mask: number, level: boolean): void;
  /** True while the hart waits in WFI for an interrupt. */
  readonly waitingForInterrupt: boolean;
  /** Makes the current `run` return at the next step boundary. */
  requestExit(): void;
  /** Drops all cached translations (RFENCE from firmware, satp writes from outside). */
  flushTlb(): void;
  /**
   * The hart's state in the arena was replaced from outside (a second thread attaching to a
   * running machine, a snapshot restore): rebuild everything derived from it (PMP rules, TLB,
   * decoded pages).
   */
  stateReplaced(): void;
}
