/**
 * `-d int,unimp,in_asm` and `-d guest_errors`: trace lines formatted like QEMU 7.2's, written
 * to the host's log sink.
 */
import type { CpuTracer, PrivilegeMode } from '../cpu/index.js';
import type { UnmappedAccessHook } from '../memory/address-map.js';
import type { TraceFlags } from './machine-api.js';

const EXCEPTION_NAMES = [
  'misaligned_fetch', 'fault_fetch', 'illegal_instruction', 'breakpoint', 'misaligned_load', 'fault_load',
  'misaligned_store', 'fault_store', 'user_ecall', 'supervisor_ecall', 'hypervisor_ecall', 'machine_ecall',
  'exec_page_fault', 'load_page_fault', 'reserved', 'store_page_fault',
];
const INTERRUPT_NAMES = [
  'u_software', 's_software', 'vs_software', 'm_software', 'u_timer', 's_timer', 'vs_timer', 'm_timer',
  'u_external', 's_external', 'vs_external', 'm_external',
];

function hex8(n: number): string {
  return (n >>> 0).toString(16).padStart(8, '0');
}

/** QEMU's name for a trap cause (riscv_cpu_get_trap_name). */
export function trapName(cause: number): string {
  const async = (cause & 0x80000000) !== 0;
  const code = cause & 0x7fffffff;
  const names = async ? INTERRUPT_NAMES : EXCEPTION_NAMES;
  return names[code] ?? '(unknown)';
}

/** Builds the CPU tracer for the enabled flags, or undefined if none is on. */
export function createCpuTracer(flags: TraceFlags, log: (line: string) => void): CpuTracer | undefined {
  if (!flags.int && !flags.unimp && !flags.inAsm) return undefined;
  const tracer: CpuTracer = {};
  if (flags.int) {
    tracer.trap = (hartId: number, cause: number, epc: number, tval: number, _from: PrivilegeMode, _to: PrivilegeMode) => {
      const async = (cause & 0x80000000) !== 0 ? 1 : 0;
      log(
        `riscv_cpu_do_interrupt: hart:${hartId}, async:${async}, cause:${hex8(cause & 0x7fffffff)}, ` +
          `epc:0x${hex8(epc)}, tval:0x${hex8(tval)}, desc=${trapName(cause)}`,
      );
    };
  }
  if (flags.unimp) {
    tracer.unimplemented = (hartId: number, pc: number, what: string) => {
      log(`hart ${hartId}: pc 0x${hex8(pc)}: unimplemented ${what}`);
    };
  }
  if (flags.inAsm) {
    tracer.instruction = (hartId: number, pc: number, insn: number, text: string) => {
      const width = (insn & 3) === 3 ? hex8(insn) : (insn & 0xffff).toString(16).padStart(4, '0') + '    ';
      log(`${hartId > 0 ? `[hart ${hartId}] ` : ''}0x${hex8(pc)}:  ${width}          ${text}`);
    };
  }
  return tracer;
}

/** The address map's unmapped-access hook for `-d guest_errors`. */
export function guestErrorHook(log: (line: string) => void): UnmappedAccessHook {
  return (paddr: number, size: number, isWrite: boolean) => {
    log(
      `Invalid access at addr 0x${(paddr >>> 0).toString(16).toUpperCase()}, size ${size}, region '(null)', ` +
        `reason: rejected (${isWrite ? 'write' : 'read'})`,
    );
  };
}
