/**
 * Opens the host backend of a `-drive`: the raw image file, under a temporary copy-on-write
 * overlay with `snapshot=on` (or `-snapshot`, which the CLI folds into each drive's spec).
 */
import type { BlockOpenSpec, ClosableBlockBackend } from './block-backend.js';
import { FileBlockBackend } from './file-backend.js';
import { OverlayBlockBackend } from './overlay-backend.js';

export type { BlockBackend, BlockOpenSpec, CacheMode, ClosableBlockBackend } from './block-backend.js';
export { BlockBackendError, cacheIsWriteback } from './block-backend.js';
export { FileBlockBackend } from './file-backend.js';
export { OverlayBlockBackend } from './overlay-backend.js';

/**
 * Opens `spec.file`. With `snapshot`, the file is opened read-only (so it needs only read
 * permission) and writes go to an in-memory OverlayBlockBackend, dropped on close; the result
 * is then an OverlayBlockBackend. Rejects with a one-line BlockBackendError
 * (`-drive file=disk.img: Could not open 'disk.img': No such file or directory`).
 */
export async function openBlockBackend(spec: BlockOpenSpec): Promise<ClosableBlockBackend> {
  if (!spec.snapshot) return FileBlockBackend.open(spec);
  const base = await FileBlockBackend.open({ ...spec, readOnly: true });
  return new OverlayBlockBackend(base, { readOnly: spec.readOnly, cache: spec.cache });
}
