/**
 * Interrupt wiring. A device raises and lowers a level-triggered line; the interrupt
 * controller (PLIC) owns the lines, and the PLIC and CLINT drive the harts' mip bits (defined
 * by the CPU: see src/cpu/interrupts.ts).
 */

/** A level-triggered interrupt line into the interrupt controller. */
export interface IrqLine {
  set(level: boolean): void;
}
