/** Errors the board raises for bad user input (options and image files). */

/**
 * A configuration or boot image the board cannot use. The message is one line that names the
 * option or file, e.g. `-kernel demo.elf: not a RISC-V ELF (e_machine 62)`.
 */
export class BoardError extends Error {
  override name = 'BoardError';
}
