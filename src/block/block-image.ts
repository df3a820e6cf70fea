/**
 * A disk image as the machine sees it: a virtual disk of `virtualSize` bytes, whatever the
 * format on the host (raw, qcow2), with its backing chain. Promise-based; the host adapts it
 * to the virtio-blk BlockBackend (src/host/node/block).
 */
import type { ImageFile } from './image-file.js';

/** The image formats replayvm reads and writes. */
export type ImageFormat = 'raw' | 'qcow2';

/** An open disk image. Requests may overlap in time; each resolves when its bytes are done. */
export interface BlockImage {
  readonly format: ImageFormat;
  /** The file this image is stored in. */
  readonly file: ImageFile;
  /** The size of the virtual disk in bytes. */
  readonly virtualSize: number;
  /** Whether writes are refused. */
  readonly readOnly: boolean;
  /** The image this one reads unallocated data from (qcow2 `-b`), if any. */
  readonly backing: BlockImage | undefined;
  /**
   * Reads `length` bytes at virtual offset `offset` (inside [0, virtualSize)). Unallocated
   * parts read from the backing image, or as zeros past its end or without one.
   */
  read(offset: number, length: number): Promise<Uint8Array>;
  /** Writes `data` at virtual offset `offset` (inside [0, virtualSize)). */
  write(offset: number, data: Uint8Array): Promise<void>;
  /** Makes every completed write durable (data and metadata). */
  flush(): Promise<void>;
  /** Waits for requests in flight, writes back what is cached, closes the file and the backing chain. */
  close(): Promise<void>;
}

/** How to open an image. */
export interface OpenImageOptions {
  /** The format; undefined probes it from the first bytes (QEMU's probing: qcow2 magic, else raw). */
  readonly format?: ImageFormat;
  /** Open without write access (the file was opened read-only too). */
  readonly readOnly: boolean;
  /** Opens backing files; without it, an image with a backing file is refused. */
  readonly openBacking?: import('./image-file.js').BackingOpener;
}
