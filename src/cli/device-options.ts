/**
 * `-device virtio-blk-device,drive=ID[,serial=S]`, `-device virtio-net-device,netdev=ID[,mac=MAC]`
 * and `-device virtio-rng-device[,rng=ID]` (each also with `id=` and `bus=virtio-mmio-bus.N`),
 * parsed as QEMU's qdev_device_add does, with QEMU's messages after the usual `-device TEXT: `
 * prefix; and `resolveDevices`, which checks the references between -drive, -device, -netdev
 * and -object and lists the virtio devices to put on the board. Pure: nothing is opened here.
 */
import { VIRTIO_COUNT } from '../board/virt-memory-map.js';
import type { RngSource, VirtioDevicePlan } from '../host/node/virtio-plan.js';
import type { BlkreplayDriveSpec, DriveOption, DriveSpec } from './drive-options.js';
import type { NetdevSpec } from './netdev-options.js';
import type { ObjectSpec } from './object-options.js';
import { RNG_RANDOM_DEFAULT_FILE } from './object-options.js';
import { CliError, checkQemuId, parseQemuOpts } from './option-syntax.js';

/** The device models we implement. */
export const DEVICE_MODELS = ['virtio-blk-device', 'virtio-net-device', 'virtio-rng-device'] as const;
export type DeviceModel = (typeof DEVICE_MODELS)[number];

/** What every `-device` has. */
interface DeviceCommon {
  /** The option as given, `-device TEXT`, for messages. */
  readonly where: string;
  /** `id=`. */
  readonly id?: string;
  /** `bus=virtio-mmio-bus.N`: the virtio-mmio slot N (0 is the lowest address, 0x10001000). */
  readonly bus?: number;
}

/** A `-device`. */
export type DeviceSpec =
  | DeviceCommon & { readonly model: 'virtio-blk-device'; readonly drive: string; readonly serial?: string }
  /** `mac` normalized to lowercase `52:54:00:12:34:56` form. */
  | DeviceCommon & { readonly model: 'virtio-net-device'; readonly netdev: string; readonly mac?: string }
  | DeviceCommon & { readonly model: 'virtio-rng-device'; readonly rng?: string };

/** Properties QEMU's virtio devices have that we do not implement, by model. */
const UNSUPPORTED_PROPERTIES: Readonly<Record<DeviceModel, ReadonlySet<string>>> = (() => {
  const common = ['indirect_desc', 'event_idx', 'notify_on_empty', 'any_layout', 'iommu_platform', 'packed',
    'use-started', 'use-disabled-flag', 'x-disable-legacy-check', 'queue_reset', 'ioeventfd'];
  return {
    'virtio-blk-device': new Set([...common, 'logical_block_size', 'physical_block_size', 'min_io_size', 'opt_io_size',
      'discard_granularity', 'write-cache', 'share-rw', 'rerror', 'werror', 'cyls', 'heads', 'secs', 'lcyls', 'lheads',
      'lsecs', 'backend_defaults', 'config-wce', 'scsi', 'request-merging', 'num-queues', 'queue-size',
      'seg-max-adjust', 'iothread', 'discard', 'write-zeroes', 'max-discard-sectors', 'max-write-zeroes-sectors',
      'report-discard-granularity', 'bootindex']),
    'virtio-net-device': new Set([...common, 'mrg_rxbuf', 'status', 'ctrl_vq', 'ctrl_rx', 'ctrl_vlan', 'ctrl_rx_extra',
      'ctrl_mac_addr', 'ctrl_guest_offloads', 'mq', 'rss', 'hash', 'csum', 'guest_csum', 'gso', 'guest_tso4',
      'guest_tso6', 'guest_ecn', 'guest_ufo', 'guest_uso4', 'guest_uso6', 'guest_announce', 'host_tso4', 'host_tso6',
      'host_ecn', 'host_ufo', 'host_uso', 'x-txtimer', 'x-txburst', 'tx', 'rx_queue_size', 'tx_queue_size', 'host_mtu',
      'x-mtu-bypass-backend', 'speed', 'duplex', 'failover', 'bootindex']),
    'virtio-rng-device': new Set([...common, 'max-bytes', 'period']),
  };
})();

/** QEMU device models that exist but not here. */
const OTHER_QEMU_MODELS = new Set(['loader', 'guest-loader', 'ramfb', 'e1000', 'e1000e', 'rtl8139', 'nvme',
  'ide-hd', 'ide-cd', 'scsi-hd', 'scsi-cd', 'usb-ehci', 'qemu-xhci', 'usb-storage', 'usb-kbd', 'usb-tablet',
  'virtconsole', 'virtserialport', 'pci-bridge', 'pcie-root-port', 'ivshmem-plain', 'tpm-tis-device']);

/**
 * The text of `-device help` (QEMU's layout, our models). The caller checks for `help`/`?`
 * before calling parseDeviceOption.
 */
export function deviceHelpText(): string {
  return 'Network devices:\nname "virtio-net-device", bus virtio-bus\n\n' +
    'Storage devices:\nname "virtio-blk-device", bus virtio-bus\n\n' +
    'Misc devices:\nname "virtio-rng-device", bus virtio-bus\n';
}

/**
 * Parses a MAC address as QEMU's qdev mac property: six two-digit hex bytes separated by ':'
 * or '-'. Returns it as lowercase `xx:xx:xx:xx:xx:xx`, or undefined when invalid.
 */
export function parseMacAddress(text: string): string | undefined {
  if (!/^[0-9a-fA-F]{2}([:-][0-9a-fA-F]{2}){5}$/.test(text)) return undefined;
  return text.toLowerCase().replaceAll('-', ':');
}

/**
 * Parses the argument of `-device`. Throws CliError with QEMU's message for invalid input.
 * @param option the option name used in messages.
 */
export function parseDeviceOption(text: string, option = '-device'): DeviceSpec {
  const where = `${option} ${text}`;
  const fail = (message: string): never => {
    throw new CliError(`${where}: ${message}`);
  };
  const opts = parseQemuOpts(text, 'driver', option);
  const driver = opts.find((o) => o.key === 'driver')?.value;
  if (driver === undefined || driver === '') return fail("Parameter 'driver' is missing");
  if (!(DEVICE_MODELS as readonly string[]).includes(driver)) {
    const base = /^(virtio-(?:blk|net|rng))(?:-pci(?:-non-transitional|-transitional)?)?$/.exec(driver);
    if (base !== null) {
      return fail(`'${driver}' is not supported: there is no PCI bus here (use ${base[1]}-device)`);
    }
    if (OTHER_QEMU_MODELS.has(driver) || /^(virtio|vhost)-.*-(device|pci)$/.test(driver)) {
      return fail(`'${driver}' is not supported (${DEVICE_MODELS.join(', ')})`);
    }
    return fail(`'${driver}' is not a valid device model name`);
  }
  const model = driver as DeviceModel;
  let id: string | undefined;
  let bus: number | undefined;
  const props = new Map<string, string>();
  const allowed: Readonly<Record<DeviceModel, readonly string[]>> = {
    'virtio-blk-device': ['drive', 'serial'],
    'virtio-net-device': ['netdev', 'mac'],
    'virtio-rng-device': ['rng'],
  };
  for (const { key, value } of opts) {
    if (key === 'driver') continue;
    if (key === 'id') {
      id = checkQemuId(value, where);
    } else if (key === 'bus') {
      const m = /^virtio-mmio-bus\.([0-9]{1,3})$/.exec(value);
      if (m === null) fail(`Bus '${value}' not found`);
      else bus = Number(m[1]);
    } else if (allowed[model].includes(key)) {
      props.set(key, value);
    } else if (UNSUPPORTED_PROPERTIES[model].has(key)) {
      fail(`Property '${model}.${key}' is not supported`);
    } else {
      fail(`Property '${model}.${key}' not found`);
    }
  }
  const common = { where, ...(id === undefined ? {} : { id }), ...(bus === undefined ? {} : { bus }) };
  switch (model) {
    case 'virtio-blk-device': {
      const drive = props.get('drive');
      if (drive === undefined || drive === '') return fail('drive property not set');
      const serial = props.get('serial');
      return { model, drive, ...(serial === undefined ? {} : { serial }), ...common };
    }
    case 'virtio-net-device': {
      const netdev = props.get('netdev');
      // QEMU allows a NIC without a backend (it warns "has no peer"); nothing could reach it.
      if (netdev === undefined || netdev === '') return fail('netdev property not set (a NIC needs a -netdev)');
      const macText = props.get('mac');
      if (macText === undefined) return { model, netdev, ...common };
      const mac = parseMacAddress(macText);
      if (mac === undefined) return fail(`Property '${model}.mac' doesn't take value '${macText}'`);
      if ((parseInt(mac.slice(0, 2), 16) & 1) !== 0) return fail('NIC cannot have multicast MAC address (odd 1st byte)');
      return { model, netdev, mac, ...common };
    }
    case 'virtio-rng-device': {
      const rng = props.get('rng');
      return { model, ...(rng === undefined || rng === '' ? {} : { rng }), ...common };
    }
  }
}

export type { RngSource, VirtioDevicePlan };

/** The outcome of resolveDevices. */
export interface ResolvedDevices {
  /** In QEMU's creation order: the `-device`s in command-line order, then the `if=virtio` drives'. */
  readonly devices: readonly VirtioDevicePlan[];
  /** QEMU's warnings, to print as `${PROGRAM}: warning: ${text}`. */
  readonly warnings: readonly string[];
  /** `if=none` drives no device uses (QEMU still opens them: their errors still count). */
  readonly unusedDrives: readonly DriveSpec[];
}

interface DriveEntry {
  readonly option: DriveOption;
  readonly id: string;
  /** What uses the drive: a device, its implicit device (if=virtio), or a blkreplay drive. */
  usedBy?: 'device' | 'implicit' | 'blkreplay';
}

/** A device about to be placed, explicit or implied by an if=virtio drive. */
type Pending = DeviceSpec | (DeviceCommon & { readonly model: 'virtio-blk-device'; readonly drive: string; readonly implicit: true });

/**
 * Checks the references between the options and lists the virtio devices for the board.
 * `snapshotFlag` is `-snapshot`: every drive gets snapshot=on. `slotCount` is the number of
 * virtio-mmio transports (QEMU virt's 8). Throws CliError, naming the offending option, with
 * QEMU's message.
 *
 * - `-device virtio-blk-device,drive=ID`: the drive must exist and be used once; an `if=virtio`
 *   drive is already connected to the virtio-blk-device it implies. As in QEMU those implicit
 *   devices are created after every `-device`, in `-drive` order. (QEMU's riscv virt makes them
 *   virtio-blk-pci; with no PCI bus here they are virtio-blk-device.)
 * - `driver=blkreplay,image=ID` uses the drive ID; the device then gets that image.
 * - a netdev may serve one NIC; one that serves none gives QEMU's "netdev ID has no peer" warning.
 * - `-device virtio-rng-device` without rng= gets an rng-builtin, as QEMU; with rng=ID the
 *   object must be an rng-random or rng-builtin.
 */
export function resolveDevices(
  drives: readonly DriveOption[],
  devices: readonly DeviceSpec[],
  netdevs: readonly NetdevSpec[],
  objects: readonly ObjectSpec[],
  snapshotFlag: boolean,
  slotCount: number = VIRTIO_COUNT,
): ResolvedDevices {
  const fail = (where: string, message: string): never => {
    throw new CliError(`${where}: ${message}`);
  };

  // Drives, named as QEMU's drive_new names those without id: the interface and a unit number
  // counting the drives on that interface ("none0", "virtio1").
  const units = new Map<string, number>();
  const driveById = new Map<string, DriveEntry>();
  const driveEntries: DriveEntry[] = [];
  for (const d of drives) {
    const unit = units.get(d.interface) ?? 0;
    units.set(d.interface, unit + 1);
    const id = d.id ?? `${d.interface}${unit}`;
    if (driveById.has(id)) fail(d.where, `Duplicate ID '${id}' for drive`);
    const option: DriveOption = { ...d, id, snapshot: d.snapshot || snapshotFlag };
    const entry: DriveEntry = { option, id, ...(d.interface === 'virtio' ? { usedBy: 'implicit' as const } : {}) };
    driveById.set(id, entry);
    driveEntries.push(entry);
  }
  // blkreplay drives take their image drive.
  for (const entry of driveEntries) {
    const d = entry.option;
    if (d.driver !== 'blkreplay') continue;
    const image = driveById.get(d.image);
    if (image === undefined) return fail(d.where, `Cannot find device='${d.image}' nor node-name='${d.image}'`);
    if (image.option.driver === 'blkreplay') fail(d.where, `blkreplay over blkreplay ('${d.image}') is not supported`);
    if (image.usedBy !== undefined) fail(d.where, inUse(image));
    image.usedBy = 'blkreplay';
  }

  const netdevById = new Map<string, NetdevSpec>();
  for (const n of netdevs) {
    if (netdevById.has(n.id)) fail(n.where, `Duplicate ID '${n.id}' for netdev`);
    netdevById.set(n.id, n);
  }
  const objectById = new Map<string, ObjectSpec>();
  const replayFilters = new Map<string, Extract<ObjectSpec, { type: 'filter-replay' }>>();
  for (const o of objects) {
    if (objectById.has(o.id)) fail(o.where, `attempt to add duplicate property '${o.id}' to object (type 'container')`);
    objectById.set(o.id, o);
    if (o.type === 'filter-replay') {
      if (!netdevById.has(o.netdev)) fail(o.where, "Parameter 'netdev' expects a network backend id");
      if (replayFilters.has(o.netdev)) fail(o.where, `netdev '${o.netdev}' already has a filter-replay`);
      replayFilters.set(o.netdev, o);
    }
  }

  const pending: Pending[] = [...devices];
  for (const entry of driveEntries) {
    if (entry.option.interface === 'virtio') {
      pending.push({ model: 'virtio-blk-device', where: entry.option.where, drive: entry.id, implicit: true });
    }
  }

  const deviceIds = new Set<string>();
  const usedSlots = new Set<number>();
  const netdevUsed = new Set<string>();
  let defaultMacs = 0;
  const plans: VirtioDevicePlan[] = [];
  for (const dev of pending) {
    const where = dev.where;
    if (dev.id !== undefined) {
      if (deviceIds.has(dev.id)) fail(where, `Duplicate ID '${dev.id}' for device`);
      deviceIds.add(dev.id);
    }
    // The slot is chosen before the properties are set, as qdev_device_add does.
    let slot: number;
    if (dev.bus !== undefined) {
      if (dev.bus >= slotCount) fail(where, `Bus 'virtio-mmio-bus.${dev.bus}' not found`);
      if (usedSlots.has(dev.bus)) fail(where, `Bus 'virtio-mmio-bus.${dev.bus}' is full`);
      slot = dev.bus;
    } else {
      slot = -1;
      for (let s = slotCount - 1; s >= 0; s--) {
        if (!usedSlots.has(s)) {
          slot = s;
          break;
        }
      }
      if (slot < 0) fail(where, `No 'virtio-bus' bus found for device '${dev.model}'`);
    }
    usedSlots.add(slot);
    const common = { slot, where, ...(dev.id === undefined ? {} : { id: dev.id }) };

    switch (dev.model) {
      case 'virtio-blk-device': {
        const entry = driveById.get(dev.drive);
        if (entry === undefined) return fail(where, `Property 'virtio-blk-device.drive' can't find value '${dev.drive}'`);
        if (!('implicit' in dev)) {
          if (entry.usedBy !== undefined) fail(where, inUse(entry));
          entry.usedBy = 'device';
        }
        const d = entry.option;
        const drive = d.driver === 'blkreplay' ? blkreplayImage(d, driveById) : d;
        const serial = 'serial' in dev ? dev.serial : undefined;
        plans.push({ kind: 'blk', ...common, drive, driveId: entry.id, ...(serial === undefined ? {} : { serial }), blkreplay: d.driver === 'blkreplay' });
        break;
      }
      case 'virtio-net-device': {
        const netdev = netdevById.get(dev.netdev);
        if (netdev === undefined) return fail(where, `Property 'virtio-net-device.netdev' can't find value '${dev.netdev}'`);
        if (netdevUsed.has(netdev.id)) fail(where, `Property 'virtio-net-device.netdev' can't take value '${dev.netdev}', it's in use`);
        netdevUsed.add(netdev.id);
        // QEMU's qemu_macaddr_default_if_unset(): 52:54:00:12:34:56, :57, ... for NICs without mac=.
        const mac = dev.mac ?? `52:54:00:12:34:${((0x56 + defaultMacs++) & 0xff).toString(16).padStart(2, '0')}`;
        const replayFilter = replayFilters.get(netdev.id);
        plans.push({ kind: 'net', ...common, netdev, mac, ...(replayFilter === undefined ? {} : { replayFilter }) });
        break;
      }
      case 'virtio-rng-device': {
        if (dev.rng === undefined) {
          plans.push({ kind: 'rng', ...common, source: 'builtin', sourceWhere: where });
          break;
        }
        const o = objectById.get(dev.rng);
        if (o === undefined) return fail(where, `Device '${dev.rng}' not found`);
        if (o.type === 'filter-replay') return fail(where, "Invalid parameter type for 'rng', expected: rng-backend");
        const source: RngSource = o.type === 'rng-builtin' ? 'builtin'
          : o.filename === RNG_RANDOM_DEFAULT_FILE ? 'urandom' : { file: o.filename };
        plans.push({ kind: 'rng', ...common, source, sourceWhere: o.where });
        break;
      }
    }
  }

  const warnings: string[] = [];
  for (const n of netdevs) if (!netdevUsed.has(n.id)) warnings.push(`netdev ${n.id} has no peer`);
  const unusedDrives: DriveSpec[] = [];
  for (const entry of driveEntries) {
    if (entry.usedBy === undefined && entry.option.driver === 'image') unusedDrives.push(entry.option);
  }
  return { devices: plans, warnings, unusedDrives };
}

/** QEMU's set_drive_helper message for a drive that already has a user. */
function inUse(entry: DriveEntry): string {
  if (entry.usedBy === 'implicit') {
    return `Drive '${entry.id}' is already in use because it has been automatically connected to another device (did you need 'if=none' in the drive options?)`;
  }
  return `Drive '${entry.id}' is already in use by another device`;
}

/** The image under a blkreplay drive, with the wrapper's read-only and snapshot settings folded in. */
function blkreplayImage(d: BlkreplayDriveSpec, driveById: ReadonlyMap<string, DriveEntry>): DriveSpec {
  const image = driveById.get(d.image)?.option;
  if (image === undefined || image.driver !== 'image') throw new CliError(`${d.where}: Cannot find device='${d.image}' nor node-name='${d.image}'`);
  return { ...image, readOnly: image.readOnly || d.readOnly, snapshot: image.snapshot || d.snapshot };
}
