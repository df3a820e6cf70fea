/** The parts of an open qcow2 image that its snapshot and repair code work on. */
import type { AsyncMutex } from '../async-mutex.js';
import type { ImageFile } from '../image-file.js';
import type { ClusterMap } from './cluster-map.js';
import type { Geometry } from './layout.js';
import type { Refcounts } from './refcounts.js';
import type { SnapshotEntry } from './snapshot-table.js';

/** The structures of an open qcow2 image. */
export interface Qcow2Internals {
  readonly file: ImageFile;
  readonly g: Geometry;
  readonly refcounts: Refcounts;
  readonly map: ClusterMap;
  /** Serializes metadata updates. */
  readonly mutex: AsyncMutex;
  readonly virtualSize: number;
  snapshots: SnapshotEntry[];
  snapshotsOffset: number;
  /** The snapshot table's size in bytes as stored. */
  snapshotsSize: number;
}
