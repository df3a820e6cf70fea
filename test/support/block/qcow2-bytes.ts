/**
 * The header fields and table entries of a qcow2 file, read and written in its bytes: to damage
 * an image on purpose in the checker's and the reader's tests.
 */
import assert from 'node:assert/strict';

/** The header fields of a qcow2 file needed to find its tables. */
export interface Qcow2Layout {
  readonly clusterSize: number;
  readonly l1: number;
  readonly refcountTable: number;
  readonly refcountBits: number;
}

/** Reads the layout of the qcow2 image in `bytes`. */
export function qcow2Layout(bytes: Uint8Array): Qcow2Layout {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  assert.equal(v.getUint32(0), 0x514649fb, 'a qcow2 image');
  return {
    clusterSize: 2 ** v.getUint32(20), l1: Number(v.getBigUint64(40)),
    refcountTable: Number(v.getBigUint64(48)), refcountBits: v.getUint32(4) === 3 ? 2 ** v.getUint32(96) : 16,
  };
}

const OFFSET_MASK = 0x00fffffffffffe00n;

/** The host offset of the data cluster of the first entry of the first L2 table. */
export function firstDataCluster(bytes: Uint8Array): number {
  const h = qcow2Layout(bytes);
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const l2 = Number(v.getBigUint64(h.l1) & OFFSET_MASK);
  return Number(v.getBigUint64(l2) & OFFSET_MASK);
}

/** Sets the 16-bit refcount of cluster `index` (covered by the first refcount block). */
export function setRefcount(bytes: Uint8Array, index: number, value: number): void {
  const h = qcow2Layout(bytes);
  assert.equal(h.refcountBits, 16);
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  v.setUint16(Number(v.getBigUint64(h.refcountTable)) + index * 2, value);
}
