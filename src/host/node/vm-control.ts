/**
 * The monitors' view of a real machine (`VmControl` over a `Machine` and its runner): run
 * state, stop/cont through the runner's pause/resume, reset, powerdown, quit, CPU state and
 * guest memory, and QEMU's events.
 *
 * Machine access: with the single-threaded `RunLoop`, monitor commands run on the main thread
 * between slices, so the machine is quiescent and every read is consistent. The threaded
 * runner executes harts on a vCPU thread: there, every access to `machine` below (cpus,
 * registers, readMemory, systemReset) must hold the BQL (docs/threads-and-locks.md), or run
 * while the runner is paused.
 */
import { readFileSync } from 'node:fs';
import type { Machine, ShutdownCause } from '../../board/machine-api.js';
import type { HartApi } from '../../cpu/hart-api.js';
import { PRIV_M, PRIV_S } from '../../cpu/hart-api.js';
import type { CpuInfo, CpuRegisters, RunState, VmControl, VmEvent } from '../../monitor/vm-control.js';
import type { VmPauseControl } from './vm-runner.js';

/** The CSRs `info registers` shows, in QEMU 7.2's riscv32 order. */
const CSRS: ReadonlyArray<readonly [string, number]> = [
  ['mhartid', 0xf14], ['mstatus', 0x300], ['mip', 0x344], ['mie', 0x304], ['mideleg', 0x303],
  ['medeleg', 0x302], ['mtvec', 0x305], ['stvec', 0x105], ['mepc', 0x341], ['sepc', 0x141],
  ['mcause', 0x342], ['scause', 0x142], ['mtval', 0x343], ['stval', 0x143], ['mscratch', 0x340],
  ['sscratch', 0x140], ['satp', 0x180],
];

/** A monitor memory read that hit unmapped or untranslatable memory. */
export class MemoryAccessError extends Error {
  override name = 'MemoryAccessError';
}

function hex(v: number): string {
  return `0x${(v >>> 0).toString(16)}`;
}

function privilegeName(p: number): 'M' | 'S' | 'U' {
  return p === PRIV_M ? 'M' : p === PRIV_S ? 'S' : 'U';
}

/** Reads one little-endian word of physical memory (RAM only). */
type PhysRead32 = (paddr: number) => number;

/**
 * Translates a virtual address with an Sv32 page-table walk (debug walk: no A/D updates, no
 * permission checks beyond validity). Returns the physical address, or undefined on a fault.
 */
export function translateSv32(satp: number, vaddr: number, read32: PhysRead32): number | undefined {
  const va = vaddr >>> 0;
  let table = (satp & 0x3fffff) * 4096;
  for (let level = 1; level >= 0; level--) {
    const vpn = level === 1 ? va >>> 22 : (va >>> 12) & 0x3ff;
    const pte = read32(table + vpn * 4) >>> 0;
    const v = pte & 1;
    const r = (pte >>> 1) & 1;
    const w = (pte >>> 2) & 1;
    const x = (pte >>> 3) & 1;
    if (v === 0 || (r === 0 && w === 1)) return undefined;
    const ppn = pte >>> 10;
    if (r === 1 || x === 1) {
      if (level === 1) {
        if ((ppn & 0x3ff) !== 0) return undefined; // misaligned superpage
        return (ppn >>> 10) * 0x400000 + (va & 0x3fffff);
      }
      return ppn * 4096 + (va & 0xfff);
    }
    table = ppn * 4096;
  }
  return undefined;
}

function packageVersion(): { major: number; minor: number; micro: number } {
  try {
    // dist/src/host/node/vm-control.js -> the repository's package.json
    const url = new URL('../../../../package.json', import.meta.url);
    const parsed: unknown = JSON.parse(readFileSync(url, 'utf8'));
    const version = typeof parsed === 'object' && parsed !== null && 'version' in parsed ? parsed.version : undefined;
    const m = typeof version === 'string' ? /^(\d+)\.(\d+)\.(\d+)/.exec(version) : null;
    if (m !== null) return { major: Number(m[1]), minor: Number(m[2]), micro: Number(m[3]) };
  } catch {
    // not found: fall back to the built-in version
  }
  return { major: 0, minor: 1, micro: 0 };
}

/** The SHUTDOWN reason QEMU reports for how a run ended. */
export function shutdownReason(cause: ShutdownCause): { guest: boolean; reason: string } {
  switch (cause) {
    case 'finisher-pass':
    case 'finisher-fail':
    case 'guest-shutdown':
      return { guest: true, reason: 'guest-shutdown' };
    case 'guest-reset':
      return { guest: true, reason: 'guest-reset' };
    case 'host-request':
      return { guest: false, reason: 'host-signal' };
  }
}

/** Options of `MachineVmControl`. */
export interface MachineVmControlOptions {
  /** `-S`: the runner starts paused and the state is `prelaunch` until the first `cont`. */
  readonly startPaused?: boolean;
  /** Set while recording or replaying: `system_reset` is refused with this reason. */
  readonly resetRefused?: string;
}

/** `VmControl` over a machine driven by a `RunLoop` or the threaded runner. */
export class MachineVmControl implements VmControl {
  readonly version: VmControl['version'];
  private readonly listeners = new Set<(event: VmEvent) => void>();
  private launched: boolean;
  private ended = false;

  constructor(private readonly machine: Machine, private readonly runner: VmPauseControl, private readonly options: MachineVmControlOptions = {}) {
    this.launched = options.startPaused !== true;
    this.version = { ...packageVersion(), package: 'replayvm' };
  }

  runState(): RunState {
    if (this.ended) return 'shutdown';
    if (this.runner.paused) return this.launched ? 'paused' : 'prelaunch';
    return 'running';
  }

  async stop(): Promise<void> {
    if (this.ended || this.runner.paused) return;
    await this.runner.pause();
    this.emit({ event: 'STOP' });
  }

  async cont(): Promise<void> {
    if (this.ended) throw new Error('the guest has shut down; system_reset is needed first');
    this.launched = true;
    if (!this.runner.paused) return;
    await this.runner.resume();
    this.emit({ event: 'RESUME' });
  }

  async systemReset(): Promise<void> {
    if (this.options.resetRefused !== undefined) throw new Error(this.options.resetRefused);
    // The vCPUs are parked around the reset (no STOP/RESUME: QEMU's reset does not emit them),
    // so the threaded runner's vCPU thread never sees a half-reset machine.
    const wasPaused = this.runner.paused;
    if (!wasPaused) await this.runner.pause();
    this.machine.reset();
    this.emit({ event: 'RESET', data: { guest: false, reason: 'host-qmp-system-reset' } });
    if (!wasPaused) await this.runner.resume();
    this.runner.wake();
  }

  /**
   * QEMU 7.2 raises a power-button request; the riscv virt board has no power button device,
   * so the request only emits POWERDOWN and the guest does not notice.
   */
  async systemPowerdown(): Promise<void> {
    this.emit({ event: 'POWERDOWN' });
    return Promise.resolve();
  }

  quit(): void {
    if (this.ended) return;
    this.shutdown({ guest: false, reason: 'host-qmp-quit' });
    this.runner.stop(0);
  }

  /** The run ended (guest poweroff, reset with -no-reboot, signal): emits SHUTDOWN once. */
  machineEnded(cause: ShutdownCause): void {
    this.shutdown(shutdownReason(cause));
  }

  cpus(): readonly CpuInfo[] {
    return this.machine.harts.map((h, i) => ({
      cpuIndex: i,
      pc: h.getPc() >>> 0,
      privilege: privilegeName(h.privilege),
      halted: h.waitingForInterrupt,
      threadId: process.pid,
    }));
  }

  registers(cpuIndex: number): CpuRegisters {
    const h = this.hart(cpuIndex);
    const x = Array.from({ length: 32 }, (_, i) => h.getReg(i) >>> 0);
    return {
      pc: h.getPc() >>> 0,
      privilege: privilegeName(h.privilege),
      x,
      csrs: CSRS.map(([name, num]) => [name, h.csrRead(num) >>> 0] as const),
    };
  }

  readMemory(address: number, length: number, physical: boolean): Uint8Array {
    if (physical) return this.readPhysical(address >>> 0, length);
    const h = this.hart(0);
    const satp = h.csrRead(0x180) >>> 0;
    // Debug translation as QEMU's: M-mode and bare satp see physical addresses.
    if (h.privilege === PRIV_M || (satp >>> 31) === 0) return this.readPhysical(address >>> 0, length);
    const out = new Uint8Array(length);
    let done = 0;
    while (done < length) {
      const va = (address + done) >>> 0;
      const chunk = Math.min(length - done, 4096 - (va & 0xfff));
      const pa = translateSv32(satp, va, (p) => this.readWord(p));
      if (pa === undefined || pa > 0xffffffff) throw new MemoryAccessError(`cannot access memory at virtual address ${hex(va)} (no mapping)`);
      out.set(this.readPhysical(pa, chunk), done);
      done += chunk;
    }
    return out;
  }

  onEvent(listener: (event: VmEvent) => void): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  private shutdown(data: { guest: boolean; reason: string }): void {
    if (this.ended) return;
    this.ended = true;
    this.emit({ event: 'SHUTDOWN', data });
  }

  private hart(cpuIndex: number): HartApi {
    const h = this.machine.harts[cpuIndex];
    if (h === undefined) throw new Error(`CPU ${cpuIndex} does not exist`);
    return h;
  }

  private readWord(paddr: number): number {
    const b = this.readPhysical(paddr, 4);
    return (b[0]! | (b[1]! << 8) | (b[2]! << 16) | (b[3]! << 24)) >>> 0;
  }

  private readPhysical(paddr: number, length: number): Uint8Array {
    // RAM only: reading device registers from the monitor would have side effects (UART RBR).
    if (!this.machine.ram.contains(paddr, length)) {
      throw new MemoryAccessError(`cannot access memory at physical address ${hex(paddr)} (not RAM)`);
    }
    return this.machine.ram.readBytes(paddr, length);
  }

  private emit(event: VmEvent): void {
    for (const l of [...this.listeners]) l(event);
  }
}
