/**
 * Walks over everything an L1 table references (its L2 tables and their data clusters), to
 * count references (snapshot create/apply/delete, the refcount rebuild) and to set the
 * active tables' COPIED flags from the refcounts.
 */
import { viewOf } from './bytes.js';
import { compressedClusters, decodeL2Entry } from './layout.js';
import type { Qcow2Internals } from './internals.js';

/** Host cluster index -> number of references. */
export type ClusterCounts = Map<number, number>;

/** Adds 1 to `counts` for `count` clusters from byte offset `offset`. */
export function countClusters(counts: ClusterCounts, clusterSize: number, offset: number, count: number): void {
  const first = Math.floor(offset / clusterSize);
  for (let c = first; c < first + count; c++) counts.set(c, (counts.get(c) ?? 0) + 1);
}

/**
 * Counts one reference for each L2 table of `l1` (as stored) and each data cluster they map
 * (compressed clusters: each host cluster their data touches), as qemu-img check does.
 */
export async function countTree(x: Qcow2Internals, l1: Uint8Array, counts: ClusterCounts): Promise<void> {
  const { g, map } = x;
  for (let i = 0; i < l1.length / 8; i++) {
    const e = map.l1Entry(i, l1);
    if (e.l2Offset === 0) continue;
    countClusters(counts, g.clusterSize, e.l2Offset, 1);
    const v = viewOf(await map.l2Table(e.l2Offset));
    for (let j = 0; j < g.l2Entries; j++) {
      const where = (): string => `L2 table entry ${j} of L1 entry ${i}`;
      const m = decodeL2Entry(g, v, j * 8, where);
      if ((m.kind === 'normal' || m.kind === 'zero') && m.host !== 0) {
        map.checkCluster(m.host, where);
        countClusters(counts, g.clusterSize, m.host, 1);
      } else if (m.kind === 'compressed') {
        const { first, count } = compressedClusters(g, m.host, m.sectors);
        countClusters(counts, g.clusterSize, first, count);
      }
    }
  }
}

/** Adds `sign` times `counts` to the refcounts, in runs of neighbouring clusters. */
export async function applyCounts(x: Qcow2Internals, counts: ClusterCounts, sign: 1 | -1): Promise<void> {
  const clusters = [...counts.keys()].sort((a, b) => a - b);
  let i = 0;
  while (i < clusters.length) {
    const first = clusters[i] ?? 0;
    const n = counts.get(first) ?? 0;
    let run = 1;
    while (i + run < clusters.length && clusters[i + run] === first + run && counts.get(first + run) === n) run++;
    await x.refcounts.change(first, run, sign * n);
    i += run;
  }
}

/**
 * Sets the COPIED flag of every active L1 entry and of every entry of the L2 tables they
 * reference from the refcounts (set exactly when the refcount is 1), writing what changed.
 */
export async function refreshCopiedFlags(x: Qcow2Internals): Promise<void> {
  const { g, map, refcounts } = x;
  for (let i = 0; i < map.l1Size; i++) {
    const e = map.l1Entry(i);
    if (e.l2Offset === 0) continue;
    const table = await map.l2Table(e.l2Offset);
    if (await map.refreshCopiedFlags(table, i)) await map.writeL2(e.l2Offset, table);
    const copied = (await refcounts.get(e.l2Offset / g.clusterSize)) === 1;
    if (copied !== e.copied) await map.setL1Entry(i, e.l2Offset, copied);
  }
}

/** Clears the COPIED flag of every active L1 entry and of every entry of their L2 tables. */
export async function clearCopiedFlags(x: Qcow2Internals): Promise<void> {
  const { g, map } = x;
  for (let i = 0; i < map.l1Size; i++) {
    const e = map.l1Entry(i);
    if (e.l2Offset === 0) continue;
    const table = await map.l2Table(e.l2Offset);
    let changed = false;
    for (let j = 0; j < g.l2Entries; j++) {
      const hi = j * 8;
      if (((table[hi] ?? 0) & 0x80) !== 0) {
        table[hi] = (table[hi] ?? 0) & 0x7f;
        changed = true;
      }
    }
    if (changed) await map.writeL2(e.l2Offset, table);
    if (e.copied) await map.setL1Entry(i, e.l2Offset, false);
  }
}
