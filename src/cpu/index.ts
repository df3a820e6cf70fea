/**
 * The CPU's front door: the RV32IMAC hart, the interface the board and the host drive it
 * through, its interrupt-pending bits (the only CPU definitions devices use) and the
 * disassembler. The hart sees only RAM, the bus (an AddressMap) and mip.
 */
export { Hart, getDefaultCpuEngine, setDefaultCpuEngine } from './hart.js';
export { PRIV_M, PRIV_S, PRIV_U } from './hart-api.js';
export type { CpuEngine, CpuTracer, GuestTime, HartApi, HartOptions, MachineModeFirmware, PrivilegeMode } from './hart-api.js';
export { MIP_MEIP, MIP_MSIP, MIP_MTIP, MIP_SEIP, MIP_SSIP, MIP_STIP, type HartInterruptPins } from './interrupts.js';
export { REG_NAMES, csrName, disassemble } from './disasm.js';
