/**
 * The built-in SBI firmware of `-bios default`, written in TypeScript instead of running
 * OpenSBI in the guest. The hart calls `handleTrap` whenever a trap would enter M-mode; the
 * firmware serves S-mode `ecall`s (SBI v2.0: BASE, TIME, IPI, RFENCE, HSM, SRST, DBCN and the
 * legacy v0.1 calls) and the M-mode timer interrupt, as OpenSBI does on QEMU virt, then lets
 * the hart continue in S-mode. Return values go in a0 (error) and a1 (value).
 */
import type { CharBackend } from '../../devices/char-backend.js';
import { MIP_MTIP, MIP_SEIP, MIP_SSIP, MIP_STIP, PRIV_S, type HartApi, type MachineModeFirmware } from '../../cpu/index.js';
import type { Ram } from '../../memory/ram.js';
import * as C from './constants.js';
import type { HartStates } from './hsm.js';

/** Exceptions delegated to S-mode: what OpenSBI delegates, plus the ones it would redirect. */
export const SBI_MEDELEG =
  (1 << 0) | // instruction address misaligned
  (1 << 1) | // instruction access fault (OpenSBI redirects)
  (1 << 2) | // illegal instruction (OpenSBI emulates a few CSRs, then redirects)
  (1 << 3) | // breakpoint
  (1 << 4) | // load address misaligned (OpenSBI emulates; our hart reports it, S handles it)
  (1 << 5) | // load access fault
  (1 << 6) | // store address misaligned
  (1 << 7) | // store access fault
  (1 << 8) | // environment call from U-mode
  (1 << 12) | // instruction page fault
  (1 << 13) | // load page fault
  (1 << 15); // store page fault
/** Interrupts delegated to S-mode (SSI, STI, SEI). */
export const SBI_MIDELEG = MIP_SSIP | MIP_STIP | MIP_SEIP;

const CAUSE_SUPERVISOR_ECALL = 9;
const CAUSE_M_TIMER_INTERRUPT = 0x80000007;

/** What the firmware needs of the machine around it. */
export interface SbiPlatform {
  readonly ram: Ram;
  /** Where console output goes (UART0's backend). */
  readonly console: CharBackend;
  /** Takes one byte from the console input (UART0's receive FIFO), or -1 if none. */
  consoleRead(): number;
  /** Programs the CLINT compare register of hart `hartId` (in mtime ticks) and updates MTIP. */
  setTimer(hartId: number, ticks: number): void;
  /** The guest asked to power off (`exitCode` 0, or 1 for a system failure). */
  requestShutdown(exitCode: number): void;
  /** The guest asked for a reboot. */
  requestReset(): void;
  /** Something changed that the scheduler must look at (timer programmed, hart started). */
  reschedule(): void;
  /** Optional log for unsupported calls (`-d unimp`). */
  readonly logUnimp?: (line: string) => void;
}

/** A hart that can drop its decoded-instruction cache (for remote fence.i). */
interface DecodeCacheOwner {
  invalidateDecodeCache(): void;
}

function hasDecodeCache(h: HartApi): h is HartApi & DecodeCacheOwner {
  return typeof (h as Partial<DecodeCacheOwner>).invalidateDecodeCache === 'function';
}

/** Sets up a hart's M-mode state the way OpenSBI leaves it, and enters S-mode at `pc`. */
export function enterSupervisor(hart: HartApi, pc: number, a0: number, a1: number): void {
  hart.csrWrite(C.CSR_MEDELEG, SBI_MEDELEG);
  hart.csrWrite(C.CSR_MIDELEG, SBI_MIDELEG);
  hart.csrWrite(C.CSR_MCOUNTEREN, 0xffffffff);
  // One NAPOT entry covering all of memory, R/W/X, so S and U can access everything.
  hart.csrWrite(C.CSR_PMPADDR0, 0xffffffff);
  hart.csrWrite(C.CSR_PMPCFG0, 0x1f);
  hart.csrWrite(C.CSR_MIE, 0);
  hart.setPrivilege(PRIV_S);
  hart.setReg(10, a0 >>> 0);
  hart.setReg(11, a1 >>> 0);
  hart.setPc(pc >>> 0);
}

/** The built-in SBI implementation. */
export class BuiltinSbi implements MachineModeFirmware {
  private harts: readonly HartApi[] = [];

  constructor(
    private readonly platform: SbiPlatform,
    private readonly hsm: HartStates,
  ) {}

  /** Gives the firmware the harts (they are created after it, since each needs the firmware). */
  attach(harts: readonly HartApi[]): void {
    this.harts = harts;
  }

  /** Wakes a suspended hart when an enabled interrupt is pending; true if it may run. */
  pollSuspended(hart: HartApi): boolean {
    const id = hart.hartId;
    if (this.hsm.state(id) !== C.HSM_SUSPENDED) return this.hsm.isStarted(id);
    if ((hart.csrRead(C.CSR_MIP) & hart.csrRead(C.CSR_MIE)) === 0) return false;
    this.hsm.setState(id, C.HSM_STARTED);
    if (this.hsm.suspendType(id) === C.HSM_SUSPEND_NON_RETENTIVE) {
      const resume = this.hsm.resumeAddr(id);
      const opaque = this.hsm.opaque(id);
      hart.reset(resume);
      enterSupervisor(hart, resume, id, opaque);
    }
    return true;
  }

  handleTrap(hart: HartApi, cause: number, _tval: number): boolean {
    const c = cause >>> 0;
    if (c === CAUSE_M_TIMER_INTERRUPT) {
      // As OpenSBI: forward to S-mode as STIP and mask MTIE until the next set_timer.
      hart.setInterruptPending(MIP_STIP, true);
      hart.csrWrite(C.CSR_MIE, hart.csrRead(C.CSR_MIE) & ~MIP_MTIP);
      return true;
    }
    if (c !== CAUSE_SUPERVISOR_ECALL) return false;
    const eid = hart.getReg(17) >>> 0;
    const fid = hart.getReg(16) >>> 0;
    const a = [0, 1, 2, 3, 4, 5].map((i) => hart.getReg(10 + i) >>> 0) as [number, number, number, number, number, number];
    const pc = hart.getPc();
    if (eid <= C.SBI_LEGACY_SHUTDOWN) {
      const r = this.legacy(hart, eid, a);
      if (r !== undefined) hart.setReg(10, r >>> 0);
      hart.setPc((pc + 4) >>> 0);
      return true;
    }
    const [err, value] = this.call(hart, eid, fid, a);
    if (err === undefined) return true; // the hart stopped or was re-entered elsewhere
    hart.setReg(10, err >>> 0);
    hart.setReg(11, (value ?? 0) >>> 0);
    hart.setPc((pc + 4) >>> 0);
    return true;
  }

  /** The legacy v0.1 calls; returns the a0 result, or undefined to leave a0 alone. */
  private legacy(hart: HartApi, eid: number, a: readonly number[]): number | undefined {
    switch (eid) {
      case C.SBI_LEGACY_SET_TIMER:
        this.setTimer(hart, a[0]! + a[1]! * 0x1_0000_0000);
        return 0;
      case C.SBI_LEGACY_CONSOLE_PUTCHAR:
        this.platform.console.write(new Uint8Array([a[0]! & 0xff]));
        return 0;
      case C.SBI_LEGACY_CONSOLE_GETCHAR:
        return this.platform.consoleRead();
      case C.SBI_LEGACY_CLEAR_IPI:
        hart.setInterruptPending(MIP_SSIP, false);
        return 0;
      case C.SBI_LEGACY_SEND_IPI:
        for (const t of this.legacyMask(a[0]!)) t.setInterruptPending(MIP_SSIP, true);
        return 0;
      case C.SBI_LEGACY_REMOTE_FENCE_I:
        for (const t of this.legacyMask(a[0]!)) if (hasDecodeCache(t)) t.invalidateDecodeCache();
        return 0;
      case C.SBI_LEGACY_REMOTE_SFENCE_VMA:
      case C.SBI_LEGACY_REMOTE_SFENCE_VMA_ASID:
        for (const t of this.legacyMask(a[0]!)) t.flushTlb();
        return 0;
      default: // SBI_LEGACY_SHUTDOWN
        this.platform.requestShutdown(0);
        hart.requestExit();
        return 0;
    }
  }

  /**
   * Legacy calls pass a pointer to the hart mask. It is an S-mode virtual address; the
   * firmware reads it as a physical address when it lies in RAM and treats anything else
   * (and a null pointer) as "all harts".
   */
  private legacyMask(ptr: number): HartApi[] {
    if (ptr !== 0 && this.platform.ram.contains(ptr, 4)) {
      const bytes = this.platform.ram.readBytes(ptr, 4);
      const mask = (bytes[0]! | (bytes[1]! << 8) | (bytes[2]! << 16) | (bytes[3]! << 24)) >>> 0;
      return this.harts.filter((h) => h.hartId < 32 && (mask >>> h.hartId) & 1);
    }
    return [...this.harts];
  }

  /** Harts selected by (hart_mask, hart_mask_base), or undefined if one is invalid. */
  private maskTargets(mask: number, base: number): HartApi[] | undefined {
    if (base === 0xffffffff) return [...this.harts];
    const out: HartApi[] = [];
    for (let bit = 0; bit < 32; bit++) {
      if (((mask >>> bit) & 1) === 0) continue;
      const h = this.harts[base + bit];
      if (h === undefined) return undefined;
      out.push(h);
    }
    return out;
  }

  private setTimer(hart: HartApi, ticks: number): void {
    hart.setInterruptPending(MIP_STIP, false);
    hart.csrWrite(C.CSR_MIE, hart.csrRead(C.CSR_MIE) | MIP_MTIP);
    this.platform.setTimer(hart.hartId, ticks);
    this.platform.reschedule();
  }

  private probe(eid: number): boolean {
    return (
      eid <= C.SBI_LEGACY_SHUTDOWN ||
      eid === C.SBI_EXT_BASE ||
      eid === C.SBI_EXT_TIME ||
      eid === C.SBI_EXT_IPI ||
      eid === C.SBI_EXT_RFENCE ||
      eid === C.SBI_EXT_HSM ||
      eid === C.SBI_EXT_SRST ||
      eid === C.SBI_EXT_DBCN
    );
  }

  /** A v0.2+ call: returns [error, value], or [undefined] when a0/a1/pc must not be touched. */
  private call(hart: HartApi, eid: number, fid: number, a: readonly number[]): [number | undefined, number?] {
    switch (eid) {
      case C.SBI_EXT_BASE:
        switch (fid) {
          case 0: return [C.SBI_SUCCESS, C.SBI_SPEC_VERSION];
          case 1: return [C.SBI_SUCCESS, C.SBI_IMPL_ID];
          case 2: return [C.SBI_SUCCESS, C.SBI_IMPL_VERSION];
          case 3: return [C.SBI_SUCCESS, this.probe(a[0]!) ? 1 : 0];
          case 4: return [C.SBI_SUCCESS, hart.csrRead(C.CSR_MVENDORID)];
          case 5: return [C.SBI_SUCCESS, hart.csrRead(C.CSR_MARCHID)];
          case 6: return [C.SBI_SUCCESS, hart.csrRead(C.CSR_MIMPID)];
        }
        break;
      case C.SBI_EXT_TIME:
        if (fid === 0) {
          this.setTimer(hart, a[0]! + a[1]! * 0x1_0000_0000);
          return [C.SBI_SUCCESS, 0];
        }
        break;
      case C.SBI_EXT_IPI:
        if (fid === 0) {
          const targets = this.maskTargets(a[0]!, a[1]!);
          if (targets === undefined) return [C.SBI_ERR_INVALID_PARAM, 0];
          for (const t of targets) t.setInterruptPending(MIP_SSIP, true);
          this.platform.reschedule();
          return [C.SBI_SUCCESS, 0];
        }
        break;
      case C.SBI_EXT_RFENCE: {
        if (fid > 2) break; // hypervisor fences: no H extension
        const targets = this.maskTargets(a[0]!, a[1]!);
        if (targets === undefined) return [C.SBI_ERR_INVALID_PARAM, 0];
        for (const t of targets) {
          if (fid === 0) {
            if (hasDecodeCache(t)) t.invalidateDecodeCache();
          } else {
            t.flushTlb();
          }
        }
        return [C.SBI_SUCCESS, 0];
      }
      case C.SBI_EXT_HSM:
        return this.hsmCall(hart, fid, a);
      case C.SBI_EXT_SRST:
        if (fid === 0) {
          const type = a[0]!;
          if (type === C.SRST_SHUTDOWN) {
            this.platform.requestShutdown(a[1] === C.SRST_REASON_SYSTEM_FAILURE ? 1 : 0);
          } else if (type === C.SRST_COLD_REBOOT || type === C.SRST_WARM_REBOOT) {
            this.platform.requestReset();
          } else {
            return [C.SBI_ERR_INVALID_PARAM, 0];
          }
          hart.requestExit();
          return [C.SBI_SUCCESS, 0];
        }
        break;
      case C.SBI_EXT_DBCN:
        return this.dbcn(fid, a);
    }
    this.platform.logUnimp?.(
      `sbi: hart ${hart.hartId}: unsupported call eid 0x${eid.toString(16)} fid ${fid} at pc 0x${hart.getPc().toString(16)}`,
    );
    return [C.SBI_ERR_NOT_SUPPORTED, 0];
  }

  private hsmCall(hart: HartApi, fid: number, a: readonly number[]): [number | undefined, number?] {
    switch (fid) {
      case 0: { // hart_start(hartid, start_addr, opaque)
        const target = this.harts[a[0]!];
        if (target === undefined) return [C.SBI_ERR_INVALID_PARAM, 0];
        if (this.hsm.state(target.hartId) !== C.HSM_STOPPED) return [C.SBI_ERR_ALREADY_AVAILABLE, 0];
        if (!this.platform.ram.contains(a[1]!, 2)) return [C.SBI_ERR_INVALID_ADDRESS, 0];
        target.reset(a[1]!);
        enterSupervisor(target, a[1]!, target.hartId, a[2]!);
        this.hsm.setState(target.hartId, C.HSM_STARTED);
        this.platform.reschedule();
        return [C.SBI_SUCCESS, 0];
      }
      case 1: // hart_stop()
        this.hsm.setState(hart.hartId, C.HSM_STOPPED);
        hart.requestExit();
        return [undefined];
      case 2: { // hart_get_status(hartid)
        const id = a[0]!;
        if (id >= this.harts.length) return [C.SBI_ERR_INVALID_PARAM, 0];
        return [C.SBI_SUCCESS, this.hsm.state(id)];
      }
      case 3: { // hart_suspend(type, resume_addr, opaque)
        const type = a[0]!;
        if (type !== C.HSM_SUSPEND_RETENTIVE && type !== C.HSM_SUSPEND_NON_RETENTIVE) {
          return [C.SBI_ERR_INVALID_PARAM, 0];
        }
        if (type === C.HSM_SUSPEND_NON_RETENTIVE && !this.platform.ram.contains(a[1]!, 2)) {
          return [C.SBI_ERR_INVALID_ADDRESS, 0];
        }
        // A retentive suspend returns success when an interrupt wakes the hart (like WFI).
        this.hsm.setSuspend(hart.hartId, type, a[1]!, a[2]!);
        this.hsm.setState(hart.hartId, C.HSM_SUSPENDED);
        hart.requestExit();
        return [C.SBI_SUCCESS, 0];
      }
    }
    return [C.SBI_ERR_NOT_SUPPORTED, 0];
  }

  private dbcn(fid: number, a: readonly number[]): [number, number] {
    const ram = this.platform.ram;
    switch (fid) {
      case 0: { // write(num_bytes, base_lo, base_hi)
        const n = a[0]!;
        if (a[2] !== 0 || !ram.contains(a[1]!, n)) return [C.SBI_ERR_INVALID_PARAM, 0];
        if (n > 0) this.platform.console.write(ram.readBytes(a[1]!, n));
        return [C.SBI_SUCCESS, n];
      }
      case 1: { // read(num_bytes, base_lo, base_hi)
        const n = a[0]!;
        if (a[2] !== 0 || !ram.contains(a[1]!, n)) return [C.SBI_ERR_INVALID_PARAM, 0];
        const got: number[] = [];
        while (got.length < n) {
          const c = this.platform.consoleRead();
          if (c < 0) break;
          got.push(c);
        }
        if (got.length > 0) ram.writeBytes(a[1]!, new Uint8Array(got));
        return [C.SBI_SUCCESS, got.length];
      }
      case 2: // write_byte(byte)
        this.platform.console.write(new Uint8Array([a[0]! & 0xff]));
        return [C.SBI_SUCCESS, 0];
    }
    return [C.SBI_ERR_NOT_SUPPORTED, 0];
  }
}
