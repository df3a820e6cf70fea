/**
 * The virtio devices a run puts on the board, as the host opens them: what the command line
 * resolved (src/cli builds these values) and what the host's block, network and entropy
 * backends and the runner read. Types only; defined here so that nothing below src/cli
 * imports from it.
 */
import type { ImageFormat } from '../../block/index.js';
import type { CacheMode } from './block/block-backend.js';
import type { EntropySource } from './rng/entropy-backend.js';

/** Where a drive is connected: `none` (a `-device` refers to it) or `virtio` (an implicit virtio-blk-device). */
export type DriveInterface = 'none' | 'virtio';

/** What every drive has. */
export interface DriveCommon {
  /** The option as given, `-drive TEXT`, for messages. */
  readonly where: string;
  /** `id=`; without it the resolver names the drive as QEMU does (`none0`, `virtio1`, ...). */
  readonly id?: string;
  /** `if=`; QEMU's default on riscv `virt` is none (its block_default_type is IF_NONE). */
  readonly interface: DriveInterface;
  readonly readOnly: boolean;
  /** `snapshot=on`, or `-snapshot` once resolved: writes go to a temporary overlay. */
  readonly snapshot: boolean;
  readonly cache: CacheMode;
}

/** A disk image file: what the host block backend opens (`openBlockBackend(spec)`). */
export interface DriveSpec extends DriveCommon {
  readonly driver: 'image';
  readonly file: string;
  /**
   * `format=` or `driver=` (`file` is raw); without it the format is probed from the file, as
   * QEMU does (a probed raw image gets QEMU's warning and its sector-0 restriction).
   */
  readonly format?: ImageFormat;
}

/** One `hostfwd=` rule of a user-mode network. */
export interface HostForward {
  readonly protocol: 'tcp' | 'udp';
  /** The host address to bind: '0.0.0.0' (every interface, as QEMU) when the rule leaves it empty. */
  readonly hostAddr: string;
  /** 0..65535 (0: any free port). */
  readonly hostPort: number;
  /** The guest address; undefined means the guest's DHCP address (10.0.2.15), as QEMU. */
  readonly guestAddr?: string;
  /** 1..65535. */
  readonly guestPort: number;
  /** The rule as written, for messages. */
  readonly rule: string;
}

/** A `-netdev`. */
export type NetdevSpec =
  | {
    readonly type: 'user';
    /** The option as given, `-netdev TEXT`, for messages. */
    readonly where: string;
    readonly id: string;
    /** In command-line order. */
    readonly hostfwd: readonly HostForward[];
  }
  | {
    readonly type: 'socket';
    readonly where: string;
    readonly id: string;
    /** `listen=` (a server for one peer) or `connect=`. */
    readonly mode: 'listen' | 'connect';
    /** '' when the option leaves it empty: QEMU then listens on every interface / connects to 0.0.0.0. */
    readonly host: string;
    readonly port: number;
  };

/** `-object filter-replay,...`: record/replay's network filter (parsed; record/replay will use it). */
export interface FilterReplaySpec {
  readonly type: 'filter-replay';
  /** The option as given, `-object TEXT`, for messages. */
  readonly where: string;
  readonly id: string;
  /** The `-netdev` id it filters. */
  readonly netdev: string;
  readonly queue: 'all' | 'rx' | 'tx';
  /** `status=on|off`: whether the filter is enabled (default on). */
  readonly status: boolean;
}

/** Where a virtio-rng device's entropy comes from. */
export type RngSource = EntropySource;

/** What every planned device has. */
interface PlanCommon {
  /**
   * The virtio-mmio slot: transport `slot` at 0x10001000 + slot * 0x1000, PLIC source 1 + slot.
   * As QEMU, a device without `bus=` takes the free slot with the HIGHEST address: qbus_realize()
   * prepends each new virtio-mmio bus to the list qbus_find_recursive() searches, so the first
   * device lands in slot 7 (0x10008000), the next in slot 6, and so on.
   */
  readonly slot: number;
  /** The option that created the device (the `-device`, or the `-drive ...,if=virtio`), for messages. */
  readonly where: string;
  /** The `-device` id, if any. */
  readonly id?: string;
}

/** A virtio device to put on the board. */
export type VirtioDevicePlan =
  | PlanCommon & {
    readonly kind: 'blk';
    /** The image to open (`openBlockBackend(drive)`), `-snapshot` folded in. */
    readonly drive: DriveSpec;
    /** The drive id the device names (the blkreplay drive's, with blkreplay). */
    readonly driveId: string;
    readonly serial?: string;
    /** The image is reached through `driver=blkreplay` (record/replay logs its requests). */
    readonly blkreplay: boolean;
  }
  | PlanCommon & {
    readonly kind: 'net';
    readonly netdev: NetdevSpec;
    /** Given, or QEMU's default 52:54:00:12:34:56 + n for the n-th NIC without one. */
    readonly mac: string;
    /** A `-object filter-replay` on the netdev. */
    readonly replayFilter?: FilterReplaySpec;
  }
  | PlanCommon & {
    readonly kind: 'rng';
    readonly source: RngSource;
    /** The `-object` (or, for the default rng-builtin, the `-device`) that chose the source. */
    readonly sourceWhere: string;
  };
