/**
 * The hart's interrupt-pending bits (mip/mie) and what an interrupt controller needs of a hart.
 * The CPU defines them; the CLINT, the PLIC and the built-in SBI import them from the cpu's
 * index (as TinyEMU's CPU exports set_mip/reset_mip and nothing else of its interrupt logic).
 */

/** Supervisor software interrupt pending (mip bit 1). */
export const MIP_SSIP = 1 << 1;
/** Machine software interrupt pending (mip bit 3, the CLINT's msip). */
export const MIP_MSIP = 1 << 3;
/** Supervisor timer interrupt pending (mip bit 5). */
export const MIP_STIP = 1 << 5;
/** Machine timer interrupt pending (mip bit 7, the CLINT's mtimecmp). */
export const MIP_MTIP = 1 << 7;
/** Supervisor external interrupt pending (mip bit 9, the PLIC's S-mode context). */
export const MIP_SEIP = 1 << 9;
/** Machine external interrupt pending (mip bit 11, the PLIC's M-mode context). */
export const MIP_MEIP = 1 << 11;

/** Interrupts mideleg can delegate to S-mode. */
export const DELEGABLE_INTS = MIP_SSIP | MIP_STIP | MIP_SEIP;
/** The writable bits of mie. */
export const MIE_MASK = MIP_SSIP | MIP_MSIP | MIP_STIP | MIP_MTIP | MIP_SEIP | MIP_MEIP;
/** Interrupt priority order (cause numbers): MEI, MSI, MTI, SEI, SSI, STI. */
export const IRQ_ORDER: readonly number[] = [11, 3, 7, 9, 1, 5];

/** What an interrupt controller needs of a hart: set or clear mip bits (atomically). */
export interface HartInterruptPins {
  setInterruptPending(mask: number, level: boolean): void;
}
