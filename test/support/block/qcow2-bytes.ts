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

/** What a byte range of a qcow2 file holds. */
export type RegionKind =
  | 'header' | 'header-padding' | 'l1' | 'l2' | 'refcount-table' | 'refcount-block' | 'snapshot-table'
  | 'snapshot-l1' | 'snapshot-l2' | 'data' | 'snapshot-data' | 'compressed';

/** A byte range of a qcow2 file and what it holds; `virtual` is the guest offset of a data cluster. */
export interface Region {
  readonly kind: RegionKind;
  readonly offset: number;
  readonly length: number;
  readonly virtual?: number;
}

/**
 * The regions of a valid qcow2 image (version 2 or 3, no bitmaps): the header and its unused
 * rest, the active and snapshot L1/L2 tables, the refcount table and blocks, the snapshot table,
 * the data clusters of the active table (with their guest offset) and compressed data, and the
 * clusters only snapshots use. A cluster shared with a snapshot is listed once, as the active
 * table sees it.
 */
export function qcow2Regions(bytes: Uint8Array): Region[] {
  const h = qcow2Layout(bytes);
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const cs = h.clusterSize;
  const clusterBits = Math.log2(cs);
  const version = v.getUint32(4);
  const regions: Region[] = [];
  const seen = new Set<number>();
  const add = (r: Region): void => {
    if (r.length <= 0 || r.offset + r.length > bytes.length) return;
    const key = r.offset;
    if (seen.has(key)) return;
    seen.add(key);
    regions.push(r);
  };
  // The header, its extensions (up to the end marker) and the backing file name; the rest is unused.
  let end = version === 3 ? v.getUint32(100) : 72;
  for (;;) {
    const type = v.getUint32(end);
    const length = v.getUint32(end + 4);
    end += 8;
    if (type === 0) break;
    end += Math.ceil(length / 8) * 8;
  }
  const backingOffset = Number(v.getBigUint64(8));
  if (backingOffset > 0) end = Math.max(end, backingOffset + v.getUint32(16));
  add({ kind: 'header', offset: 0, length: end });
  add({ kind: 'header-padding', offset: end, length: cs - end });
  const l2Tables = (l1: number, l1Size: number, kind: 'l1' | 'snapshot-l1'): void => {
    const active = kind === 'l1';
    add({ kind, offset: l1, length: l1Size * 8 });
    for (let i = 0; i < l1Size; i++) {
      const l2 = Number(v.getBigUint64(l1 + i * 8) & OFFSET_MASK);
      if (l2 === 0) continue;
      add({ kind: active ? 'l2' : 'snapshot-l2', offset: l2, length: cs });
      for (let j = 0; j < cs / 8; j++) {
        const e = v.getBigUint64(l2 + j * 8);
        const guest = (i * (cs / 8) + j) * cs;
        if ((e & (1n << 62n)) !== 0n) {
          const shift = 62n - BigInt(clusterBits - 8);
          const host = Number(e & ((1n << shift) - 1n));
          const sectors = Number((e >> shift) & ((1n << BigInt(clusterBits - 8)) - 1n)) + 1;
          if (active) add({ kind: 'compressed', offset: host, length: sectors * 512 - (host % 512), virtual: guest });
        } else if ((e & OFFSET_MASK) !== 0n && (e & 1n) === 0n) {
          add(active ? { kind: 'data', offset: Number(e & OFFSET_MASK), length: cs, virtual: guest } : { kind: 'snapshot-data', offset: Number(e & OFFSET_MASK), length: cs });
        }
      }
    }
  };
  l2Tables(h.l1, v.getUint32(36), 'l1');
  const reftableClusters = v.getUint32(56);
  add({ kind: 'refcount-table', offset: h.refcountTable, length: reftableClusters * cs });
  for (let i = 0; i < reftableClusters * cs / 8; i++) {
    const block = Number(v.getBigUint64(h.refcountTable + i * 8) & 0xfffffffffffffe00n);
    if (block !== 0) add({ kind: 'refcount-block', offset: block, length: cs });
  }
  let at = Number(v.getBigUint64(64));
  const start = at;
  for (let n = v.getUint32(60), i = 0; i < n; i++) {
    l2Tables(Number(v.getBigUint64(at)), v.getUint32(at + 8), 'snapshot-l1');
    at += Math.ceil((40 + v.getUint32(at + 36) + v.getUint16(at + 12) + v.getUint16(at + 14)) / 8) * 8;
  }
  if (at > start) add({ kind: 'snapshot-table', offset: start, length: at - start });
  return regions;
}
