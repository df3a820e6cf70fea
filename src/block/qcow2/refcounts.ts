/**
 * Cluster reference counts: the refcount table and its blocks, reading, changing and
 * allocating (docs/interop/qcow2.txt, "Host cluster management"). Every change is written to
 * the file before the call resolves, so the caller can order its own writes after it (a
 * refcount increase reaches the file before the L2 entry that uses the cluster). Callers hold
 * the image's metadata mutex.
 */
import { ImageError } from '../errors.js';
import type { ImageFile } from '../image-file.js';
import { hex, readU64, viewOf, writeU64 } from './bytes.js';
import { HeaderField, MAX_REFTABLE_BYTES } from './header.js';
import type { Geometry } from './layout.js';
import { TableCache } from './table-cache.js';

/** The refcount structures of an open image. */
export class Refcounts {
  private readonly blocks: TableCache;
  /** No cluster below this one is free (a hint for allocation). */
  private freeHint = 0;
  /** The end of the last cluster in use or allocated (the file may be shorter until it is written). */
  fileSize: number;

  /** `table` holds the refcount table's entries (block offsets, 0 for none). */
  constructor(
    private readonly file: ImageFile,
    private readonly g: Geometry,
    private table: number[],
    private tableOffset: number,
    private tableClusters: number,
    fileSize: number,
  ) {
    this.fileSize = fileSize;
    this.blocks = new TableCache(Math.max(64, (16 << 20) / g.clusterSize));
  }

  /** Reads the refcount table of an image (entries checked when their block is first used). */
  static async open(file: ImageFile, g: Geometry, tableOffset: number, tableClusters: number, fileSize: number): Promise<Refcounts> {
    const bytes = new Uint8Array(tableClusters * g.clusterSize);
    await file.read(bytes, tableOffset);
    const v = viewOf(bytes);
    const table: number[] = [];
    for (let i = 0; i < bytes.length / 8; i++) {
      const entry = readU64(v, i * 8);
      if (entry === undefined || entry % g.clusterSize !== 0) {
        throw new ImageError(`${g.name}: refcount table entry ${i} is not a cluster-aligned offset`);
      }
      table.push(entry);
    }
    return new Refcounts(file, g, table, tableOffset, tableClusters, fileSize);
  }

  /** The largest refcount an entry can hold. */
  get max(): number {
    return this.g.refcountBits >= 53 ? Number.MAX_SAFE_INTEGER : 2 ** this.g.refcountBits - 1;
  }

  /** Where the refcount table is (offset, clusters), for overlap checks. */
  get layout(): { tableOffset: number; tableClusters: number } {
    return { tableOffset: this.tableOffset, tableClusters: this.tableClusters };
  }

  /** The refcount blocks' offsets (table entry index, offset), for the refcount rebuild. */
  blockOffsets(): Array<{ index: number; offset: number }> {
    return this.table.flatMap((offset, index) => (offset !== 0 ? [{ index, offset }] : []));
  }

  /** The refcount of the host cluster at index `cluster` (offset / cluster size). */
  async get(cluster: number): Promise<number> {
    const ti = Math.floor(cluster / this.g.refblockEntries);
    const offset = this.table[ti] ?? 0;
    if (offset === 0) return 0;
    const block = await this.block(ti, offset);
    return this.entry(block, cluster % this.g.refblockEntries);
  }

  /**
   * Adds `delta` to the refcounts of `count` clusters from index `first` and writes the
   * changed entries. Throws an ImageError (changing nothing) on overflow or a count below 0.
   */
  async change(first: number, count: number, delta: number): Promise<void> {
    for (let c = first; c < first + count; c++) {
      const now = await this.get(c);
      const next = now + delta;
      if (next > this.max) throw new ImageError(`${this.g.name}: refcount overflow at cluster offset ${hex(c * this.g.clusterSize)} (refcount ${now}, at most ${this.max} with ${this.g.refcountBits}-bit refcounts)`);
      if (next < 0) throw new ImageError(`${this.g.name}: refcount of cluster offset ${hex(c * this.g.clusterSize)} would drop below zero (it is ${now}): the image is corrupt`);
    }
    let c = first;
    while (c < first + count) {
      const ti = Math.floor(c / this.g.refblockEntries);
      if (delta > 0) await this.ensureBlock(ti);
      const offset = this.table[ti] ?? 0;
      const block = await this.block(ti, offset);
      const start = c % this.g.refblockEntries;
      const end = Math.min(this.g.refblockEntries, start + (first + count - c));
      for (let i = start; i < end; i++) {
        const next = this.entry(block, i) + delta;
        this.setEntry(block, i, next);
        if (next === 0 && ti * this.g.refblockEntries + i < this.freeHint) this.freeHint = ti * this.g.refblockEntries + i;
      }
      const from = Math.floor((start * this.g.refcountBits) / 8);
      const to = Math.ceil((end * this.g.refcountBits) / 8);
      await this.file.write(block.subarray(from, to), offset + from);
      c += end - start;
    }
  }

  /**
   * Allocates `count` contiguous free clusters, sets their refcounts to 1 (written), grows the
   * file to cover them and returns the byte offset of the first.
   */
  async allocate(count: number): Promise<number> {
    return (await this.allocateFresh(count)).offset;
  }

  /**
   * As allocate, and says whether the clusters lie past everything the file ever held
   * (`fresh`: never written, so they read as zeros until written).
   */
  async allocateFresh(count: number): Promise<{ offset: number; fresh: boolean }> {
    let c = this.freeHint;
    search: for (;;) {
      for (let run = 0; run < count; run++) {
        const cluster = c + run;
        const ti = Math.floor(cluster / this.g.refblockEntries);
        if ((this.table[ti] ?? 0) === 0) {
          // No block covers this range, so all of it is free: create the block (inside its
          // own range, counting itself), then look again from c.
          await this.ensureBlock(ti);
          continue search;
        }
        if ((await this.get(cluster)) !== 0) {
          c = cluster + 1;
          continue search;
        }
      }
      break;
    }
    // Every cluster in [freeHint, c) was found in use.
    this.freeHint = c + count;
    await this.change(c, count, 1);
    const fresh = c * this.g.clusterSize >= this.fileSize;
    this.grow((c + count) * this.g.clusterSize);
    return { offset: c * this.g.clusterSize, fresh };
  }

  /**
   * Rewrites every refcount block from `counts` (host cluster index -> references), for the
   * rebuild of a dirty image. Resolves with a counted cluster no block covers (nothing is
   * written then), or undefined when done.
   */
  async overwrite(counts: ReadonlyMap<number, number>): Promise<number | undefined> {
    const e = this.g.refblockEntries;
    for (const [cluster, n] of counts) {
      if ((this.table[Math.floor(cluster / e)] ?? 0) === 0) return cluster;
      if (n > this.max) throw new ImageError(`${this.g.name}: refcount overflow at cluster offset ${hex(cluster * this.g.clusterSize)} (${n} references, at most ${this.max})`);
    }
    for (let ti = 0; ti < this.table.length; ti++) {
      const offset = this.table[ti] ?? 0;
      if (offset !== 0 && (offset < this.g.clusterSize || offset >= this.fileSize)) {
        throw new ImageError(`${this.g.name}: refcount table entry ${ti} points outside the file (offset ${hex(offset)}, file size ${hex(this.fileSize)})`);
      }
    }
    for (let ti = 0; ti < this.table.length; ti++) {
      const offset = this.table[ti] ?? 0;
      if (offset === 0) continue;
      const block = new Uint8Array(this.g.clusterSize);
      for (let i = 0; i < e; i++) {
        const n = counts.get(ti * e + i);
        if (n !== undefined) this.setEntry(block, i, n);
      }
      await this.file.write(block, offset);
      this.blocks.set(offset, block);
    }
    this.freeHint = 0;
    return undefined;
  }

  /**
   * Notes that the image now uses the file up to `end` bytes. The file itself grows when the
   * cluster is written (always whole, before anything points to it), so no truncate races a
   * data write still in flight.
   */
  grow(end: number): void {
    if (end > this.fileSize) this.fileSize = end;
  }

  /** The refcount block `ti`, creating it if the table has none. */
  private async ensureBlock(ti: number): Promise<void> {
    if ((this.table[ti] ?? 0) !== 0) return;
    if (ti >= this.table.length) {
      await this.growTable(ti);
      return;
    }
    const first = ti * this.g.refblockEntries;
    if (first === 0) throw new ImageError(`${this.g.name}: refcount table entry 0 is empty (the header cluster has no refcount): the image is corrupt`);
    // The new block lives at the first cluster of the range it describes and counts itself.
    const block = new Uint8Array(this.g.clusterSize);
    this.setEntry(block, 0, 1);
    const offset = first * this.g.clusterSize;
    this.grow(offset + this.g.clusterSize);
    await this.file.write(block, offset);
    const entry = new Uint8Array(8);
    writeU64(viewOf(entry), 0, offset);
    await this.file.write(entry, this.tableOffset + ti * 8);
    this.table[ti] = offset;
    this.blocks.set(offset, block);
  }

  /**
   * Moves the refcount table to a larger one that has an entry `ti`: a new block at the
   * start of range `ti`, the new table right after it (both counted by that block), then the
   * header is pointed at the new table and the old table's clusters are freed.
   */
  private async growTable(ti: number): Promise<void> {
    const perCluster = this.g.clusterSize / 8;
    const clusters = Math.ceil(Math.max(ti + 1, this.table.length * 2) / perCluster);
    if (clusters + 1 > this.g.refblockEntries || clusters * this.g.clusterSize > MAX_REFTABLE_BYTES) {
      throw new ImageError(`${this.g.name}: the refcount table cannot grow to ${clusters} clusters (the image is too large for its cluster size)`);
    }
    const first = ti * this.g.refblockEntries;
    const blockOffset = first * this.g.clusterSize;
    const newTableOffset = blockOffset + this.g.clusterSize;
    const block = new Uint8Array(this.g.clusterSize);
    for (let i = 0; i <= clusters; i++) this.setEntry(block, i, 1);
    const newTable = this.table.slice();
    while (newTable.length < clusters * perCluster) newTable.push(0);
    newTable[ti] = blockOffset;
    const tableBytes = new Uint8Array(clusters * this.g.clusterSize);
    newTable.forEach((o, i) => writeU64(viewOf(tableBytes), i * 8, o));
    this.grow(newTableOffset + tableBytes.length);
    await this.file.write(block, blockOffset);
    await this.file.write(tableBytes, newTableOffset);
    const fields = new Uint8Array(12);
    writeU64(viewOf(fields), 0, newTableOffset);
    viewOf(fields).setUint32(8, clusters);
    await this.file.write(fields, HeaderField.refcountTableOffset);
    const oldOffset = this.tableOffset;
    const oldClusters = this.tableClusters;
    this.table = newTable;
    this.tableOffset = newTableOffset;
    this.tableClusters = clusters;
    this.blocks.set(blockOffset, block);
    await this.change(oldOffset / this.g.clusterSize, oldClusters, -1);
  }

  private async block(ti: number, offset: number): Promise<Uint8Array> {
    const cached = this.blocks.get(offset);
    if (cached !== undefined) return cached;
    if (offset < this.g.clusterSize || offset >= this.fileSize) {
      throw new ImageError(`${this.g.name}: refcount table entry ${ti} points ${offset === 0 ? 'nowhere' : `outside the file (offset ${hex(offset)}, file size ${hex(this.fileSize)})`}`);
    }
    if (offset < this.tableOffset + this.tableClusters * this.g.clusterSize && this.tableOffset < offset + this.g.clusterSize) {
      throw new ImageError(`${this.g.name}: refcount table entry ${ti} points into the refcount table (offset ${hex(offset)})`);
    }
    const block = new Uint8Array(this.g.clusterSize);
    await this.file.read(block, offset);
    this.blocks.set(offset, block);
    return block;
  }

  private entry(block: Uint8Array, i: number): number {
    const bits = this.g.refcountBits;
    if (bits < 8) {
      const bit = i * bits;
      return ((block[bit >> 3] ?? 0) >> (bit & 7)) & ((1 << bits) - 1);
    }
    const v = viewOf(block);
    if (bits === 8) return block[i] ?? 0;
    if (bits === 16) return v.getUint16(i * 2);
    if (bits === 32) return v.getUint32(i * 4);
    return readU64(v, i * 8) ?? Number.MAX_SAFE_INTEGER;
  }

  private setEntry(block: Uint8Array, i: number, value: number): void {
    const bits = this.g.refcountBits;
    if (bits < 8) {
      const bit = i * bits;
      const mask = ((1 << bits) - 1) << (bit & 7);
      block[bit >> 3] = ((block[bit >> 3] ?? 0) & ~mask) | ((value << (bit & 7)) & mask);
      return;
    }
    const v = viewOf(block);
    if (bits === 8) block[i] = value;
    else if (bits === 16) v.setUint16(i * 2, value);
    else if (bits === 32) v.setUint32(i * 4, value);
    else writeU64(v, i * 8, value);
  }
}
