/**
 * What the monitors (QMP and the human monitor) may do to the virtual machine. The monitor
 * runs on the main loop; implementations take the replay mutex and the BQL in the documented
 * order (docs/threads-and-locks.md) before touching the machine.
 */

/** QEMU's run states that we report (`query-status`). */
export type RunState = 'prelaunch' | 'running' | 'paused' | 'shutdown' | 'internal-error';

/** Events the monitor broadcasts to QMP clients (QEMU's names). */
export type VmEvent =
  | { readonly event: 'STOP' }
  | { readonly event: 'RESUME' }
  | { readonly event: 'RESET'; readonly data: { readonly guest: boolean; readonly reason: string } }
  | { readonly event: 'POWERDOWN' }
  | { readonly event: 'SHUTDOWN'; readonly data: { readonly guest: boolean; readonly reason: string } };

/** One hart as `query-cpus-fast` and `info cpus` show it. */
export interface CpuInfo {
  readonly cpuIndex: number;
  readonly pc: number;
  /** 'M', 'S' or 'U'. */
  readonly privilege: 'M' | 'S' | 'U';
  /** True while the hart waits in WFI (or is stopped by HSM). */
  readonly halted: boolean;
  readonly threadId: number;
}

/** Registers of one hart for `info registers`. */
export interface CpuRegisters {
  readonly pc: number;
  readonly privilege: 'M' | 'S' | 'U';
  /** x0..x31. */
  readonly x: readonly number[];
  /** Named CSRs (mstatus, mepc, mcause, mtval, mtvec, mie, mip, satp, sstatus, sepc, scause, stval, stvec...). */
  readonly csrs: ReadonlyArray<readonly [string, number]>;
}

export interface VmControl {
  runState(): RunState;
  /** Pauses all vCPUs; resolves once they are paused. Emits STOP if it was running. */
  stop(): Promise<void>;
  /** Resumes; resolves once the vCPUs run. Emits RESUME if it was paused. */
  cont(): Promise<void>;
  /** `system_reset`: resets the machine (emits RESET). */
  systemReset(): Promise<void>;
  /** `system_powerdown`: asks the guest to power down (emits POWERDOWN). */
  systemPowerdown(): Promise<void>;
  /** `quit`: ends the process after the reply is sent (emits SHUTDOWN, reason host-qmp-quit). */
  quit(): void;
  cpus(): readonly CpuInfo[];
  registers(cpuIndex: number): CpuRegisters;
  /** Reads guest memory: `physical` true for xp (physical), false for x (virtual, via the hart's MMU, cpu 0). Throws on unmapped memory. */
  readMemory(address: number, length: number, physical: boolean): Uint8Array;
  /** Subscribes to events; returns an unsubscribe function. */
  onEvent(listener: (event: VmEvent) => void): () => void;
  /** Product version for `query-version`. */
  readonly version: { readonly major: number; readonly minor: number; readonly micro: number; readonly package: string };
}
