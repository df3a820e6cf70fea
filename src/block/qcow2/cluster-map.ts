/**
 * The guest-to-host cluster mapping of the active image: the L1 table (kept whole in memory)
 * and L2 tables (cached), lookups with every entry checked before use, and entry updates in
 * crash-safe order: a new or copied L2 table is written whole before the L1 entry points to it.
 * Callers hold the image's metadata mutex.
 */
import { ImageError } from '../errors.js';
import type { ImageFile } from '../image-file.js';
import { hex, viewOf, writeU64 } from './bytes.js';
import { HeaderField, MAX_L1_BYTES } from './header.js';
import { type ClusterMapping, type Geometry, type L1Entry, decodeL1Entry, decodeL2Entry, encodeEntry } from './layout.js';
import type { Refcounts } from './refcounts.js';
import { TableCache } from './table-cache.js';

/** The active L1 table and its L2 tables. */
export class ClusterMap {
  private readonly l2Cache: TableCache;

  constructor(
    private readonly file: ImageFile,
    private readonly g: Geometry,
    private readonly refcounts: Refcounts,
    /** The L1 table as stored (big-endian entries). */
    private l1: Uint8Array,
    private l1Offset: number,
  ) {
    this.l2Cache = new TableCache(Math.max(64, (32 << 20) / g.clusterSize));
  }

  /** Reads the L1 table of `size` entries at `offset`. */
  static async readL1(file: ImageFile, offset: number, size: number): Promise<Uint8Array> {
    const l1 = new Uint8Array(size * 8);
    if (size > 0) await file.read(l1, offset);
    return l1;
  }

  /** The number of L1 entries. */
  get l1Size(): number {
    return this.l1.length / 8;
  }

  /** Where the L1 table is. */
  get l1TableOffset(): number {
    return this.l1Offset;
  }

  /** A copy of the L1 table as stored. */
  l1Bytes(): Uint8Array {
    return this.l1.slice();
  }

  /** L1 entry `i` (checked) of the active L1 table, or of `l1` (a snapshot's) if given. */
  l1Entry(i: number, l1: Uint8Array = this.l1): L1Entry {
    const e = decodeL1Entry(this.g, viewOf(l1), i * 8, () => `${l1 === this.l1 ? '' : 'snapshot '}L1 entry ${i}`);
    if (e.l2Offset !== 0) this.checkCluster(e.l2Offset, () => `L1 entry ${i}`);
    return e;
  }

  /** The L2 table at `offset` (named `where` in errors), from the cache or the file. */
  async l2Table(offset: number): Promise<Uint8Array> {
    const cached = this.l2Cache.get(offset);
    if (cached !== undefined) return cached;
    const table = new Uint8Array(this.g.clusterSize);
    await this.file.read(table, offset);
    this.l2Cache.set(offset, table);
    return table;
  }

  /**
   * What guest cluster `gc` maps to in the active L1 table, or in `l1` (a snapshot's) if
   * given. Entries are checked: a corrupt one is an ImageError.
   */
  async lookup(gc: number, l1: Uint8Array = this.l1): Promise<ClusterMapping> {
    const l1i = Math.floor(gc / this.g.l2Entries);
    if (l1i >= l1.length / 8) return { kind: 'unallocated' };
    const l1e = this.l1Entry(l1i, l1);
    if (l1e.l2Offset === 0) return { kind: 'unallocated' };
    const l2i = gc % this.g.l2Entries;
    const table = await this.l2Table(l1e.l2Offset);
    const where = (): string => `L2 table entry ${l2i} of L1 entry ${l1i}`;
    const m = decodeL2Entry(this.g, viewOf(table), l2i * 8, where);
    if (m.kind === 'normal' || (m.kind === 'zero' && m.host !== 0)) this.checkCluster(m.host, where);
    else if (m.kind === 'compressed' && (m.host < this.g.clusterSize || m.host >= this.refcounts.fileSize)) {
      // The data's last sector may run past the end of the file (QEMU does not pad it).
      throw new ImageError(`${this.g.name}: ${where()} points ${m.host < this.g.clusterSize ? 'into the header cluster' : 'past the end of the file'} (compressed data at ${hex(m.host)}, file size ${hex(this.refcounts.fileSize)})`);
    }
    return m;
  }

  /**
   * Points guest cluster `gc` at host cluster `host` (0 with `zero` false: unallocated), with
   * the COPIED flag as given, writing the entry (and a new or copied L2 table first).
   */
  async setEntry(gc: number, host: number, copied: boolean, zero = false): Promise<void> {
    const l1i = Math.floor(gc / this.g.l2Entries);
    const l2i = gc % this.g.l2Entries;
    if (l1i >= this.l1Size) await this.growL1(l1i + 1);
    const l2Offset = await this.writableL2(l1i);
    const table = await this.l2Table(l2Offset);
    encodeEntry(viewOf(table), l2i * 8, host, copied, zero);
    await this.file.write(table.subarray(l2i * 8, l2i * 8 + 8), l2Offset + l2i * 8);
  }

  /**
   * The offset of L1 entry l1i's L2 table, made ours alone first: a new zeroed table, or a
   * copy of a table shared with a snapshot (COPIED flag clear), with each entry's COPIED flag
   * set from its cluster's refcount.
   */
  private async writableL2(l1i: number): Promise<number> {
    const e = this.l1Entry(l1i);
    if (e.l2Offset !== 0 && e.copied) return e.l2Offset;
    const table = e.l2Offset === 0 ? new Uint8Array(this.g.clusterSize) : (await this.l2Table(e.l2Offset)).slice();
    if (e.l2Offset !== 0) await this.refreshCopiedFlags(table, l1i);
    const offset = await this.refcounts.allocate(1);
    await this.file.write(table, offset);
    this.l2Cache.set(offset, table);
    await this.setL1Entry(l1i, offset, true);
    if (e.l2Offset !== 0) {
      await this.refcounts.change(e.l2Offset / this.g.clusterSize, 1, -1);
      if ((await this.refcounts.get(e.l2Offset / this.g.clusterSize)) === 0) this.l2Cache.delete(e.l2Offset);
    }
    return offset;
  }

  /** Sets each standard entry's COPIED flag in `table` (of L1 entry l1i) from its refcount. */
  async refreshCopiedFlags(table: Uint8Array, l1i: number): Promise<boolean> {
    const v = viewOf(table);
    let changed = false;
    for (let i = 0; i < this.g.l2Entries; i++) {
      const m = decodeL2Entry(this.g, v, i * 8, () => `L2 table entry ${i} of L1 entry ${l1i}`);
      if ((m.kind !== 'normal' && m.kind !== 'zero') || m.host === 0) continue;
      const copied = (await this.refcounts.get(m.host / this.g.clusterSize)) === 1;
      if (copied !== m.copied) {
        encodeEntry(v, i * 8, m.host, copied, m.kind === 'zero');
        changed = true;
      }
    }
    return changed;
  }

  /** Writes L1 entry l1i. */
  async setL1Entry(l1i: number, l2Offset: number, copied: boolean): Promise<void> {
    encodeEntry(viewOf(this.l1), l1i * 8, l2Offset, copied);
    await this.file.write(this.l1.subarray(l1i * 8, l1i * 8 + 8), this.l1Offset + l1i * 8);
  }

  /** Writes an L2 table changed in memory (cached at `offset`) back whole. */
  async writeL2(offset: number, table: Uint8Array): Promise<void> {
    this.l2Cache.set(offset, table);
    await this.file.write(table, offset);
  }

  /**
   * Replaces the L1 table with `l1` (as stored), at its place if it fits, else in new
   * clusters with the header pointed at them and the old ones freed.
   */
  async replaceL1(l1: Uint8Array): Promise<void> {
    const oldClusters = Math.ceil(this.l1.length / this.g.clusterSize);
    const newClusters = Math.ceil(l1.length / this.g.clusterSize);
    if (newClusters <= oldClusters && this.l1.length > 0) {
      await this.file.write(l1, this.l1Offset);
      if (l1.length !== this.l1.length) await this.writeL1Header(this.l1Offset, l1.length / 8);
      this.l1 = l1;
      return;
    }
    if (l1.length > MAX_L1_BYTES) throw new ImageError(`${this.g.name}: the L1 table would grow past QEMU's limit (${l1.length} bytes)`);
    const offset = await this.refcounts.allocate(newClusters);
    await this.file.write(l1, offset);
    await this.writeL1Header(offset, l1.length / 8);
    const old = this.l1Offset;
    const hadTable = this.l1.length > 0;
    this.l1 = l1;
    this.l1Offset = offset;
    if (hadTable) await this.refcounts.change(old / this.g.clusterSize, oldClusters, -1);
  }

  /** Forgets cached L2 tables (after a snapshot is applied). */
  dropCache(): void {
    this.l2Cache.clear();
  }

  private async growL1(size: number): Promise<void> {
    const l1 = new Uint8Array(size * 8);
    l1.set(this.l1);
    await this.replaceL1(l1);
  }

  private async writeL1Header(offset: number, size: number): Promise<void> {
    const fields = new Uint8Array(12);
    viewOf(fields).setUint32(0, size);
    writeU64(viewOf(fields), 4, offset);
    await this.file.write(fields, HeaderField.l1Size);
  }

  /** Throws unless `offset` is a host cluster inside the file and outside the header, L1 and refcount tables. */
  checkCluster(offset: number, where: () => string): void {
    const fail = (why: string): never => {
      throw new ImageError(`${this.g.name}: ${where()} points ${why}`);
    };
    if (offset < this.g.clusterSize) fail(`into the header cluster (offset ${hex(offset)})`);
    if (offset >= this.refcounts.fileSize) fail(`past the end of the file (offset ${hex(offset)}, file size ${hex(this.refcounts.fileSize)})`);
    if (offset < this.l1Offset + this.l1.length && this.l1Offset < offset + this.g.clusterSize) fail(`into the L1 table (offset ${hex(offset)})`);
    const r = this.refcounts.layout;
    if (offset < r.tableOffset + r.tableClusters * this.g.clusterSize && r.tableOffset < offset + this.g.clusterSize) fail(`into the refcount table (offset ${hex(offset)})`);
  }
}
