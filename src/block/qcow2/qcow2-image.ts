/**
 * A qcow2 image as a BlockImage: reads through the cluster map (normal, zero, unallocated and
 * compressed clusters), writes that allocate or copy-on-write clusters in crash-safe order,
 * and the internal snapshots (see snapshots.ts).
 *
 * Write ordering (a process killed at any point leaves at worst leaked clusters): a new
 * cluster's refcount reaches the file before its data, its data before the L2 entry that
 * points to it, and the old cluster's refcount is dropped only after the L2 entry moved.
 * Metadata updates run under one mutex; data transfers to clusters the active image owns
 * alone (COPIED) run outside it, and a guest cluster being allocated makes later writes to it
 * wait (so two writes never allocate the same cluster twice).
 */
import { AsyncMutex } from '../async-mutex.js';
import type { BlockImage } from '../block-image.js';
import { ImageError } from '../errors.js';
import type { ImageFile } from '../image-file.js';
import type { Qcow2Internals } from './internals.js';
import { checkRange } from '../raw/raw-image.js';
import { viewOf } from './bytes.js';
import { ClusterMap } from './cluster-map.js';
import { readCompressedCluster } from './compressed.js';
import { HeaderField, Incompatible, parseHeader, type Qcow2Header } from './header.js';
import { type ClusterMapping, compressedClusters, geometryOf } from './layout.js';
import { Refcounts } from './refcounts.js';
import { TableCache } from './table-cache.js';
import { rebuildRefcounts } from './rebuild-refcounts.js';
import {
  type CreateSnapshotOptions, type SnapshotInfo, type SnapshotIo,
  applySnapshot, createSnapshot, deleteSnapshot, readVmState, snapshotInfo,
} from './snapshots.js';
import { MAX_SNAPSHOT_TABLE_BYTES, parseSnapshotTable, type SnapshotEntry } from './snapshot-table.js';

/** How to open a qcow2 image. */
export interface Qcow2OpenOptions {
  readonly readOnly: boolean;
  /** The backing image, already open (openImage opens the chain). */
  readonly backing?: BlockImage;
}

/** An open qcow2 image. */
export class Qcow2Image implements BlockImage {
  readonly format = 'qcow2';
  readonly virtualSize: number;
  readonly readOnly: boolean;
  /** The parsed header as opened. */
  readonly header: Qcow2Header;
  /** @internal The structures the snapshot code works on. */
  readonly internals: Qcow2Internals;
  private readonly allocating = new Map<number, Promise<void>>();
  /** Runs snapshot operations one at a time, in the order they were asked for. */
  private readonly snapshotLock = new AsyncMutex();
  /** Recently inflated compressed clusters by host offset. */
  private readonly inflated = new TableCache(8);
  private inFlight = 0;
  private idleWaiters: Array<() => void> = [];
  private closed = false;

  private constructor(readonly file: ImageFile, header: Qcow2Header, internals: Qcow2Internals, readOnly: boolean, readonly backing: BlockImage | undefined) {
    this.header = header;
    this.internals = internals;
    this.virtualSize = header.size;
    this.readOnly = readOnly;
  }

  /**
   * Opens `file` as a qcow2 image. Read-write opens of a dirty image rebuild the refcounts
   * first and clear the bit; a corrupt-marked image opens read-only only. Throws ImageError.
   */
  static async open(file: ImageFile, options: Qcow2OpenOptions): Promise<Qcow2Image> {
    const readOnly = options.readOnly || !file.writable;
    const fileSize = await file.size();
    const head = new Uint8Array(Math.min(fileSize, 2 << 20));
    await file.read(head, 0);
    const header = parseHeader(file.name, head, fileSize);
    if (header.backingFile !== undefined && options.backing === undefined) {
      throw new ImageError(`${file.name}: has backing file '${header.backingFile}' but no backing image was given`);
    }
    const g = geometryOf(file.name, header.version, header.clusterBits, header.refcountOrder);
    if (!readOnly && (header.incompatibleFeatures & Incompatible.corrupt) !== 0n) {
      throw new ImageError(`${file.name}: the image is marked corrupt; open it read-only or repair it (qemu-img check -r all)`);
    }
    const refcounts = await Refcounts.open(file, g, header.refcountTableOffset, header.refcountTableClusters, fileSize);
    const l1 = await ClusterMap.readL1(file, header.l1TableOffset, header.l1Size);
    const map = new ClusterMap(file, g, refcounts, l1, header.l1TableOffset);
    let snapshots = { entries: [] as SnapshotEntry[], size: 0 };
    if (header.nbSnapshots > 0) {
      const bytes = new Uint8Array(Math.min(fileSize - header.snapshotsOffset, MAX_SNAPSHOT_TABLE_BYTES));
      const n = await file.read(bytes, header.snapshotsOffset);
      snapshots = parseSnapshotTable(file.name, bytes.subarray(0, n), header.nbSnapshots, header.snapshotsOffset, g.clusterSize, fileSize);
    }
    const internals: Qcow2Internals = {
      file, g, refcounts, map, mutex: new AsyncMutex(), virtualSize: header.size,
      snapshots: snapshots.entries, snapshotsOffset: header.snapshotsOffset, snapshotsSize: snapshots.size,
    };
    if (!readOnly) {
      let incompatible = header.incompatibleFeatures;
      if ((incompatible & Incompatible.dirty) !== 0n) {
        await rebuildRefcounts(internals);
        incompatible &= ~Incompatible.dirty;
      }
      // We keep no bitmaps and never defer refcounts: clear what we would not maintain.
      if (header.version === 3 && (incompatible !== header.incompatibleFeatures || header.autoclearFeatures !== 0n)) {
        const fields = new Uint8Array(24);
        const v = viewOf(fields);
        v.setBigUint64(0, incompatible);
        v.setBigUint64(8, header.compatibleFeatures);
        v.setBigUint64(16, 0n);
        await file.write(fields, HeaderField.incompatibleFeatures);
        await file.flush();
      }
    }
    return new Qcow2Image(file, header, internals, readOnly, options.backing);
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    checkRange(this, offset, length);
    return this.track(() => this.readAt(offset, length, undefined));
  }

  async write(offset: number, data: Uint8Array): Promise<void> {
    this.checkWritable();
    checkRange(this, offset, data.length);
    await this.track(() => this.writeAt(offset, data));
  }

  async flush(): Promise<void> {
    if (this.readOnly) return;
    await this.file.flush();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.idle();
    await this.internals.mutex.run(async () => {
      if (!this.readOnly) await this.file.flush();
    });
    await this.file.close();
    await this.backing?.close();
  }

  /** The internal snapshots, in table order. */
  listSnapshots(): SnapshotInfo[] {
    return this.internals.snapshots.map(snapshotInfo);
  }

  /**
   * Takes an internal snapshot of the disk (and stores `vmState` with it, past the disk),
   * as `qemu-img snapshot -c` / savevm do. Waits for requests in flight first.
   */
  async createSnapshot(options: CreateSnapshotOptions): Promise<SnapshotInfo> {
    this.checkWritable();
    return this.snapshotLock.run(() => createSnapshot(this.internals, this.snapshotIo(), options));
  }

  /** Reverts the disk to snapshot `idOrName` (by id, else by name), as `qemu-img snapshot -a`. */
  async applySnapshot(idOrName: string): Promise<void> {
    this.checkWritable();
    await this.snapshotLock.run(() => {
      this.inflated.clear();
      return applySnapshot(this.internals, this.snapshotIo(), idOrName);
    });
  }

  /** Deletes snapshot `idOrName` (by id, else by name), as `qemu-img snapshot -d`. */
  async deleteSnapshot(idOrName: string): Promise<void> {
    this.checkWritable();
    await this.snapshotLock.run(() => {
      this.inflated.clear();
      return deleteSnapshot(this.internals, this.snapshotIo(), idOrName);
    });
  }

  /** The machine state stored with snapshot `idOrName` (empty if it has none). */
  async readVmState(idOrName: string): Promise<Uint8Array> {
    return this.snapshotLock.run(() => readVmState(this.internals, this.snapshotIo(), idOrName));
  }

  private snapshotIo(): SnapshotIo {
    return {
      exclusive: (fn) => this.exclusive(fn),
      writeAt: (offset, data) => this.track(() => this.writeAt(offset, data)),
      readAt: (offset, length, l1) => this.track(() => this.readAt(offset, length, l1)),
      discardLocked: (offset, length) => this.discardLocked(offset, length),
    };
  }

  private async exclusive<T>(fn: () => Promise<T>): Promise<T> {
    for (;;) {
      await this.idle();
      const release = await this.internals.mutex.lock();
      if (this.inFlight === 0) {
        try {
          return await fn();
        } finally {
          release();
        }
      }
      release();
    }
  }

  /** Resolves when no request is in flight. */
  async idle(): Promise<void> {
    while (this.inFlight > 0) await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  /**
   * Reads `length` bytes at virtual `offset` through the active L1 table, or through `l1` (a
   * snapshot's); offsets past the disk (machine state) are allowed.
   */
  async readAt(offset: number, length: number, l1: Uint8Array | undefined): Promise<Uint8Array> {
    const out = new Uint8Array(length);
    const cs = this.internals.g.clusterSize;
    const pieces: Array<Promise<void>> = [];
    for (let at = offset; at < offset + length;) {
      const gc = Math.floor(at / cs);
      const end = Math.min(offset + length, (gc + 1) * cs);
      const into = out.subarray(at - offset, end - offset);
      pieces.push(this.readPiece(gc, at - gc * cs, into, l1));
      at = end;
    }
    await Promise.all(pieces);
    return out;
  }

  /** Writes `data` at virtual `offset` (past the disk too: machine state). */
  async writeAt(offset: number, data: Uint8Array): Promise<void> {
    const cs = this.internals.g.clusterSize;
    const pieces: Array<Promise<void>> = [];
    for (let at = offset; at < offset + data.length;) {
      const gc = Math.floor(at / cs);
      const end = Math.min(offset + data.length, (gc + 1) * cs);
      pieces.push(this.writePiece(gc, at - gc * cs, data.subarray(at - offset, end - offset)));
      at = end;
    }
    await Promise.all(pieces);
  }

  private async readPiece(gc: number, inCluster: number, into: Uint8Array, l1: Uint8Array | undefined): Promise<void> {
    const m = await this.internals.mutex.run(() => this.internals.map.lookup(gc, l1));
    const cs = this.internals.g.clusterSize;
    switch (m.kind) {
      case 'normal':
        await this.file.read(into, m.host + inCluster);
        return;
      case 'zero':
        return;
      case 'compressed': {
        const data = await this.compressedCluster(gc, m.host, m.sectors);
        into.set(data.subarray(inCluster, inCluster + into.length));
        return;
      }
      case 'unallocated':
        if (l1 === undefined) await this.readBacking(gc * cs + inCluster, into);
    }
  }

  /** Fills `into` from the backing image at virtual `offset` (zeros past its end or without one). */
  private async readBacking(offset: number, into: Uint8Array): Promise<void> {
    const b = this.backing;
    if (b === undefined || offset >= b.virtualSize) return;
    const n = Math.min(into.length, b.virtualSize - offset);
    into.set(await b.read(offset, n));
  }

  /**
   * The inflated compressed cluster at `host` (a guest reading a compressed cluster in small
   * pieces inflates it once). Compressed clusters are never written in place, so the cache
   * only has to forget clusters that were freed (see release).
   */
  private async compressedCluster(gc: number, host: number, sectors: number): Promise<Uint8Array> {
    const cached = this.inflated.get(host);
    if (cached !== undefined) return cached;
    const data = await readCompressedCluster(this.file, host, sectors, this.internals.g.clusterSize, `guest cluster ${gc}`);
    this.inflated.set(host, data);
    return data;
  }

  /** The whole guest cluster `gc` as mapping `m` has it. */
  private async clusterContent(gc: number, m: ClusterMapping): Promise<Uint8Array> {
    const cs = this.internals.g.clusterSize;
    const out = new Uint8Array(cs);
    if (m.kind === 'normal') await this.file.read(out, m.host);
    else if (m.kind === 'compressed') return (await this.compressedCluster(gc, m.host, m.sectors)).slice();
    else if (m.kind === 'unallocated') await this.readBacking(gc * cs, out);
    return out;
  }

  private async writePiece(gc: number, inCluster: number, data: Uint8Array): Promise<void> {
    const { mutex, map, refcounts, g } = this.internals;
    for (;;) {
      const pending = this.allocating.get(gc);
      if (pending !== undefined) {
        await pending;
        continue;
      }
      const release = await mutex.lock();
      let m: ClusterMapping;
      try {
        m = await map.lookup(gc);
      } catch (e) {
        release();
        throw e;
      }
      if (m.kind === 'normal' && m.copied) {
        release();
        await this.file.write(data, m.host + inCluster);
        return;
      }
      if (this.allocating.has(gc)) {
        release();
        continue;
      }
      let done!: () => void;
      this.allocating.set(gc, new Promise<void>((resolve) => (done = resolve)));
      try {
        let host: number;
        let fresh: boolean;
        try {
          ({ offset: host, fresh } = await refcounts.allocateFresh(1));
        } finally {
          release();
        }
        // A never-written cluster reads as zeros: when the old content is zeros too, only the
        // new bytes need writing (a 4 KiB guest write costs 4 KiB, not a whole cluster).
        const wasZero = m.kind === 'zero' || (m.kind === 'unallocated' && (this.backing === undefined || gc * g.clusterSize >= this.backing.virtualSize));
        if ((inCluster === 0 && data.length === g.clusterSize) || (fresh && wasZero)) await this.file.write(data, host + inCluster);
        else {
          const cluster = await this.clusterContent(gc, m);
          cluster.set(data, inCluster);
          await this.file.write(cluster, host);
        }
        await mutex.run(async () => {
          await map.setEntry(gc, host, true);
          await this.release(m);
        });
      } finally {
        this.allocating.delete(gc);
        done();
      }
      return;
    }
  }

  /**
   * Makes the guest clusters of [offset, offset + length) (whole clusters, past the disk too)
   * unallocated in the active image and drops their references: the entry goes first, then
   * the refcount (a crash leaks, never corrupts). Caller holds the metadata mutex and no
   * request is in flight.
   */
  async discardLocked(offset: number, length: number): Promise<void> {
    const { map, g } = this.internals;
    const first = Math.floor(offset / g.clusterSize);
    const end = Math.ceil((offset + length) / g.clusterSize);
    for (let gc = first; gc < end; gc++) {
      const m = await map.lookup(gc);
      if (m.kind === 'unallocated') continue;
      await map.setEntry(gc, 0, false);
      await this.release(m);
    }
  }

  /** Drops the references a replaced L2 entry held. */
  private async release(m: ClusterMapping): Promise<void> {
    const { refcounts, g } = this.internals;
    if ((m.kind === 'normal' || m.kind === 'zero') && m.host !== 0) await refcounts.change(m.host / g.clusterSize, 1, -1);
    else if (m.kind === 'compressed') {
      this.inflated.delete(m.host);
      const { first, count } = compressedClusters(g, m.host, m.sectors);
      await refcounts.change(first / g.clusterSize, count, -1);
    }
  }

  private async track<T>(fn: () => Promise<T>): Promise<T> {
    if (this.closed) throw new ImageError(`${this.file.name}: request after close`);
    this.inFlight++;
    try {
      return await fn();
    } finally {
      this.inFlight--;
      if (this.inFlight === 0) {
        const waiters = this.idleWaiters;
        this.idleWaiters = [];
        for (const w of waiters) w();
      }
    }
  }

  /** Throws unless the image may be written. */
  checkWritable(): void {
    if (this.readOnly) throw new ImageError(`${this.file.name}: write to a read-only image`);
  }
}
