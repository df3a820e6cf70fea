/**
 * The qcow2 consistency check, from the file alone, as `qemu-img check` does it (read only, no
 * repair). It reads the header and the tables itself rather than through the engine it checks:
 * a corrupt table must be reported, not refused on first use.
 *
 * It counts how often each host cluster is used (the header, the active L1 table and its L2
 * tables and data clusters, every snapshot's L1/L2 tables and clusters, the snapshot table, the
 * refcount table, the refcount blocks, the bitmap directory and tables, the encryption header),
 * compares that with the refcount the image stores for it, and checks the COPIED flags of the
 * active tables. A stored refcount lower than the uses is a corruption (the cluster could be
 * freed while in use), higher is a leak (wasted space, no harm). The counts, and the problem
 * lines, are qemu-img check's, so the two tools agree on every image.
 *
 * A file whose header cannot be read as qcow2 (bad magic, a field out of range, an unsupported
 * feature) is refused with an ImageError: there is nothing to check (qemu-img check fails to
 * open it too).
 */
import { ImageError } from '../errors.js';
import type { ImageFile } from '../image-file.js';

/** What the check found, with qemu-img check's counts. */
export interface Qcow2CheckReport {
  /** Problems that can lose data: a refcount lower than the uses, a misaligned or wrong entry. */
  readonly corruptions: number;
  /** Clusters whose refcount is higher than their uses (wasted space). */
  readonly leaks: number;
  /** Parts that could not be checked (an unreadable refcount). */
  readonly checkErrors: number;
  /** One line per problem, qemu-img check's wording (`ERROR cluster 5 refcount=0 reference=1`). */
  readonly problems: readonly string[];
  /** The virtual disk's size in clusters. */
  readonly totalClusters: number;
  /** Clusters of the active table that are allocated (normal, preallocated zero or compressed). */
  readonly allocatedClusters: number;
  /** Allocated clusters not following the previous one of their L2 table in the file. */
  readonly fragmentedClusters: number;
  /** Compressed clusters of the active table. */
  readonly compressedClusters: number;
  /** The end of the last cluster in use or counted (qemu-img's "Image end offset"). */
  readonly imageEndOffset: number;
}

const MAGIC = 0x514649fb;
const ENTRY_OFFSET_MASK = 0x00fffffffffffe00n;
const REFTABLE_OFFSET_MASK = 0xfffffffffffffe00n;
const COPIED = 1n << 63n;
const COMPRESSED = 1n << 62n;
const ZERO = 1n;
const L1_RESERVED = 0x7f000000000001ffn;
const L2_STANDARD_RESERVED = 0x3f000000000001fen;
const INCOMPATIBLE_DIRTY = 1n;
const INCOMPATIBLE_CORRUPT = 2n;
const INCOMPATIBLE_DATA_FILE = 4n;
const INCOMPATIBLE_COMPRESSION_TYPE = 8n;
const INCOMPATIBLE_EXTENDED_L2 = 16n;
const AUTOCLEAR_BITMAPS = 1n;
const EXT_BITMAPS = 0x23852875;
const EXT_CRYPTO = 0x0537be77;
const MAX_L1_BYTES = 32 << 20;
const MAX_REFTABLE_BYTES = 8 << 20;
const MAX_SNAPSHOTS = 65536;
const MAX_BITMAP_DIRECTORY_BYTES = 64 << 20;

/** The header fields the check needs, validated. */
interface CheckHeader {
  readonly version: number;
  readonly clusterBits: number;
  readonly virtualSize: number;
  readonly l1Size: number;
  readonly l1Offset: number;
  readonly refcountTableOffset: number;
  readonly refcountTableEntries: number;
  readonly snapshotCount: number;
  readonly snapshotsOffset: number;
  readonly refcountBits: number;
  readonly bitmaps: { readonly count: number; readonly directoryOffset: number; readonly directorySize: number } | undefined;
  readonly crypto: { readonly offset: number; readonly length: number } | undefined;
}

/** One snapshot's L1 table. */
interface SnapshotL1 {
  readonly id: string;
  readonly name: string;
  readonly l1Offset: number;
  readonly l1Size: number;
}

const hex = (v: bigint | number): string => v.toString(16);

/**
 * A table entry's offset field as a number: offsets of L1, L2 and refcount table entries are
 * multiples of 512 below 2^56, which doubles hold exactly.
 */
function offsetNumber(v: bigint): number {
  return Number(v);
}

/** Reads `length` bytes at `offset`; bytes past the end of the file read as zeros (as QEMU's block layer). */
async function readZeroFilled(file: ImageFile, offset: number, length: number, fileSize: number): Promise<Uint8Array> {
  const out = new Uint8Array(length);
  if (offset < fileSize) await file.read(out.subarray(0, Math.min(length, fileSize - offset)), offset);
  return out;
}

/** Parses and validates the header; throws an ImageError naming the field when it cannot be checked. */
async function readHeader(file: ImageFile, fileSize: number): Promise<CheckHeader> {
  const fail = (what: string): never => {
    throw new ImageError(`${file.name}: ${what}`);
  };
  if (fileSize < 72) fail(`not a qcow2 image: the file is ${fileSize} bytes, shorter than a qcow2 header (72 bytes)`);
  const head = await readZeroFilled(file, 0, Math.min(fileSize, 1 << 21), fileSize);
  const v = new DataView(head.buffer);
  if (v.getUint32(0) !== MAGIC) fail('not a qcow2 image (bad magic at offset 0)');
  const version = v.getUint32(4);
  if (version !== 2 && version !== 3) fail(`unsupported qcow2 version ${version} at offset 4 (2 or 3 expected)`);
  const clusterBits = v.getUint32(20);
  if (clusterBits < 9 || clusterBits > 21) fail(`cluster_bits ${clusterBits} at offset 20 is out of range (9..21)`);
  const clusterSize = 2 ** clusterBits;
  const u64 = (at: number, field: string): number => {
    const x = v.getBigUint64(at);
    if (x > BigInt(Number.MAX_SAFE_INTEGER)) fail(`${field} 0x${hex(x)} at offset ${at} is out of range`);
    return Number(x);
  };
  const aligned = (x: number, at: number, field: string): number => {
    if (x % clusterSize !== 0) fail(`${field} 0x${hex(x)} at offset ${at} is not aligned to a cluster (${clusterSize} bytes)`);
    return x;
  };
  const virtualSize = u64(24, 'size');
  if (v.getUint32(32) !== 0) fail(`encrypted images are not supported (crypt_method ${v.getUint32(32)} at offset 32)`);
  const l1Size = v.getUint32(36);
  if (l1Size * 8 > MAX_L1_BYTES) fail(`l1_size ${l1Size} at offset 36 is too large (at most ${MAX_L1_BYTES / 8})`);
  const l2Entries = clusterSize / 8;
  if (l1Size < Math.ceil(virtualSize / clusterSize / l2Entries)) fail(`l1_size ${l1Size} at offset 36 is too small for the virtual size ${virtualSize}`);
  const l1Offset = aligned(u64(40, 'l1_table_offset'), 40, 'l1_table_offset');
  const refcountTableOffset = aligned(u64(48, 'refcount_table_offset'), 48, 'refcount_table_offset');
  const refcountTableClusters = v.getUint32(56);
  if (refcountTableClusters * clusterSize > MAX_REFTABLE_BYTES) fail(`refcount_table_clusters ${refcountTableClusters} at offset 56 is too large`);
  const snapshotCount = v.getUint32(60);
  if (snapshotCount > MAX_SNAPSHOTS) fail(`nb_snapshots ${snapshotCount} at offset 60 is too large (at most ${MAX_SNAPSHOTS})`);
  const snapshotsOffset = aligned(u64(64, 'snapshots_offset'), 64, 'snapshots_offset');
  let refcountBits = 16;
  let headerLength = 72;
  let autoclear = 0n;
  if (version === 3) {
    if (fileSize < 104) fail(`the file is ${fileSize} bytes, shorter than a version 3 header (104 bytes)`);
    const incompatible = v.getBigUint64(72);
    const known = INCOMPATIBLE_DIRTY | INCOMPATIBLE_CORRUPT | INCOMPATIBLE_DATA_FILE | INCOMPATIBLE_COMPRESSION_TYPE | INCOMPATIBLE_EXTENDED_L2;
    if ((incompatible & ~known) !== 0n) fail(`unknown incompatible feature bits 0x${hex(incompatible & ~known)} at offset 72`);
    if ((incompatible & INCOMPATIBLE_DATA_FILE) !== 0n) fail('external data files are not supported (incompatible feature bit 2)');
    if ((incompatible & INCOMPATIBLE_EXTENDED_L2) !== 0n) fail('extended L2 entries (subclusters) are not supported (incompatible feature bit 4)');
    autoclear = v.getBigUint64(88);
    const refcountOrder = v.getUint32(96);
    if (refcountOrder > 6) fail(`refcount_order ${refcountOrder} at offset 96 is out of range (0..6)`);
    refcountBits = 2 ** refcountOrder;
    headerLength = v.getUint32(100);
    if (headerLength < 104 || headerLength > clusterSize) fail(`header_length ${headerLength} at offset 100 is out of range (104..${clusterSize})`);
  }
  let bitmaps: CheckHeader['bitmaps'];
  let crypto: CheckHeader['crypto'];
  const backingOffset = u64(8, 'backing_file_offset');
  const extensionsEnd = Math.min(clusterSize, fileSize, backingOffset > 0 ? backingOffset : clusterSize);
  for (let at = headerLength; at + 8 <= extensionsEnd;) {
    const type = v.getUint32(at);
    const length = v.getUint32(at + 4);
    if (type === 0) break;
    if (at + 8 + length > extensionsEnd) fail(`header extension 0x${hex(type)} at offset ${at} runs past the end of the header (${length} bytes)`);
    if (type === EXT_BITMAPS && (autoclear & AUTOCLEAR_BITMAPS) !== 0n && length >= 24) {
      const directorySize = u64(at + 16, 'bitmap directory size');
      if (directorySize > MAX_BITMAP_DIRECTORY_BYTES) fail(`bitmap directory size ${directorySize} at offset ${at + 16} is too large`);
      bitmaps = { count: v.getUint32(at + 8), directorySize, directoryOffset: u64(at + 24, 'bitmap directory offset') };
    }
    if (type === EXT_CRYPTO && length >= 16) {
      crypto = { offset: u64(at + 8, 'encryption header offset'), length: Math.min(u64(at + 16, 'encryption header length'), MAX_L1_BYTES) };
    }
    at += 8 + Math.ceil(length / 8) * 8;
  }
  return {
    version, clusterBits, virtualSize, l1Size, l1Offset, refcountTableOffset,
    refcountTableEntries: refcountTableClusters * clusterSize / 8, snapshotCount, snapshotsOffset, refcountBits, bitmaps, crypto,
  };
}

/** Reads the snapshot table: each snapshot's L1 table and the table's size in bytes. */
async function readSnapshots(file: ImageFile, h: CheckHeader, fileSize: number): Promise<{ snapshots: SnapshotL1[]; tableSize: number }> {
  const snapshots: SnapshotL1[] = [];
  let at = h.snapshotsOffset;
  const fail = (i: number, what: string): never => {
    throw new ImageError(`${file.name}: snapshot table entry ${i} at offset 0x${hex(at)} ${what}`);
  };
  for (let i = 0; i < h.snapshotCount; i++) {
    if (at + 40 > fileSize) fail(i, 'runs past the end of the file');
    const fixed = await readZeroFilled(file, at, 40, fileSize);
    const v = new DataView(fixed.buffer);
    const l1Offset = offsetNumber(v.getBigUint64(0));
    const l1Size = v.getUint32(8);
    const idSize = v.getUint16(12);
    const nameSize = v.getUint16(14);
    const extraSize = v.getUint32(36);
    if (extraSize > 1024) fail(i, `has ${extraSize} bytes of extra data (at most 1024)`);
    const entrySize = Math.ceil((40 + extraSize + idSize + nameSize) / 8) * 8;
    if (at + entrySize > fileSize) fail(i, 'runs past the end of the file');
    const strings = await readZeroFilled(file, at + 40 + extraSize, idSize + nameSize, fileSize);
    const text = new TextDecoder();
    snapshots.push({ id: text.decode(strings.subarray(0, idSize)), name: text.decode(strings.subarray(idSize)), l1Offset, l1Size });
    at += entrySize;
  }
  return { snapshots, tableSize: at - h.snapshotsOffset };
}

/** The stored refcounts: the refcount table and its blocks, read on demand. */
class StoredRefcounts {
  private readonly blocks = new Map<number, Uint8Array | string>();
  private readonly entriesPerBlock: number;

  constructor(
    private readonly file: ImageFile,
    private readonly fileSize: number,
    private readonly h: CheckHeader,
    private readonly table: readonly bigint[],
  ) {
    this.entriesPerBlock = (2 ** h.clusterBits * 8) / h.refcountBits;
  }

  /** The refcount of cluster `index`, or an error text when its refcount block cannot be used. */
  async get(index: number): Promise<number | string> {
    const t = Math.floor(index / this.entriesPerBlock);
    const entry = this.table[t];
    if (entry !== undefined) await this.block(t, entry);
    return this.known(index)!;
  }

  /** The refcount of cluster `index` when its refcount block is already read (the fast path of a scan), else undefined. */
  known(index: number): number | string | undefined {
    const t = Math.floor(index / this.entriesPerBlock);
    if (this.table[t] === undefined) return 0;
    const block = this.blocks.get(t);
    if (block === undefined || typeof block === 'string') return block;
    if (block.length === 0) return 0; // no refcount block: every refcount it would hold is 0
    const i = index % this.entriesPerBlock;
    const bits = this.h.refcountBits;
    const v = new DataView(block.buffer);
    if (bits === 64) return Number(v.getBigUint64(i * 8));
    if (bits === 32) return v.getUint32(i * 4);
    if (bits === 16) return v.getUint16(i * 2);
    if (bits === 8) return block[i]!;
    // Narrow refcounts are packed from the low bits of each byte up.
    const perByte = 8 / bits;
    return (block[Math.floor(i / perByte)]! >> ((i % perByte) * bits)) & ((1 << bits) - 1);
  }

  private async block(t: number, entry: bigint): Promise<Uint8Array | string> {
    const cached = this.blocks.get(t);
    if (cached !== undefined) return cached;
    const offset = entry & REFTABLE_OFFSET_MASK;
    const clusterSize = 2 ** this.h.clusterBits;
    let block: Uint8Array | string;
    if (offset === 0n) block = new Uint8Array(0);
    else if (offset % BigInt(clusterSize) !== 0n) block = `refcount block offset 0x${hex(offset)} (refcount table entry ${t}) is not aligned to a cluster`;
    else block = await readZeroFilled(this.file, offsetNumber(offset), clusterSize, this.fileSize);
    this.blocks.set(t, block);
    return block;
  }
}

/** The problem line of a region that ends a cluster or more past the end of the file. */
function exceedingEnd(offset: number | bigint, size: number | bigint): string {
  return `ERROR: counting reference for region exceeding the end of the file by one cluster or more: offset 0x${hex(offset)} size 0x${hex(size)}`;
}

/** Counts the uses of every host cluster, with qemu-img check's problem accounting. */
class CheckState {
  corruptions = 0;
  leaks = 0;
  checkErrors = 0;
  allocated = 0;
  fragmented = 0;
  compressed = 0;
  readonly problems: string[] = [];
  /** Uses of the clusters inside the file; those of the cluster just past its end in `beyond`. */
  readonly uses: Uint32Array;
  readonly beyond = new Map<number, number>();
  readonly clusterSize: number;
  private readonly maxRefcount: number;

  constructor(readonly file: ImageFile, readonly fileSize: number, readonly h: CheckHeader) {
    this.clusterSize = 2 ** h.clusterBits;
    this.uses = new Uint32Array(Math.ceil(fileSize / this.clusterSize));
    this.maxRefcount = Math.min(2 ** h.refcountBits - 1, 0xffffffff);
  }

  corrupt(line: string): void {
    this.corruptions++;
    this.problems.push(line);
  }

  /** The uses counted so far of cluster `index`. */
  usesOf(index: number): number {
    return index < this.uses.length ? this.uses[index]! : this.beyond.get(index) ?? 0;
  }

  /** The number of clusters the comparison covers: the file's, or up to the last one referenced past its end. */
  clusterCount(): number {
    let n = this.uses.length;
    for (const k of this.beyond.keys()) n = Math.max(n, k + 1);
    return n;
  }

  /**
   * Counts one use of every cluster that bytes [offset, offset + size) touch. A region ending a
   * cluster or more past the end of the file is a corruption and is not counted (the last
   * cluster may be allocated only in part, so less than that is allowed), as qemu-img has it.
   */
  use(offset: number, size: number): void {
    if (size <= 0) return;
    if (offset + size - this.fileSize >= this.clusterSize) {
      this.corrupt(exceedingEnd(offset, size));
      return;
    }
    const first = Math.floor(offset / this.clusterSize);
    const last = Math.floor((offset + size - 1) / this.clusterSize);
    for (let k = first; k <= last; k++) {
      const n = this.usesOf(k);
      if (n >= this.maxRefcount) {
        this.corrupt(`ERROR: overflow cluster offset=0x${hex(k * this.clusterSize)}`);
        continue;
      }
      if (k < this.uses.length) this.uses[k] = n + 1;
      else this.beyond.set(k, n + 1);
    }
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    return readZeroFilled(this.file, offset, length, this.fileSize);
  }
}

/** The entries of a table of 64-bit big-endian values at `offset`. */
async function readTable(s: CheckState, offset: number, count: number): Promise<bigint[]> {
  const bytes = await s.read(offset, count * 8);
  const v = new DataView(bytes.buffer);
  const out: bigint[] = [];
  for (let i = 0; i < count; i++) out.push(v.getBigUint64(i * 8));
  return out;
}

/** Counts the uses of one L2 table's clusters; `active` adds the allocation statistics. */
async function useL2(s: CheckState, l2Offset: number, active: boolean): Promise<void> {
  const cb = s.h.clusterBits;
  const compressedSizeShift = 62n - BigInt(cb - 8);
  const compressedSizeMask = (1n << BigInt(cb - 8)) - 1n;
  const compressedOffsetMask = (1n << compressedSizeShift) - 1n;
  let nextContiguous = 0;
  for (const raw of await readTable(s, l2Offset, s.clusterSize / 8)) {
    let entry = raw;
    if ((entry & COMPRESSED) !== 0n) {
      if ((entry & COPIED) !== 0n) {
        s.corrupt(`ERROR: coffset=0x${hex(entry & compressedOffsetMask)}: copied flag must never be set for compressed clusters`);
        entry &= ~COPIED;
      }
      const sectors = ((entry >> compressedSizeShift) & compressedSizeMask) + 1n;
      const start = entry & compressedOffsetMask;
      const size = sectors * 512n - (start % 512n);
      // A byte offset (not a multiple of 512): exact in bigint where a double would round.
      if (start + size - BigInt(s.fileSize) >= BigInt(s.clusterSize)) s.corrupt(exceedingEnd(start, size));
      else s.use(Number(start), Number(size));
      if (active) {
        s.allocated++;
        s.compressed++;
        s.fragmented++; // compressed clusters are fragmented by nature, as qemu-img counts them
      }
      continue;
    }
    if ((entry & L2_STANDARD_RESERVED) !== 0n) s.corrupt(`ERROR found l2 entry with reserved bits set: ${hex(entry)}`);
    const offset = offsetNumber(entry & ENTRY_OFFSET_MASK);
    if (offset === 0) continue; // unallocated, or a zero cluster without a preallocated one
    if (offset % s.clusterSize !== 0) {
      s.corrupt((entry & ZERO) !== 0n
        ? `ERROR offset=${hex(offset)}: Preallocated cluster is not properly aligned; L2 entry corrupted.`
        : `ERROR offset=${hex(offset)}: Data cluster is not properly aligned; L2 entry corrupted.`);
    }
    if (active) {
      s.allocated++;
      if (nextContiguous !== 0 && offset !== nextContiguous) s.fragmented++;
      nextContiguous = offset + s.clusterSize;
    }
    s.use(offset, s.clusterSize);
  }
}

/** Counts the uses of an L1 table, its L2 tables and their clusters. */
async function useL1(s: CheckState, l1Offset: number, l1Size: number, active: boolean): Promise<void> {
  s.use(l1Offset, l1Size * 8);
  for (const entry of await readTable(s, l1Offset, l1Size)) {
    // As qemu-img: only an entry of all zeros is unused (one with flags but offset 0 points at the header).
    if (entry === 0n) continue;
    if ((entry & L1_RESERVED) !== 0n) s.corrupt(`ERROR found L1 entry with reserved bits set: ${hex(entry)}`);
    const l2 = offsetNumber(entry & ENTRY_OFFSET_MASK);
    s.use(l2, s.clusterSize);
    if (l2 % s.clusterSize !== 0) s.corrupt(`ERROR l2_offset=${hex(l2)}: Table is not cluster aligned; L1 entry corrupted`);
    await useL2(s, l2, active);
  }
}

/** Counts the uses of the persistent dirty bitmaps: the directory, each bitmap's table and data clusters. */
async function useBitmaps(s: CheckState, b: NonNullable<CheckHeader['bitmaps']>): Promise<void> {
  s.use(b.directoryOffset, b.directorySize);
  const dir = await s.read(b.directoryOffset, b.directorySize);
  const v = new DataView(dir.buffer);
  for (let at = 0, i = 0; i < b.count && at + 24 <= dir.length; i++) {
    const tableOffset = offsetNumber(v.getBigUint64(at));
    const tableSize = Math.min(v.getUint32(at + 8), MAX_L1_BYTES / 8);
    s.use(tableOffset, tableSize * 8);
    for (const entry of await readTable(s, tableOffset, tableSize)) {
      const data = offsetNumber(entry & ENTRY_OFFSET_MASK);
      if (data !== 0) s.use(data, s.clusterSize);
    }
    at += Math.ceil((24 + v.getUint32(at + 20) + v.getUint16(at + 18)) / 8) * 8;
  }
}

/** Counts the refcount blocks themselves, checking each refcount table entry. */
function useRefcountBlocks(s: CheckState, table: readonly bigint[]): void {
  const clusters = s.clusterCount();
  table.forEach((entry, i) => {
    if ((entry & 0x1ffn) !== 0n) {
      s.corrupt(`ERROR refcount table entry ${i} has reserved bits set`);
      return;
    }
    const offset = offsetNumber(entry & REFTABLE_OFFSET_MASK);
    if (offset === 0) return;
    if (offset % s.clusterSize !== 0) {
      s.corrupt(`ERROR refcount block ${i} is not cluster aligned; refcount table entry corrupted`);
      return;
    }
    const cluster = offset / s.clusterSize;
    if (cluster >= clusters) {
      s.corrupt(`ERROR refcount block ${i} is outside image`);
      return;
    }
    s.use(offset, s.clusterSize);
    const n = s.usesOf(cluster);
    if (n !== 1) s.corrupt(`ERROR refcount block ${i} refcount=${n}`);
  });
}

/** Compares the stored refcounts with the uses; returns the highest cluster in use or referenced. */
async function compareRefcounts(s: CheckState, stored: StoredRefcounts): Promise<number> {
  let highest = 0;
  const compare = (i: number, refcount: number | string): void => {
    if (typeof refcount === 'string') {
      s.checkErrors++;
      s.problems.push(`Can't get refcount for cluster ${i}: ${refcount}`);
      return;
    }
    const uses = s.usesOf(i);
    if (refcount > 0 || uses > 0) highest = i;
    if (refcount === uses) return;
    s.problems.push(`${refcount < uses ? 'ERROR' : 'Leaked'} cluster ${i} refcount=${refcount} reference=${uses}`);
    if (refcount < uses) s.corruptions++;
    else s.leaks++;
  };
  for (let i = 0; i < s.uses.length; i++) compare(i, stored.known(i) ?? await stored.get(i));
  for (const k of [...s.beyond.keys()].sort((a, b) => a - b)) compare(k, stored.known(k) ?? await stored.get(k));
  return highest;
}

/** Checks that the COPIED flag of each active L1 and L2 entry is set exactly when the refcount is 1. */
async function checkCopiedFlags(s: CheckState, stored: StoredRefcounts): Promise<void> {
  for (const [i, l1Entry] of (await readTable(s, s.h.l1Offset, s.h.l1Size)).entries()) {
    const l2 = offsetNumber(l1Entry & ENTRY_OFFSET_MASK);
    if (l2 === 0) continue;
    const refcount = await stored.get(Math.floor(l2 / s.clusterSize));
    if (typeof refcount === 'string') continue; // already counted by the comparison
    if ((refcount === 1) !== ((l1Entry & COPIED) !== 0n)) {
      s.corrupt(`ERROR OFLAG_COPIED L2 cluster: l1_index=${i} l1_entry=${hex(l1Entry)} refcount=${refcount}`);
    }
    for (const l2Entry of await readTable(s, l2, s.clusterSize / 8)) {
      if ((l2Entry & COMPRESSED) !== 0n) continue;
      const data = offsetNumber(l2Entry & ENTRY_OFFSET_MASK);
      if (data === 0) continue;
      const n = await stored.get(Math.floor(data / s.clusterSize));
      if (typeof n === 'string') continue;
      if ((n === 1) !== ((l2Entry & COPIED) !== 0n)) s.corrupt(`ERROR OFLAG_COPIED data cluster: l2_entry=${hex(l2Entry)} refcount=${n}`);
    }
  }
}

/**
 * Checks the qcow2 image in `file` as `qemu-img check` does (without repairing). Throws an
 * ImageError when the file's header cannot be read as a qcow2 image that can be checked.
 */
export async function checkQcow2(file: ImageFile): Promise<Qcow2CheckReport> {
  const fileSize = await file.size();
  const h = await readHeader(file, fileSize);
  const { snapshots, tableSize } = await readSnapshots(file, h, fileSize);
  const s = new CheckState(file, fileSize, h);
  s.use(0, s.clusterSize);
  await useL1(s, h.l1Offset, h.l1Size, true);
  for (const sn of snapshots) {
    if (sn.l1Offset % s.clusterSize !== 0) {
      s.corrupt(`ERROR snapshot ${sn.id} (${sn.name}) l1_offset=0x${hex(sn.l1Offset)}: L1 table is not cluster aligned; snapshot table entry corrupted`);
    } else if (sn.l1Size * 8 > MAX_L1_BYTES) {
      s.corrupt(`ERROR snapshot ${sn.id} (${sn.name}) l1_size=0x${hex(sn.l1Size)}: L1 table is too large; snapshot table entry corrupted`);
    } else {
      await useL1(s, sn.l1Offset, sn.l1Size, false);
    }
  }
  s.use(h.snapshotsOffset, tableSize);
  s.use(h.refcountTableOffset, h.refcountTableEntries * 8);
  if (h.crypto !== undefined) s.use(h.crypto.offset, h.crypto.length);
  if (h.bitmaps !== undefined) await useBitmaps(s, h.bitmaps);
  const table = await readTable(s, h.refcountTableOffset, h.refcountTableEntries);
  useRefcountBlocks(s, table);
  const stored = new StoredRefcounts(file, fileSize, h, table);
  const highest = await compareRefcounts(s, stored);
  await checkCopiedFlags(s, stored);
  return {
    corruptions: s.corruptions, leaks: s.leaks, checkErrors: s.checkErrors, problems: s.problems,
    totalClusters: Math.ceil(h.virtualSize / s.clusterSize), allocatedClusters: s.allocated,
    fragmentedClusters: s.fragmented, compressedClusters: s.compressed, imageEndOffset: (highest + 1) * s.clusterSize,
  };
}
