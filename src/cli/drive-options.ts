/**
 * `-drive file=PATH[,format=raw|qcow2][,if=none|virtio][,id=ID][,readonly=on|off][,snapshot=on|off]
 * [,cache=writeback|writethrough|none|directsync|unsafe]` and the record/replay wrapper
 * `-drive driver=blkreplay,if=none,image=ID,id=ID2`, parsed as QEMU's drive_new does, with
 * QEMU's messages after the usual `-drive TEXT: ` prefix. Pure: the file is opened later
 * (src/host/node/block/open.ts).
 */
import type { ImageFormat } from '../block/index.js';
import type { CacheMode } from '../host/node/block/block-backend.js';
import type { DriveCommon, DriveInterface, DriveSpec } from '../host/node/virtio-plan.js';
import { CliError, checkQemuId, parseQemuOpts, qemuBoolValue } from './option-syntax.js';

export type { DriveInterface, DriveSpec };

/** `driver=blkreplay,image=ID`: record/replay's wrapper around the drive `image`. */
export interface BlkreplayDriveSpec extends DriveCommon {
  readonly driver: 'blkreplay';
  /** The id of the wrapped drive. */
  readonly image: string;
}

/** One `-drive`. */
export type DriveOption = DriveSpec | BlkreplayDriveSpec;

const CACHE_MODES: readonly CacheMode[] = ['writeback', 'writethrough', 'none', 'directsync', 'unsafe'];

/** QEMU's -drive interfaces that the riscv virt board here does not have. */
const OTHER_INTERFACES = new Set(['ide', 'scsi', 'floppy', 'pflash', 'mtd', 'sd', 'xen']);

/** -drive keys QEMU has that we do not implement (so the message says so rather than "invalid"). */
const UNSUPPORTED_KEYS = new Set(['index', 'bus', 'unit', 'aio', 'discard', 'detect-zeroes', 'werror', 'rerror',
  'addr', 'serial', 'copy-on-read', 'node-name', 'auto-read-only', 'force-share', 'locking', 'cache.direct',
  'cache.no-flush', 'throttling.group', 'group', 'cyls', 'heads', 'secs', 'trans', 'boot', 'aio-max-batch']);

/**
 * Parses the argument of `-drive`. Throws CliError with QEMU's message for invalid input.
 * @param option the option name used in messages.
 */
export function parseDriveOption(text: string, option = '-drive'): DriveOption {
  const where = `${option} ${text}`;
  const fail = (message: string): never => {
    throw new CliError(`${where}: ${message}`);
  };
  let file: string | undefined;
  let format: string | undefined;
  let driver: string | undefined;
  let iface: DriveInterface = 'none';
  let id: string | undefined;
  let readOnly = false;
  let snapshot = false;
  let cache: CacheMode = 'writeback';
  let image: string | undefined;
  for (const { key, value } of parseQemuOpts(text, undefined, option)) {
    switch (key) {
      case 'file':
        file = value;
        break;
      case 'format':
        format = value;
        break;
      case 'driver':
        driver = value;
        break;
      case 'if':
        if (value === 'none' || value === 'virtio') iface = value;
        else if (OTHER_INTERFACES.has(value)) fail(`interface 'if=${value}' is not supported (none, virtio)`);
        else fail(`unsupported bus type '${value}'`);
        break;
      case 'id':
        id = checkQemuId(value, where);
        break;
      case 'readonly':
        readOnly = qemuBoolValue(key, value, where);
        break;
      case 'snapshot':
        snapshot = qemuBoolValue(key, value, where);
        break;
      case 'cache':
        if (!(CACHE_MODES as readonly string[]).includes(value)) fail('invalid cache option');
        cache = value as CacheMode;
        break;
      case 'image':
        image = value;
        break;
      case 'media':
        if (value !== 'disk') fail(value === 'cdrom' ? "media 'cdrom' is not supported (only disk)" : `'${value}' invalid media`);
        break;
      default:
        if (UNSUPPORTED_KEYS.has(key) || /^(bps|iops|throttling|file)[._]/.test(key) || key === 'bps' || key === 'iops') {
          fail(`'${key}' is not supported`);
        }
        fail(`Invalid parameter '${key}'`);
    }
  }
  if (format !== undefined && driver !== undefined) fail("Cannot specify both 'driver' and 'format'");
  const common = { where, ...(id === undefined ? {} : { id }), interface: iface, readOnly, snapshot, cache };

  if (driver === 'blkreplay') {
    if (file !== undefined) fail("Block format 'blkreplay' does not support the option 'file' (use image=ID)");
    if (image === undefined || image === '') return fail('A block device must be specified for "image"');
    return { driver: 'blkreplay', image, ...common };
  }
  const fmt = format ?? driver;
  // driver=file is QEMU's protocol layer alone: the file's bytes, as format=raw.
  const imageFormat: ImageFormat | undefined = fmt === 'file' || fmt === 'raw' ? 'raw' : fmt === 'qcow2' ? 'qcow2' : undefined;
  if (fmt !== undefined && imageFormat === undefined) fail(`${format !== undefined ? 'format' : 'driver'} '${fmt}' is not supported (raw, qcow2)`);
  if (image !== undefined) fail("Invalid parameter 'image' (only with driver=blkreplay)");
  if (file === undefined || file === '') return fail('Device needs media, but drive is empty (give file=PATH)');
  return { driver: 'image', file, ...(imageFormat === undefined ? {} : { format: imageFormat }), ...common };
}
