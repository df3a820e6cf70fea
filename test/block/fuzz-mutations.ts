/**
 * The mutations of the qcow2 reader's fuzz test: each one a pure function of the base image and
 * a case number (seeded), so a failing case is rebuilt from the seed and number it prints.
 *
 * What each mutation lets the reader do:
 * - `same`: the bytes changed are ones a read ignores (the header cluster past the header and
 *   its extensions, refcount blocks, the tables and clusters only snapshots use, the COPIED flag
 *   of an uncompressed cluster's entry, bytes appended past the end): the image must open and
 *   read exactly the original content;
 * - `data`: a byte of a data cluster of the active table: the image must open and read the
 *   original with that byte changed at its guest offset;
 * - `any`: anything else (header fields, table entries, compressed data, truncation): an
 *   ImageError or a read, never another exception or a hang.
 */
import { seededRandom } from '../helpers/host-utils.js';
import type { Region, RegionKind } from '../support/block/qcow2-bytes.js';

/** What the read of a mutated image must give. */
export type Expectation =
  | { readonly kind: 'same' }
  | { readonly kind: 'data'; readonly guestOffset: number; readonly value: number }
  | { readonly kind: 'any' };

/** One mutated image. */
export interface Mutation {
  readonly description: string;
  readonly bytes: Uint8Array;
  readonly expect: Expectation;
}

/** A base image of the fuzz test: its file and the regions of it. */
export interface FuzzBase {
  readonly name: string;
  readonly bytes: Uint8Array;
  readonly regions: readonly Region[];
}

/** Regions whose bytes a read of the active disk ignores. */
const IGNORED: ReadonlySet<RegionKind> = new Set(['header-padding', 'refcount-block', 'snapshot-l1', 'snapshot-l2', 'snapshot-data']);
/** Regions whose fields the reader interprets (where boundary values go). */
const TABLES: readonly RegionKind[] = ['header', 'l1', 'l2', 'refcount-table', 'snapshot-table', 'snapshot-l1'];

const hex = (n: number | bigint): string => `0x${n.toString(16)}`;

/** The seed of case `index` of a run seeded `seed`. */
function caseSeed(seed: number, index: number): number {
  return (seed ^ Math.imul(index + 1, 0x9e3779b1)) >>> 0;
}

/** Builds mutation number `index` of the run seeded `seed` from `base`. */
export function mutation(base: FuzzBase, seed: number, index: number): Mutation {
  const rnd = seededRandom(caseSeed(seed, index));
  const int = (n: number): number => Math.floor(rnd() * n);
  const pick = <T>(items: readonly T[]): T => items[int(items.length)]!;
  const bytes = base.bytes.slice();
  const v = new DataView(bytes.buffer);
  const size = bytes.length;
  const cs = 2 ** v.getUint32(20);
  const regionOf = (kinds: readonly RegionKind[]): Region | undefined => {
    const rs = base.regions.filter((r) => kinds.includes(r.kind));
    return rs.length === 0 ? undefined : pick(rs);
  };
  const anyRegion = (): Region => pick(base.regions);
  const expectAt = (r: Region, at: number): Expectation =>
    IGNORED.has(r.kind) ? { kind: 'same' }
      : r.kind === 'data' && r.virtual !== undefined ? { kind: 'data', guestOffset: r.virtual + (at - r.offset), value: bytes[at]! }
        : { kind: 'any' };
  const kind = int(7);
  if (kind === 0) {
    // One bit flipped anywhere in the image's structures or data.
    const r = anyRegion();
    const at = r.offset + int(r.length);
    const bit = int(8);
    bytes[at]! ^= 1 << bit;
    return { description: `flip bit ${bit} of byte ${hex(at)} (${r.kind})`, bytes, expect: expectAt(r, at) };
  }
  if (kind === 1) {
    // A boundary value in a header field or table entry.
    const r = regionOf(TABLES) ?? anyRegion();
    const width = r.kind === 'header' && rnd() < 0.5 ? 4 : 8;
    const at = r.offset + Math.floor(int(Math.max(1, r.length - width + 1)) / width) * width;
    const values: bigint[] = [0n, 1n, 0x1ffn, 0x200n, BigInt(cs), BigInt(cs - 1), BigInt(size), BigInt(size - 1), BigInt(size + cs),
      BigInt(Math.floor(size / cs) * cs), 0x7fffffffn, 0xffffffffn, 0x100000000n, 1n << 53n, 1n << 55n, (1n << 56n) - 512n, 1n << 62n, 1n << 63n,
      (1n << 64n) - 1n, BigInt(r.offset), BigInt(r.offset) | (1n << 63n), BigInt(cs) | (1n << 62n), BigInt(size) | (1n << 63n)];
    const value = pick(values) & (width === 4 ? 0xffffffffn : (1n << 64n) - 1n);
    if (width === 4) v.setUint32(at, Number(value));
    else v.setBigUint64(at, value);
    return { description: `set the ${width * 8}-bit field at ${hex(at)} (${r.kind}) to ${hex(value)}`, bytes, expect: { kind: 'any' } };
  }
  if (kind === 2) {
    // A run of random bytes.
    const r = anyRegion();
    const at = r.offset + int(r.length);
    const n = Math.min(1 + int(16), size - at);
    for (let i = 0; i < n; i++) bytes[at + i] = int(256);
    const inside = at + n <= r.offset + r.length;
    const expect: Expectation = inside && IGNORED.has(r.kind) ? { kind: 'same' } : { kind: 'any' };
    return { description: `${n} random bytes at ${hex(at)} (${r.kind})`, bytes, expect };
  }
  if (kind === 3) {
    // The file cut short: inside the header, anywhere, or at a cluster boundary.
    const where = rnd();
    const length = where < 0.25 ? int(Math.min(size, 128)) : where < 0.6 ? int(size) : int(Math.ceil(size / cs)) * cs;
    return { description: `truncated to ${length} bytes`, bytes: bytes.slice(0, length), expect: { kind: 'any' } };
  }
  if (kind === 4) {
    // Junk appended past the end of the file: not part of any cluster in use.
    const n = 1 + int(2 * cs);
    const grown = new Uint8Array(size + n);
    grown.set(bytes);
    for (let i = size; i < grown.length; i++) grown[i] = int(256);
    return { description: `${n} random bytes appended`, bytes: grown, expect: { kind: 'same' } };
  }
  if (kind === 5) {
    // The COPIED flag of an active L1 or L2 entry toggled: it matters to writes only (on a
    // compressed cluster's entry it is a corruption, so those are left alone).
    const r = regionOf(['l1', 'l2']);
    if (r !== undefined) {
      const entries: number[] = [];
      for (let at = r.offset; at < r.offset + r.length; at += 8) {
        const e = v.getBigUint64(at);
        if ((e & 0x00fffffffffffe00n) !== 0n && (e & (1n << 62n)) === 0n) entries.push(at);
      }
      if (entries.length > 0) {
        const at = pick(entries);
        v.setBigUint64(at, v.getBigUint64(at) ^ (1n << 63n));
        return { description: `toggle the COPIED flag of the ${r.kind} entry at ${hex(at)}`, bytes, expect: { kind: 'same' } };
      }
    }
  }
  // A header field set to a random value (every field of the header, whatever it means).
  const header = base.regions.find((r) => r.kind === 'header')!;
  const at = Math.floor(int(Math.min(header.length, 112)) / 4) * 4;
  const value = int(2 ** 32);
  if (at + 4 <= size) v.setUint32(at, value);
  return { description: `set the 32-bit header word at ${hex(at)} to ${hex(value)}`, bytes, expect: { kind: 'any' } };
}
