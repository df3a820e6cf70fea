/**
 * The qcow2 path of a `-drive`: waits for src/block's openImage (engine "qcow2").
 */
import { BlockBackendError, type BlockOpenSpec, type ClosableBlockBackend } from './block-backend.js';

function notYet(file: string, where: string): never {
  throw new BlockBackendError(`${where}: '${file}' is a qcow2 image: format 'qcow2' is not supported yet`);
}

/** Opens `spec.file` as a qcow2 image (not yet). */
export function openQcow2Backend(spec: BlockOpenSpec, _writable: boolean, where: string): Promise<ClosableBlockBackend> {
  return Promise.reject(new BlockBackendError(`${where}: '${spec.file}' is a qcow2 image: format 'qcow2' is not supported yet`));
}

/** The virtual size of the qcow2 image `file` (not yet). */
export function qcow2VirtualSize(file: string, where: string): Promise<number> {
  return Promise.resolve().then(() => notYet(file, where));
}
