/**
 * The block layer: disk image formats (raw, qcow2) over an abstract host file. Core code: no
 * Node imports, so the same formats run in a browser. Its users (src/host/node/block, the CLI's
 * `img` command, snapshots) import this file only.
 */
export type { ImageFile, BackingOpener } from './image-file.js';
export type { BlockImage, ImageFormat, OpenImageOptions } from './block-image.js';
export { ImageError } from './errors.js';
export { openImage, probeImageFormat, MAX_BACKING_DEPTH } from './open-image.js';
export { RawImage } from './raw/raw-image.js';
export { MemoryImageFile } from './memory-file.js';
export { Qcow2Image, type Qcow2OpenOptions } from './qcow2/qcow2-image.js';
export { createQcow2, type CreateQcow2Options } from './qcow2/create.js';
export type { Qcow2Header, FeatureName } from './qcow2/header.js';
export type { SnapshotInfo, CreateSnapshotOptions } from './qcow2/snapshots.js';
export { checkQcow2, type Qcow2CheckReport } from './qcow2/check.js';
