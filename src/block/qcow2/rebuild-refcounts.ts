/**
 * Rebuilding the refcounts of a dirty image (one QEMU left open with lazy refcounts, or killed
 * while it was): count every reference from the header, the tables and every snapshot, as
 * `qemu-img check -r all` would, write those counts into the refcount blocks, and set the
 * COPIED flags to match.
 */
import { ImageError } from '../errors.js';
import { ClusterMap } from './cluster-map.js';
import type { Qcow2Internals } from './internals.js';
import { type ClusterCounts, countClusters, countTree, refreshCopiedFlags } from './tree.js';

/** Recounts every cluster's references and writes the counts (see the file comment). */
export async function rebuildRefcounts(x: Qcow2Internals): Promise<void> {
  const { g, map, refcounts, file } = x;
  const counts: ClusterCounts = new Map();
  const cs = g.clusterSize;
  countClusters(counts, cs, 0, 1);
  const clustersOf = (bytes: number): number => Math.ceil(bytes / cs);
  if (map.l1Size > 0) countClusters(counts, cs, map.l1TableOffset, clustersOf(map.l1Size * 8));
  await countTree(x, map.l1Bytes(), counts);
  if (x.snapshots.length > 0) {
    countClusters(counts, cs, x.snapshotsOffset, clustersOf(x.snapshotsSize));
    for (const s of x.snapshots) {
      if (s.l1Size === 0) continue;
      countClusters(counts, cs, s.l1TableOffset, clustersOf(s.l1Size * 8));
      await countTree(x, await ClusterMap.readL1(file, s.l1TableOffset, s.l1Size), counts);
    }
  }
  const layout = refcounts.layout;
  countClusters(counts, cs, layout.tableOffset, layout.tableClusters);
  for (const b of refcounts.blockOffsets()) countClusters(counts, cs, b.offset, 1);
  const uncovered = await refcounts.overwrite(counts);
  if (uncovered !== undefined) {
    throw new ImageError(`${g.name}: the image is dirty and cluster offset 0x${(uncovered * cs).toString(16)} has no refcount block; repair it with qemu-img check -r all`);
  }
  await refreshCopiedFlags(x);
}
