/**
 * The sizes derived from a qcow2 header (cluster, L2 and refcount block geometry) and the
 * encoding of L1 and L2 table entries (docs/interop/qcow2.txt, "Cluster mapping").
 */
import { ImageError } from '../errors.js';
import { hex } from './bytes.js';

/** Cluster and table sizes of one image. */
export interface Geometry {
  readonly name: string;
  readonly version: 2 | 3;
  readonly clusterBits: number;
  readonly clusterSize: number;
  /** Entries in one L2 table (clusterSize / 8). */
  readonly l2Entries: number;
  /** Bytes of guest disk one L1 entry covers. */
  readonly bytesPerL1Entry: number;
  readonly refcountBits: number;
  /** Entries in one refcount block. */
  readonly refblockEntries: number;
}

/** The geometry of an image with these header fields. */
export function geometryOf(name: string, version: 2 | 3, clusterBits: number, refcountOrder: number): Geometry {
  const clusterSize = 2 ** clusterBits;
  const l2Entries = clusterSize / 8;
  const refcountBits = 2 ** refcountOrder;
  return {
    name, version, clusterBits, clusterSize, l2Entries, bytesPerL1Entry: clusterSize * l2Entries,
    refcountBits, refblockEntries: (clusterSize * 8) / refcountBits,
  };
}

/** Bit 63 of L1/L2 entries (in the high word): the cluster's refcount is exactly one. */
export const COPIED = 0x8000_0000;
/** Bit 62 of L2 entries (in the high word): a compressed cluster. */
const COMPRESSED = 0x4000_0000;
/** Bits 9-55: a host offset, in the high word's low 24 bits and the low word's top 23. */
const HI_OFFSET = 0x00ff_ffff;
const LO_OFFSET = 0xffff_fe00;

/** What one L2 entry says about its guest cluster. */
export type ClusterMapping =
  | { readonly kind: 'unallocated' }
  /** Reads as zeros; `host` is a preallocated cluster (refcounted) or 0. */
  | { readonly kind: 'zero'; readonly host: number; readonly copied: boolean }
  | { readonly kind: 'normal'; readonly host: number; readonly copied: boolean }
  /** `host` is a byte offset (not aligned); `sectors` 512-byte sectors from host's sector hold the data. */
  | { readonly kind: 'compressed'; readonly host: number; readonly sectors: number };

/** An L1 entry: the L2 table's offset (0 if none) and the COPIED flag. */
export interface L1Entry {
  readonly l2Offset: number;
  readonly copied: boolean;
}

/** Decodes the L1 entry at byte `at` of `view`; `where` names it in errors. */
export function decodeL1Entry(g: Geometry, view: DataView, at: number, where: () => string): L1Entry {
  const hi = view.getUint32(at);
  const lo = view.getUint32(at + 4);
  if ((hi & 0x7f00_0000) !== 0 || (lo & 0x1ff) !== 0) throw new ImageError(`${g.name}: ${where()} has reserved bits set (${hexEntry(hi, lo)})`);
  const offset = (hi & HI_OFFSET) * 0x1_0000_0000 + ((lo & LO_OFFSET) >>> 0);
  if (offset % g.clusterSize !== 0) throw new ImageError(`${g.name}: ${where()} points at ${hex(offset)}, not aligned to a cluster`);
  return { l2Offset: offset, copied: (hi & COPIED) !== 0 };
}

/** Decodes the L2 entry at byte `at` of `view`; `where` names it in errors. */
export function decodeL2Entry(g: Geometry, view: DataView, at: number, where: () => string): ClusterMapping {
  const hi = view.getUint32(at);
  const lo = view.getUint32(at + 4);
  if ((hi & COMPRESSED) !== 0) {
    const entry = (BigInt(hi) << 32n) | BigInt(lo);
    const offsetBits = BigInt(62 - (g.clusterBits - 8));
    const host = Number(entry & ((1n << offsetBits) - 1n));
    const sectors = Number((entry >> offsetBits) & ((1n << BigInt(g.clusterBits - 8)) - 1n)) + 1;
    if ((hi & COPIED) !== 0) throw new ImageError(`${g.name}: ${where()} is compressed with the COPIED flag set (${hexEntry(hi, lo)})`);
    return { kind: 'compressed', host, sectors };
  }
  const zeroBit = lo & 1;
  if ((hi & 0x3f00_0000) !== 0 || (lo & 0x1fe) !== 0 || (zeroBit !== 0 && g.version === 2)) {
    throw new ImageError(`${g.name}: ${where()} has reserved bits set (${hexEntry(hi, lo)})`);
  }
  const host = (hi & HI_OFFSET) * 0x1_0000_0000 + ((lo & LO_OFFSET) >>> 0);
  const copied = (hi & COPIED) !== 0;
  if (host % g.clusterSize !== 0) throw new ImageError(`${g.name}: ${where()} points at ${hex(host)}, not aligned to a cluster`);
  if (zeroBit !== 0) return { kind: 'zero', host, copied };
  if (host === 0) {
    if (copied) throw new ImageError(`${g.name}: ${where()} has the COPIED flag set but no cluster (${hexEntry(hi, lo)})`);
    return { kind: 'unallocated' };
  }
  return { kind: 'normal', host, copied };
}

/** Stores an L1 or standard L2 entry (offset, COPIED flag, zero flag) at byte `at` of `view`. */
export function encodeEntry(view: DataView, at: number, offset: number, copied: boolean, zero = false): void {
  const hi = Math.floor(offset / 0x1_0000_0000);
  view.setUint32(at, (hi | (copied ? COPIED : 0)) >>> 0);
  view.setUint32(at + 4, ((offset >>> 0) | (zero ? 1 : 0)) >>> 0);
}

/** The host clusters a compressed cluster's data touches (first cluster offset, count). */
export function compressedClusters(g: Geometry, host: number, sectors: number): { first: number; count: number } {
  const start = host - (host % 512);
  const end = start + sectors * 512;
  const first = Math.floor(host / g.clusterSize) * g.clusterSize;
  return { first, count: Math.ceil((end - first) / g.clusterSize) };
}

function hexEntry(hi: number, lo: number): string {
  return `0x${hi.toString(16).padStart(8, '0')}${lo.toString(16).padStart(8, '0')}`;
}
