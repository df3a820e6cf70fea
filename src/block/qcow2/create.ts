/**
 * Creating a qcow2 image as `qemu-img create -f qcow2` does: version 3, 16-bit refcounts,
 * 64 KiB clusters by default; the header in cluster 0, then the refcount table, the refcount
 * block(s) and the (empty) L1 table.
 */
import { ImageError } from '../errors.js';
import type { ImageFile } from '../image-file.js';
import { viewOf, writeU64 } from './bytes.js';
import { buildHeader, MAX_L1_BYTES } from './header.js';
import type { ImageFormat } from '../block-image.js';

/** What to create. */
export interface CreateQcow2Options {
  /** The virtual disk size in bytes. */
  readonly virtualSize: number;
  /** log2 of the cluster size, 9 (512 B) to 21 (2 MiB); 16 (64 KiB) by default. */
  readonly clusterBits?: number;
  /** The backing file, as the header will name it, and its format. */
  readonly backing?: { readonly name: string; readonly format: ImageFormat };
}

/** Writes a new, empty qcow2 image into `file` (which should be empty; it is truncated to size). */
export async function createQcow2(file: ImageFile, options: CreateQcow2Options): Promise<void> {
  const clusterBits = options.clusterBits ?? 16;
  if (!Number.isInteger(clusterBits) || clusterBits < 9 || clusterBits > 21) {
    throw new ImageError(`${file.name}: cluster size must be a power of two between 512 B and 2 MiB (cluster_bits ${clusterBits})`);
  }
  const size = options.virtualSize;
  if (!Number.isSafeInteger(size) || size < 0) throw new ImageError(`${file.name}: invalid virtual size ${size}`);
  const cs = 2 ** clusterBits;
  const l1Size = Math.ceil(size / (cs * (cs / 8)));
  if (l1Size * 8 > MAX_L1_BYTES) throw new ImageError(`${file.name}: virtual size ${size} is too large for ${cs}-byte clusters`);
  const l1Clusters = Math.max(1, Math.ceil((l1Size * 8) / cs));
  const refblockEntries = cs / 2;
  // header + table + blocks + L1, with enough blocks to count all of them.
  let blocks = 1;
  let tableClusters = 1;
  for (;;) {
    const total = 1 + tableClusters + blocks + l1Clusters;
    const needBlocks = Math.ceil(total / refblockEntries);
    const needTable = Math.ceil((needBlocks * 8) / cs);
    if (needBlocks === blocks && needTable === tableClusters) break;
    blocks = needBlocks;
    tableClusters = needTable;
  }
  const tableOffset = cs;
  const blocksOffset = tableOffset + tableClusters * cs;
  const l1Offset = blocksOffset + blocks * cs;
  const header = buildHeader({
    clusterBits, size, l1Size, l1TableOffset: l1Offset, refcountTableOffset: tableOffset, refcountTableClusters: tableClusters,
    ...(options.backing !== undefined ? { backingFile: options.backing.name, backingFormat: options.backing.format } : {}),
  });
  const table = new Uint8Array(tableClusters * cs);
  for (let b = 0; b < blocks; b++) writeU64(viewOf(table), b * 8, blocksOffset + b * cs);
  const refblocks = new Uint8Array(blocks * cs);
  const used = 1 + tableClusters + blocks + l1Clusters;
  for (let c = 0; c < used; c++) viewOf(refblocks).setUint16(c * 2, 1);
  await file.truncate(0);
  await file.write(header, 0);
  await file.write(table, tableOffset);
  await file.write(refblocks, blocksOffset);
  await file.truncate(l1Offset + l1Size * 8);
  await file.flush();
}
