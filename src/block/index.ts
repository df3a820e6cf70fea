/**
 * The block layer: disk image formats (raw, qcow2) over an abstract host file. Core code: no
 * Node imports, so the same formats run in a browser. Its users (src/host/node/block, the CLI's
 * `img` command, snapshots) import this file only.
 */
export type { ImageFile, BackingOpener } from './image-file.js';
export type { BlockImage, ImageFormat, OpenImageOptions } from './block-image.js';
export { ImageError } from './errors.js';
