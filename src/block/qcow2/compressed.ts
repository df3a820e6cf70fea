/**
 * Compressed clusters: raw deflate streams (zlib compression type, no zlib header) stored at
 * byte offsets, spanning whole 512-byte sectors (docs/interop/qcow2.txt, "Compressed
 * Clusters Descriptor"). Reading only: our writes store whole clusters uncompressed.
 */
import { inflateSync } from 'fflate';
import { ImageError } from '../errors.js';
import type { ImageFile } from '../image-file.js';
import { hex } from './bytes.js';

/**
 * Reads and inflates the compressed cluster at byte `host` whose data ends at the end of the
 * `sectors`-th 512-byte sector from host's sector. Resolves with exactly `clusterSize`
 * bytes; a stream that is corrupt or inflates to less is an ImageError naming `where`.
 */
export async function readCompressedCluster(file: ImageFile, host: number, sectors: number, clusterSize: number, where: string): Promise<Uint8Array> {
  const length = sectors * 512 - (host % 512);
  const input = new Uint8Array(length);
  await file.read(input, host);
  let out: Uint8Array;
  try {
    out = inflateSync(input, { out: new Uint8Array(clusterSize) });
  } catch (e) {
    throw new ImageError(`${file.name}: ${where}: the compressed cluster at ${hex(host)} cannot be inflated (${e instanceof Error ? e.message : String(e)})`);
  }
  if (out.length !== clusterSize) {
    throw new ImageError(`${file.name}: ${where}: the compressed cluster at ${hex(host)} inflates to ${out.length} bytes, not ${clusterSize}`);
  }
  return out;
}
