/** Big-endian field access for qcow2 structures (all numbers in qcow2 are big-endian). */

/** A DataView over all of `bytes`. */
export function viewOf(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * The 64-bit field at `offset` as a number, or undefined if it is 2^53 or more (no qcow2 file
 * offset or size we can handle is that large; the caller names the field in its error).
 */
export function readU64(view: DataView, offset: number): number | undefined {
  const hi = view.getUint32(offset);
  const lo = view.getUint32(offset + 4);
  if (hi >= 0x200000) return undefined;
  return hi * 0x1_0000_0000 + lo;
}

/** Stores `value` (a safe non-negative integer) as a 64-bit field at `offset`. */
export function writeU64(view: DataView, offset: number, value: number): void {
  view.setUint32(offset, Math.floor(value / 0x1_0000_0000));
  view.setUint32(offset + 4, value >>> 0);
}

/** `value` as 0x-prefixed hex (offsets in messages). */
export function hex(value: number): string {
  return `0x${value.toString(16)}`;
}

/** Bytes as text (names in the header and the snapshot table are UTF-8 in practice). */
export function decodeText(bytes: Uint8Array): string {
  return new TextDecoder().decode(bytes);
}

/** Text as UTF-8 bytes. */
export function encodeText(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

/** `value` rounded up to a multiple of `align` (a power of two or any positive integer). */
export function roundUp(value: number, align: number): number {
  return Math.ceil(value / align) * align;
}
