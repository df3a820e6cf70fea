/**
 * Internal snapshots on an open qcow2 image (docs/interop/qcow2.txt, "Snapshots"): create
 * (copy the L1 table, count every cluster it reaches once more, clear the COPIED flags so
 * later writes copy-on-write), apply, delete, and the machine state stored past the disk.
 * Each keeps the image consistent if the process dies part-way (at worst leaked clusters):
 * references are counted before the table that makes them, and dropped after it is gone; the
 * snapshot table is written to new clusters before the header points at it.
 */
import { ImageError } from '../errors.js';
import { viewOf, writeU64 } from './bytes.js';
import { ClusterMap } from './cluster-map.js';
import { HeaderField } from './header.js';
import type { Qcow2Internals } from './internals.js';
import { buildSnapshotTable, type SnapshotEntry, type SnapshotInfo } from './snapshot-table.js';

export type { SnapshotInfo } from './snapshot-table.js';
import { applyCounts, type ClusterCounts, clearCopiedFlags, countTree, refreshCopiedFlags } from './tree.js';

/** The largest machine state readVmState reads in one piece (1 GiB). */
const MAX_VM_STATE_READ = 1 << 30;

/** What to snapshot. */
export interface CreateSnapshotOptions {
  readonly name: string;
  /** The id; by default one more than the largest numeric id (as QEMU numbers them). */
  readonly id?: string;
  readonly vmClockNs?: bigint;
  readonly icount?: bigint;
  /** Machine state to store with the snapshot (past the end of the disk). */
  readonly vmState?: Uint8Array;
  /** The date; now by default. */
  readonly date?: Date;
}

/** What the snapshot code needs from the image beyond its structures. */
export interface SnapshotIo {
  /**
   * Runs `fn` holding the metadata mutex with no request in flight (none half-way through
   * an allocation, whose L2 update would land in the tables `fn` changes).
   */
  exclusive<T>(fn: () => Promise<T>): Promise<T>;
  /** Writes at a virtual offset (past the disk too). */
  writeAt(offset: number, data: Uint8Array): Promise<void>;
  /** Reads at a virtual offset through the given L1 table. */
  readAt(offset: number, length: number, l1: Uint8Array): Promise<Uint8Array>;
  /** Unallocates whole clusters of the active image (the caller holds the mutex). */
  discardLocked(offset: number, length: number): Promise<void>;
}

/** The snapshot `idOrName` names (by id first, then by name, as QEMU looks them up). */
export function findSnapshot(x: Qcow2Internals, idOrName: string): SnapshotEntry {
  const s = x.snapshots.find((e) => e.id === idOrName) ?? x.snapshots.find((e) => e.name === idOrName);
  if (s === undefined) throw new ImageError(`${x.file.name}: no snapshot with id or name '${idOrName}'`);
  return s;
}

/** The listing form of an entry. */
export function snapshotInfo(e: SnapshotEntry): SnapshotInfo {
  return {
    id: e.id, name: e.name, dateSec: e.dateSec, dateNsec: e.dateNsec, vmClockNs: e.vmClockNs,
    vmStateSize: e.vmStateSize, diskSize: e.diskSize, icount: e.icount,
  };
}

/** The virtual offset of the machine state of an image of `diskSize` bytes. */
export function vmStateOffset(x: Qcow2Internals, diskSize: number): number {
  return Math.ceil(diskSize / x.g.bytesPerL1Entry) * x.g.bytesPerL1Entry;
}

/** Creates a snapshot of the active image (see the file comment). */
export async function createSnapshot(x: Qcow2Internals, io: SnapshotIo, o: CreateSnapshotOptions): Promise<SnapshotInfo> {
  const id = o.id ?? String(x.snapshots.reduce((max, s) => Math.max(max, /^\d+$/.test(s.id) ? Number(s.id) : 0), 0) + 1);
  if (o.name === '') throw new ImageError(`${x.file.name}: a snapshot needs a name`);
  if (x.snapshots.some((s) => s.id === id)) throw new ImageError(`${x.file.name}: a snapshot with id '${id}' already exists`);
  if (x.snapshots.some((s) => s.name === o.name)) throw new ImageError(`${x.file.name}: a snapshot named '${o.name}' already exists`);
  const vmState = o.vmState ?? new Uint8Array(0);
  if (vmState.length > 0) await io.writeAt(vmStateOffset(x, x.virtualSize), vmState);
  return io.exclusive(async () => {
    const { g, map, refcounts, file } = x;
    // COPIED flags go before the refcounts rise: a flag clear on a cluster counted once only
    // costs a copy, a flag set on a shared one would let a write change the snapshot.
    await clearCopiedFlags(x);
    const l1 = map.l1Bytes();
    let l1Offset = 0;
    if (l1.length > 0) {
      l1Offset = await refcounts.allocate(Math.ceil(l1.length / g.clusterSize));
      await file.write(l1, l1Offset);
    }
    const counts: ClusterCounts = new Map();
    await countTree(x, l1, counts);
    await applyCounts(x, counts, 1);
    const date = o.date ?? new Date();
    const ms = date.getTime();
    const entry: SnapshotEntry = {
      l1TableOffset: l1Offset, l1Size: l1.length / 8, id, name: o.name,
      dateSec: Math.floor(ms / 1000), dateNsec: (ms % 1000) * 1_000_000, vmClockNs: o.vmClockNs ?? 0n,
      vmStateSize: vmState.length, diskSize: x.virtualSize, icount: o.icount, unknownExtra: new Uint8Array(0),
    };
    await writeSnapshotTable(x, [...x.snapshots, entry]);
    // The machine state belongs to the snapshot only: keeping it in the active image would
    // make the next snapshot's state writes copy it first (QEMU discards it too).
    if (vmState.length > 0) await io.discardLocked(vmStateOffset(x, x.virtualSize), vmState.length);
    return snapshotInfo(entry);
  });
}

/** Makes the snapshot `idOrName` the active image (its disk content; the snapshot stays). */
export async function applySnapshot(x: Qcow2Internals, io: SnapshotIo, idOrName: string): Promise<void> {
  const sn = findSnapshot(x, idOrName);
  if (sn.diskSize !== undefined && sn.diskSize !== x.virtualSize) {
    throw new ImageError(`${x.file.name}: snapshot '${sn.name}' has disk size ${sn.diskSize}, the image ${x.virtualSize} (resizing is not supported)`);
  }
  await io.exclusive(async () => {
    const { map } = x;
    const snL1 = await ClusterMap.readL1(x.file, sn.l1TableOffset, sn.l1Size);
    const up: ClusterCounts = new Map();
    await countTree(x, snL1, up);
    const old = map.l1Bytes();
    const down: ClusterCounts = new Map();
    await countTree(x, old, down);
    await applyCounts(x, up, 1);
    const l1 = new Uint8Array(Math.max(old.length, snL1.length));
    l1.set(snL1);
    // QEMU's snapshot L1 copies keep COPIED flags; they are set again from the refcounts below.
    for (let i = 0; i < snL1.length; i += 8) l1[i] = (l1[i] ?? 0) & 0x7f;
    await map.replaceL1(l1);
    await applyCounts(x, down, -1);
    map.dropCache();
    await refreshCopiedFlags(x);
  });
}

/** Deletes the snapshot `idOrName`, freeing the clusters only it used. */
export async function deleteSnapshot(x: Qcow2Internals, io: SnapshotIo, idOrName: string): Promise<void> {
  const sn = findSnapshot(x, idOrName);
  await io.exclusive(async () => {
    const { g, map, refcounts } = x;
    const snL1 = await ClusterMap.readL1(x.file, sn.l1TableOffset, sn.l1Size);
    const down: ClusterCounts = new Map();
    await countTree(x, snL1, down);
    await writeSnapshotTable(x, x.snapshots.filter((s) => s !== sn));
    await applyCounts(x, down, -1);
    if (sn.l1Size > 0) await refcounts.change(sn.l1TableOffset / g.clusterSize, Math.ceil((sn.l1Size * 8) / g.clusterSize), -1);
    map.dropCache();
    await refreshCopiedFlags(x);
  });
}

/** The machine state stored with snapshot `idOrName` (empty for a disk-only snapshot). */
export async function readVmState(x: Qcow2Internals, io: SnapshotIo, idOrName: string): Promise<Uint8Array> {
  const sn = findSnapshot(x, idOrName);
  if (sn.vmStateSize === 0) return new Uint8Array(0);
  const start = vmStateOffset(x, sn.diskSize ?? x.virtualSize);
  if (start + sn.vmStateSize > sn.l1Size * x.g.bytesPerL1Entry || sn.vmStateSize > MAX_VM_STATE_READ) {
    throw new ImageError(`${x.file.name}: snapshot '${sn.name}': machine state of ${sn.vmStateSize} bytes is not covered by its L1 table (${sn.l1Size} entries) or too large to read`);
  }
  const snL1 = await x.mutex.run(() => ClusterMap.readL1(x.file, sn.l1TableOffset, sn.l1Size));
  return io.readAt(start, sn.vmStateSize, snL1);
}

/**
 * Writes `entries` as the snapshot table in new clusters, points the header at it (count and
 * offset in one write), then frees the old table's clusters. Caller holds the mutex.
 */
async function writeSnapshotTable(x: Qcow2Internals, entries: SnapshotEntry[]): Promise<void> {
  const { g, refcounts, file } = x;
  const bytes = buildSnapshotTable(entries);
  let offset = 0;
  if (bytes.length > 0) {
    offset = await refcounts.allocate(Math.ceil(bytes.length / g.clusterSize));
    await file.write(bytes, offset);
  }
  const fields = new Uint8Array(12);
  viewOf(fields).setUint32(0, entries.length);
  writeU64(viewOf(fields), 4, offset);
  await file.write(fields, HeaderField.nbSnapshots);
  const oldOffset = x.snapshotsOffset;
  const oldSize = x.snapshotsSize;
  const hadTable = x.snapshots.length > 0 && oldSize > 0;
  x.snapshots = entries;
  x.snapshotsOffset = offset;
  x.snapshotsSize = bytes.length;
  if (hadTable) await refcounts.change(oldOffset / g.clusterSize, Math.ceil(oldSize / g.clusterSize), -1);
}
