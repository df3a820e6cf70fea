/**
 * Interrupt wiring. A device raises and lowers a level-triggered line; the interrupt
 * controller (PLIC) owns the lines, and the PLIC and CLINT drive the harts' mip bits.
 */

/** A level-triggered interrupt line into the interrupt controller. */
export interface IrqLine {
  set(level: boolean): void;
}

/** What an interrupt controller needs of a hart: set or clear mip bits (atomically). */
export interface HartInterruptPins {
  setInterruptPending(mask: number, level: boolean): void;
}

/** mip/mie bit masks. */
export const MIP_SSIP = 1 << 1;
export const MIP_MSIP = 1 << 3;
export const MIP_STIP = 1 << 5;
export const MIP_MTIP = 1 << 7;
export const MIP_SEIP = 1 << 9;
export const MIP_MEIP = 1 << 11;
