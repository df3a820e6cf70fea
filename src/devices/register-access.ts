/**
 * Helpers for devices whose registers are 32-bit words but which accept narrower accesses.
 */

/** The `size` bytes at byte `offset & 3` of a 32-bit register value, as an unsigned number. */
export function narrowRead(word: number, offset: number, size: 1 | 2 | 4): number {
  if (size === 4) return word >>> 0;
  const shift = (offset & 3) * 8;
  return (word >>> shift) & (size === 1 ? 0xff : 0xffff);
}
